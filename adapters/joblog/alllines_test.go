package joblog_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/refinery/refinery-worker/adapters/joblog"
	"github.com/refinery/refinery-worker/handlers"
	"github.com/refinery/refinery-worker/pipeline"
)

// A closed log gives its file's lines from memory exactly when it holds
// them all, and then they are the file's lines.
func TestAllLinesMatchesTheFile(t *testing.T) {
	long := strings.Repeat("x", 5<<10)
	tests := []struct {
		name   string
		opts   []joblog.Option
		writes []string
		limit  int64
		ok     bool
	}{
		{"lines", nil, []string{"a\nb\n"}, 1 << 20, true},
		{"split writes, unterminated last", nil, []string{"he", "llo\nwor", "ld"}, 1 << 20, true},
		{"blank lines, trailing ones dropped", nil, []string{"\n\nx\n\ny\n\n\n"}, 1 << 20, true},
		{"crlf kept", nil, []string{"a\r\nb\r\n"}, 1 << 20, true},
		{"as many lines as the tail", []joblog.Option{joblog.WithTailLines(3)}, []string{"1\n2\n3\n"}, 1 << 20, true},
		{"more lines than the tail", []joblog.Option{joblog.WithTailLines(3)}, []string{"1\n2\n3\n4\n"}, 1 << 20, false},
		{"a line shortened in memory", nil, []string{"a\n" + long + "\nb\n"}, 1 << 20, false},
		{"bytes cut by the size cap", []joblog.Option{joblog.WithMaxBytes(1 << 10)}, []string{strings.Repeat("line\n", 400)}, 1 << 20, false},
		{"more bytes than the limit", nil, []string{"0123456789\n"}, 10, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := joblog.NewOpener(filepath.Join(t.TempDir(), "logs"), tc.opts...)
			jl, err := o.OpenJobLog(context.Background(), pipeline.Job{ID: "j", Name: "a", Version: "1", Attempt: 1})
			if err != nil {
				t.Fatal(err)
			}
			w := jl.(handlers.WholeLog)
			for _, s := range tc.writes {
				_, _ = jl.Write([]byte(s))
			}
			if _, ok := w.AllLines(tc.limit); ok {
				t.Fatal("AllLines ok before Close")
			}
			if _, err := jl.Close(); err != nil {
				t.Fatal(err)
			}
			got, ok := w.AllLines(tc.limit)
			if ok != tc.ok {
				t.Fatalf("AllLines ok = %v, want %v", ok, tc.ok)
			}
			if !ok {
				return
			}
			b, err := os.ReadFile(jl.Path())
			if err != nil {
				t.Fatal(err)
			}
			want := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
			if strings.Join(got, "\n") != strings.Join(want, "\n") || len(got) != len(want) {
				t.Errorf("AllLines = %q, file lines %q", got, want)
			}
		})
	}
}

// The lines of a redacted log come masked, as its file holds them.
func TestAllLinesOfARedactedLogAreMasked(t *testing.T) {
	jl := closedRedactedLog(t)
	w, ok := jl.(handlers.WholeLog)
	if !ok {
		t.Fatal("redacted job log does not offer AllLines (handlers.WholeLog)")
	}
	lines, ok := w.AllLines(1 << 20)
	if !ok || strings.Join(lines, "\n") != "error: token [REDACTED] rejected" {
		t.Errorf("AllLines = %q, %v", lines, ok)
	}
}
