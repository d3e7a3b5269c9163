package wheelaudit

import (
	"fmt"
	"path/filepath"
)

// AuditAndRetag is the whole step for one built wheel: Audit, Fits(target)
// and, when the verdict says a retag is all it takes, Retag. It returns the
// report of the wheel as delivered (file name and tags after any retag; its
// Metadata goes into the manifest), the verdict for target, and the wheel's
// path, which changes when it was retagged. A wheel that does not fit is
// left as it is. err is set only when the wheel cannot be read or
// rewritten; a wheel that does not fit is a Verdict, not an error.
func AuditAndRetag(path, target string) (*Report, Verdict, string, error) {
	rep, err := Audit(path)
	if err != nil {
		return nil, Verdict{}, path, err
	}
	v := rep.Fits(target)
	if !v.OK || len(v.RetagTo) == 0 {
		return rep, v, path, nil
	}
	newPath, err := Retag(path, v.RetagTo)
	if err != nil {
		return rep, v, path, err
	}
	if err := rep.retagged(filepath.Base(newPath)); err != nil {
		return rep, v, newPath, err
	}
	after := rep.Fits(target)
	if !after.OK {
		return rep, after, newPath, fmt.Errorf("retag wheel %s: does not fit %s after retagging: %s", rep.File, target, after.Error)
	}
	return rep, v, newPath, nil
}

// retagged updates the report for the wheel's new name, as Retag wrote it.
func (r *Report) retagged(name string) error {
	wn, err := parseWheelName(name)
	if err != nil {
		return err
	}
	r.File, r.name = name, wn
	r.FileTags = wn.triples()
	r.WheelTags = wn.triples()
	return nil
}
