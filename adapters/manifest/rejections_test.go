package manifest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/refinery/refinery-worker/pipeline"
)

// bigItem is a queue item of n bytes or more (a recipe value n bytes long).
func bigItem(n int) []byte {
	return []byte(`{"package":"big","version":"1.0","recipes":["pip:` + strings.Repeat("a", n) + `"]}`)
}

func rejectionLines(t *testing.T, path string) []Rejection {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []Rejection
	for _, l := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
		if len(l) > 2*MaxRawKept {
			t.Errorf("a line of %d bytes, more than twice the %d kept of a raw item", len(l), MaxRawKept)
		}
		var r Rejection
		if err := json.Unmarshal(l, &r); err != nil {
			t.Fatalf("line does not parse: %v", err)
		}
		out = append(out, r)
	}
	return out
}

// An item of 17 MiB is recorded with a bounded prefix, its size and its
// sha256; the worker opens the file again and knows its claim.
func TestRejectionsKeepABoundedPrefixOfOversizedItems(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rejected.jsonl")
	r, err := OpenRejections(path)
	if err != nil {
		t.Fatal(err)
	}
	raw := bigItem(17 << 20)
	sum := sha256.Sum256(raw)
	w := &pipeline.Work{Claim: "c-big", CorrelationID: "corr", Raw: raw,
		Rejection: &pipeline.Rejection{Field: "recipes[0]", Reason: strings.Repeat("x", 1<<20), At: time.Now()}}
	if err := r.RecordRejection(context.Background(), w); err != nil {
		t.Fatal(err)
	}
	small := &pipeline.Work{Claim: "c-small", Raw: []byte(`{"package":""}`), Rejection: &pipeline.Rejection{Field: "package", Reason: "empty"}}
	if err := r.RecordRejection(context.Background(), small); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	lines := rejectionLines(t, path)
	if len(lines) != 2 {
		t.Fatalf("%d lines, want 2", len(lines))
	}
	big := lines[0]
	if big.RawBytes != len(raw) || big.RawSHA256 != hex.EncodeToString(sum[:]) || !big.RawTruncated ||
		!strings.HasPrefix(string(raw), big.Raw) || len(big.Raw) > MaxRawKept {
		t.Errorf("oversized item recorded as raw_bytes=%d sha256=%s truncated=%v raw of %d bytes; want %d, %x, true, a prefix of at most %d",
			big.RawBytes, big.RawSHA256, big.RawTruncated, len(big.Raw), len(raw), sum, MaxRawKept)
	}
	if len(big.Reason) > MaxReasonKept+8 {
		t.Errorf("reason of %d bytes kept", len(big.Reason))
	}
	if lines[1].Raw != `{"package":""}` || lines[1].RawTruncated {
		t.Errorf("small item recorded as %+v, want its raw bytes whole", lines[1])
	}
	// Reopened: both claims known, nothing recorded twice.
	r2, err := OpenRejections(path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer r2.Close()
	for _, w := range []*pipeline.Work{w, small} {
		if err := r2.RecordRejection(context.Background(), w); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(rejectionLines(t, path)); n != 2 {
		t.Errorf("%d lines after recording the same claims again, want 2", n)
	}
}

// A file written before the bound (a line of 17 MiB holding the whole raw
// item) does not stop the worker from starting; its claims stay known.
func TestOpenRejectionsReadsLinesOfAnyLength(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rejected.jsonl")
	var buf bytes.Buffer
	for _, rej := range []Rejection{
		{Claim: "c-old-big", Raw: string(bigItem(17 << 20)), Field: "recipes[0]", Reason: "too long"},
		{Claim: "c-old-small", Raw: `{}`, Field: "package", Reason: "empty"},
	} {
		b, _ := json.Marshal(rej)
		buf.Write(append(b, '\n'))
	}
	buf.WriteString(`{"claim":"c-half`) // a crash mid-append
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := OpenRejections(path)
	if err != nil {
		t.Fatalf("OpenRejections: %v", err)
	}
	defer r.Close()
	for _, c := range []string{"c-old-big", "c-old-small"} {
		if !r.claims[c] {
			t.Errorf("claim %s not known after reopening", c)
		}
	}
	// The next record starts on a line of its own.
	if err := r.RecordRejection(context.Background(), &pipeline.Work{Claim: "c-new", Raw: []byte(`{}`),
		Rejection: &pipeline.Rejection{Field: "package", Reason: "empty"}}); err != nil {
		t.Fatal(err)
	}
	f, _ := os.Open(path)
	defer f.Close()
	rd := bufio.NewReader(f)
	var last string
	for {
		l, err := rd.ReadString('\n')
		if err != nil {
			break
		}
		last = l
	}
	var rej Rejection
	if err := json.Unmarshal([]byte(last), &rej); err != nil || rej.Claim != "c-new" {
		t.Errorf("last line %q does not parse as the new record: %v", last, err)
	}
}
