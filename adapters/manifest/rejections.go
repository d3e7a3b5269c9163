package manifest

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/refinery/refinery-worker/pipeline"
)

// Rejections appends refused intake items to OUTPUT_DIR/rejected.jsonl, one
// JSON object per line: the raw item (as a string), the field, the reason,
// the claim and the time. A claim already recorded is not recorded again.
type Rejections struct {
	mu     sync.Mutex
	f      *os.File
	claims map[string]bool
}

// Rejection is one line of rejected.jsonl.
type Rejection struct {
	Claim         string    `json:"claim"`
	CorrelationID string    `json:"correlation_id"`
	Raw           string    `json:"raw"`
	Field         string    `json:"field,omitempty"`
	Reason        string    `json:"reason"`
	At            time.Time `json:"at"`
}

// OpenRejections opens (creating) the file and indexes recorded claims.
func OpenRejections(path string) (*Rejections, error) {
	r := &Rejections{claims: map[string]bool{}}
	if f, err := os.Open(path); err == nil {
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 64*1024), 16<<20)
		for sc.Scan() {
			var rej Rejection
			if json.Unmarshal(sc.Bytes(), &rej) == nil && rej.Claim != "" {
				r.claims[rej.Claim] = true
			}
		}
		f.Close()
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("read rejections %s: %w", path, err)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("open rejections %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open rejections %s: %w", path, err)
	}
	r.f = f
	return r, nil
}

// RecordRejection appends one rejection (one write, so a crash never leaves
// half a line behind a later one).
func (r *Rejections) RecordRejection(_ context.Context, w *pipeline.Work) error {
	rej := Rejection{Claim: w.Claim, CorrelationID: w.CorrelationID, Raw: string(w.Raw), At: time.Now().UTC()}
	if w.Rejection != nil {
		rej.Field, rej.Reason = w.Rejection.Field, w.Rejection.Reason
		rej.At = w.Rejection.At
	}
	b, err := json.Marshal(rej)
	if err != nil {
		return fmt.Errorf("encode rejection: %w", err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if w.Claim != "" && r.claims[w.Claim] {
		return nil
	}
	if _, err := r.f.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("append rejection: %w", err)
	}
	if w.Claim != "" {
		r.claims[w.Claim] = true
	}
	return nil
}

// Close closes the file.
func (r *Rejections) Close() error { return r.f.Close() }
