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

	"github.com/refinery/refinery-worker/adapters/regfile"
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

	// Seq is the order of the record in this outbox, assigned by Add.
	Seq       uint64    `json:"seq"`
	CreatedAt time.Time `json:"created_at"`

	file uint64 // the batch file holding the record
}

type diskHeader struct {
	*Record
	Len int `json:"len"`
}

const (
	pendingDir     = "pending"
	deadLetterFile = "dead-letter.jsonl"
	tmpPrefix      = ".tmp-"
	recSuffix      = ".rec"
)

// Each Add writes one batch file, pending/<n>.rec, holding its records in
// order, each as a JSON header line (with the body length) followed by the
// body and a newline. A batch file is removed when its last record is
// delivered or dead-lettered; after a crash, the records of a partly
// delivered batch are delivered again (their idempotency keys let the
// control-plane recognise them).
func recName(n uint64) string { return fmt.Sprintf("%020d%s", n, recSuffix) }

// writeBatch writes recs as batch file n: temp file, fsync, rename, fsync of
// the directory.
func writeBatch(dir string, n uint64, recs []*Record) error {
	var buf bytes.Buffer
	for _, r := range recs {
		hdr, err := json.Marshal(diskHeader{Record: r, Len: len(r.Body)})
		if err != nil {
			return fmt.Errorf("encode record header: %w", err)
		}
		buf.Write(hdr)
		buf.WriteByte('\n')
		buf.Write(r.Body)
		buf.WriteByte('\n')
	}
	tmp := filepath.Join(dir, tmpPrefix+recName(n))
	f, err := regfile.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("create batch: %w", err)
	}
	_, err = f.Write(buf.Bytes())
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(dir, recName(n)))
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("write batch %d: %w", n, err)
	}
	return regfile.SyncDir(dir)
}

// batchFiles lists the batch file numbers in dir, ascending, and removes
// leftovers of interrupted writes.
func batchFiles(dir string) ([]uint64, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read outbox: %w", err)
	}
	var out []uint64
	for _, e := range ents {
		name := e.Name()
		if strings.HasPrefix(name, tmpPrefix) {
			_ = os.Remove(filepath.Join(dir, name))
			continue
		}
		if !strings.HasSuffix(name, recSuffix) {
			continue
		}
		if n, err := strconv.ParseUint(strings.TrimSuffix(name, recSuffix), 10, 64); err == nil {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out, nil
}

// errCorrupt marks a batch file that cannot be parsed.
var errCorrupt = errors.New("corrupt batch file")

// loadBatch reads the records of batch file n, in order.
func loadBatch(dir string, n uint64) ([]*Record, error) {
	b, err := regfile.ReadFile(filepath.Join(dir, recName(n)))
	if err != nil {
		return nil, fmt.Errorf("read batch %d: %w", n, err)
	}
	var out []*Record
	for len(b) > 0 {
		hdrLine, rest, ok := bytes.Cut(b, []byte("\n"))
		var r Record
		h := diskHeader{Record: &r}
		if !ok || json.Unmarshal(hdrLine, &h) != nil || h.Len < 0 || h.Len+1 > len(rest) || r.Key == "" {
			return nil, fmt.Errorf("batch %d: %w", n, errCorrupt)
		}
		r.Body = bytes.Clone(rest[:h.Len])
		r.file = n
		out = append(out, &r)
		b = rest[h.Len+1:]
	}
	return out, nil
}

// quarantine moves a corrupt batch file out of the way (into corruptDir) so
// that it neither blocks the start nor gets lost.
func quarantine(dir string, n uint64, corruptDir string) error {
	if err := os.MkdirAll(corruptDir, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", corruptDir, err)
	}
	dst := filepath.Join(corruptDir, fmt.Sprintf("%d-%s", time.Now().UnixNano(), recName(n)))
	if err := os.Rename(filepath.Join(dir, recName(n)), dst); err != nil {
		return fmt.Errorf("quarantine batch %d: %w", n, err)
	}
	return nil
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
	f, err := regfile.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
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
	f, err := regfile.Open(path)
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
	b, err := regfile.ReadFile(filepath.Join(dir, deadLetterFile))
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
