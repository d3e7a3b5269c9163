package outbox

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Record is one delivery to make: an HTTP call with a body encoded when the
// report was made (so what is on disk is exactly what will be sent).
type Record struct {
	// Key is the idempotency key, sent as Idempotency-Key. Required. A record
	// whose key is already pending is not added again.
	Key string `json:"key"`
	// Group orders delivery: records of one group (a correlation id) are
	// delivered one at a time, in the order they were added.
	Group string `json:"group"`
	// Kind names the report (manifest, log, event, build_status, plan) for
	// logs and dead letters.
	Kind        string `json:"kind"`
	Method      string `json:"method"`
	Path        string `json:"path"`
	ContentType string `json:"content_type,omitempty"`
	Body        []byte `json:"-"`

	// Seq is the global order, assigned by Add.
	Seq       uint64    `json:"seq"`
	CreatedAt time.Time `json:"created_at"`
}

const (
	pendingDir     = "pending"
	deadLetterFile = "dead-letter.jsonl"
	tmpPrefix      = ".tmp-"
	recSuffix      = ".rec"
)

func recName(seq uint64) string { return fmt.Sprintf("%020d%s", seq, recSuffix) }

// writeRecords writes each record as header line + body to a temp file,
// fsyncs it, renames it into place, then fsyncs the directory once.
func writeRecords(dir string, recs []*Record) error {
	for _, r := range recs {
		hdr, err := json.Marshal(r)
		if err != nil {
			return fmt.Errorf("encode record header: %w", err)
		}
		tmp := filepath.Join(dir, tmpPrefix+recName(r.Seq))
		f, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
		if err != nil {
			return fmt.Errorf("create record: %w", err)
		}
		_, err = f.Write(append(append(hdr, '\n'), r.Body...))
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Rename(tmp, filepath.Join(dir, recName(r.Seq)))
		}
		if err != nil {
			_ = os.Remove(tmp)
			return fmt.Errorf("write record %d: %w", r.Seq, err)
		}
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open dir for sync: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync dir: %w", err)
	}
	return nil
}

// loadRecords reads every pending record in seq order and removes leftovers
// of interrupted writes.
func loadRecords(dir string) ([]*Record, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read outbox: %w", err)
	}
	var out []*Record
	for _, e := range ents {
		name := e.Name()
		if strings.HasPrefix(name, tmpPrefix) {
			_ = os.Remove(filepath.Join(dir, name))
			continue
		}
		if !strings.HasSuffix(name, recSuffix) {
			continue
		}
		seq, err := strconv.ParseUint(strings.TrimSuffix(name, recSuffix), 10, 64)
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("read record %s: %w", name, err)
		}
		hdr, body, ok := bytes.Cut(b, []byte("\n"))
		var r Record
		if !ok || json.Unmarshal(hdr, &r) != nil {
			return nil, fmt.Errorf("record %s is corrupt", name)
		}
		r.Body = body
		r.Seq = seq // the file name wins: adoption renames files
		out = append(out, &r)
	}
	slices.SortFunc(out, func(a, b *Record) int {
		switch {
		case a.Seq < b.Seq:
			return -1
		case a.Seq > b.Seq:
			return 1
		}
		return 0
	})
	return out, nil
}

// DeadLetter is one line of dead-letter.jsonl.
type DeadLetter struct {
	Record Record    `json:"record"`
	Body   string    `json:"body"`
	Error  string    `json:"error"`
	Status int       `json:"status,omitempty"`
	Answer string    `json:"response,omitempty"`
	At     time.Time `json:"at"`
}

func appendDeadLetter(path string, dl DeadLetter) error {
	b, err := json.Marshal(dl)
	if err != nil {
		return fmt.Errorf("encode dead letter: %w", err)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("open dead letters: %w", err)
	}
	_, err = f.Write(append(b, '\n'))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write dead letter: %w", err)
	}
	return nil
}

func countLines(path string) (int, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("open dead letters: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 64<<20)
	n := 0
	for sc.Scan() {
		n++
	}
	return n, sc.Err()
}

// ReadDeadLetters returns the dead letters kept under dir (the outbox Dir).
func ReadDeadLetters(dir string) ([]DeadLetter, error) {
	b, err := os.ReadFile(filepath.Join(dir, deadLetterFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read dead letters: %w", err)
	}
	var out []DeadLetter
	for line := range bytes.SplitSeq(bytes.TrimSpace(b), []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		var dl DeadLetter
		if err := json.Unmarshal(line, &dl); err != nil {
			return nil, fmt.Errorf("decode dead letter: %w", err)
		}
		out = append(out, dl)
	}
	return out, nil
}
