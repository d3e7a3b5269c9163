package logstream

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/refinery/refinery-worker/pipeline/redact"
)

// FuzzEncodeLine: every line becomes exactly one NDJSON record that decodes
// to the same seq and the line's content (secrets masked), whatever bytes the
// build printed.
func FuzzEncodeLine(f *testing.F) {
	for _, s := range []string{"", "hello\n", "a\r\n", "tok=s3cr3t-value here", "{\"seq\":1}\n", "\x00\xff\xfe", "line\nwith\nnewlines", strings.Repeat("x", 70000)} {
		f.Add(int64(1), []byte(s))
	}
	r := redact.New("s3cr3t-value")
	f.Fuzz(func(t *testing.T, seq int64, line []byte) {
		b := encodeLine(r, seq, line, time.Unix(1795721514, 0))
		if len(b) == 0 || b[len(b)-1] != '\n' || bytes.Count(b, []byte{'\n'}) != 1 {
			t.Fatalf("not one NDJSON line: %q", b)
		}
		var w wireLine
		if err := json.Unmarshal(b, &w); err != nil {
			t.Fatalf("record does not decode: %v: %q", err, b)
		}
		if w.Seq != seq || w.Timestamp != 1795721514 {
			t.Fatalf("seq/timestamp changed: %+v", w)
		}
		if strings.Contains(w.Content, "s3cr3t-value") {
			t.Fatalf("secret leaked: %q", w.Content)
		}
		want := string(r.Bytes(bytes.TrimRight(line, "\r\n")))
		if utf8.ValidString(want) && w.Content != want {
			t.Fatalf("content %q, want %q", w.Content, want)
		}
	})
}
