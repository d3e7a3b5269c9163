package manifest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/refinery/refinery-worker/adapters/regfile"
	"github.com/refinery/refinery-worker/pipeline"
)

// Bounds of one rejected.jsonl line: an item can be as large as the queue
// file allows, but what is kept of it, and the reason, are not.
const (
	// MaxRawKept is the longest prefix of a raw item kept; a longer item is
	// recorded with raw_truncated, its size (raw_bytes) and raw_sha256.
	MaxRawKept = 64 << 10
	// MaxReasonKept bounds the reason text.
	MaxReasonKept = 4 << 10
)

// Rejections appends refused intake items to OUTPUT_DIR/rejected.jsonl, one
// JSON object per line: the raw item (as a string, cut to MaxRawKept), the
// field, the reason, the claim and the time. A claim already recorded is not
// recorded again.
type Rejections struct {
	mu     sync.Mutex
	f      *os.File
	claims map[string]bool
	// appended counts the lines written, synced how many of them Sync has
	// made durable.
	appended, synced uint64
}

// Rejection is one line of rejected.jsonl. Claim stays the first field: a
// reader can find it at the start of a line of any length.
type Rejection struct {
	Claim         string `json:"claim"`
	CorrelationID string `json:"correlation_id"`
	Raw           string `json:"raw"`
	// RawTruncated says Raw is only the first MaxRawKept bytes of the item;
	// RawBytes and RawSHA256 then describe the whole item.
	RawTruncated bool      `json:"raw_truncated,omitempty"`
	RawBytes     int       `json:"raw_bytes,omitempty"`
	RawSHA256    string    `json:"raw_sha256,omitempty"`
	Field        string    `json:"field,omitempty"`
	Reason       string    `json:"reason"`
	At           time.Time `json:"at"`
}

// OpenRejections opens (creating) the file and indexes recorded claims. Lines
// of any length are read (an earlier version kept whole items); a line a
// crash cut short is ended, so that the next record starts a line of its own.
func OpenRejections(path string) (*Rejections, error) {
	r := &Rejections{claims: map[string]bool{}}
	endsLine := true
	if f, err := regfile.Open(path); err == nil {
		endsLine, err = r.index(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("read rejections %s: %w", path, err)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("open rejections %s: %w", path, err)
	}
	f, err := regfile.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open rejections %s: %w", path, err)
	}
	if !endsLine {
		if _, err := f.Write([]byte("\n")); err != nil {
			f.Close()
			return nil, fmt.Errorf("end the cut line of %s: %w", path, err)
		}
	}
	r.f = f
	return r, nil
}

// index records the claim of every line of f. It reports whether the file
// is empty or ends with a newline.
func (r *Rejections) index(f io.Reader) (endsLine bool, err error) {
	rd := bufio.NewReaderSize(f, 64<<10)
	endsLine = true
	for {
		prefix, whole, complete, err := readLinePrefix(rd, 2*MaxRawKept)
		if len(prefix) > 0 {
			endsLine = complete
			if c := claimOf(prefix, whole); c != "" {
				r.claims[c] = true
			}
		}
		if errors.Is(err, io.EOF) {
			return endsLine, nil
		}
		if err != nil {
			return false, err
		}
	}
}

// readLinePrefix reads one line and returns at most its first limit bytes
// (without the newline), whether that is the whole line, and whether the line
// ended with a newline. Memory stays within limit whatever the line's length.
func readLinePrefix(rd *bufio.Reader, limit int) (prefix []byte, whole, complete bool, err error) {
	n := 0
	for {
		chunk, err := rd.ReadSlice('\n')
		n += len(chunk)
		if room := limit - len(prefix); room > 0 {
			prefix = append(prefix, chunk[:min(len(chunk), room)]...)
		}
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case err != nil: // io.EOF: a last line without newline, or nothing
			return prefix, n <= limit, false, err
		}
		prefix = bytes.TrimSuffix(prefix, []byte("\n"))
		return prefix, n-1 <= limit, true, nil
	}
}

// claimOf returns the claim of a line: decoded whole, or, for a line longer
// than what was read, from its first field.
func claimOf(line []byte, whole bool) string {
	if whole {
		var rej struct{ Claim string }
		if json.Unmarshal(line, &rej) == nil {
			return rej.Claim
		}
		return ""
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return ""
	}
	if t, err := dec.Token(); err != nil || t != "claim" {
		return ""
	}
	if t, err := dec.Token(); err == nil {
		if s, ok := t.(string); ok {
			return s
		}
	}
	return ""
}

// RecordRejection appends one rejection (one write, so a crash never leaves
// half a line behind a later one).
func (r *Rejections) RecordRejection(_ context.Context, w *pipeline.Work) error {
	rej := Rejection{Claim: w.Claim, CorrelationID: w.CorrelationID, At: time.Now().UTC()}
	rej.Raw = string(w.Raw)
	if len(w.Raw) > MaxRawKept {
		sum := sha256.Sum256(w.Raw)
		rej.Raw = cutUTF8(w.Raw, MaxRawKept)
		rej.RawTruncated, rej.RawBytes, rej.RawSHA256 = true, len(w.Raw), hex.EncodeToString(sum[:])
	}
	if w.Rejection != nil {
		rej.Field, rej.Reason = cutUTF8([]byte(w.Rejection.Field), 256), w.Rejection.Reason
		rej.At = w.Rejection.At
		if len(rej.Reason) > MaxReasonKept {
			rej.Reason = cutUTF8([]byte(rej.Reason), MaxReasonKept) + "…"
		}
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
	r.appended++
	if w.Claim != "" {
		r.claims[w.Claim] = true
	}
	return nil
}

// cutUTF8 returns at most the first n bytes of b, not splitting a character.
func cutUTF8(b []byte, n int) string {
	if len(b) <= n {
		return string(b)
	}
	b = b[:n]
	for i := 0; i < utf8.UTFMax && len(b) > 0; i++ {
		if r, size := utf8.DecodeLastRune(b); r != utf8.RuneError || size > 1 {
			break
		}
		b = b[:len(b)-1]
	}
	return string(b)
}

// Close closes the file.
func (r *Rejections) Close() error { return r.f.Close() }
