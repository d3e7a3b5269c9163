package podman

import (
	"fmt"

	"github.com/refinery/refinery-worker/adapters/wheelaudit"
)

// WheelAudit is the Auditor of package wheelaudit: a read-only audit of the
// wheel on the host (tags, ELF machines, symbol versions, linked libraries
// against the manylinux policies) and an in-place retag.
type WheelAudit struct{}

var _ Auditor = WheelAudit{}

// Check audits the wheel at path and says whether it fits target.
func (WheelAudit) Check(path, target string) (Verdict, error) {
	rep, err := wheelaudit.Audit(path)
	if err != nil {
		return Verdict{}, fmt.Errorf("audit: %w", err)
	}
	v := rep.Fits(target)
	return Verdict{OK: v.OK, Reason: v.Reason, Error: v.Error, RetagTo: v.RetagTo, NeedsRepair: v.NeedsRepair,
		Metadata: rep.Metadata()}, nil
}

// Retag rewrites the wheel's platform tags (wheelaudit.Retag).
func (WheelAudit) Retag(path string, platformTags []string) (string, error) {
	return wheelaudit.Retag(path, platformTags)
}
