package logstream_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/refinery/refinery-worker/adapters/controlplane/cpfake"
	"github.com/refinery/refinery-worker/adapters/joblog"
	"github.com/refinery/refinery-worker/adapters/logstream"
	"github.com/refinery/refinery-worker/pipeline"
	"github.com/refinery/refinery-worker/pipeline/redact"
)

// TestWithJobLog wires the stream as the job log's sink, with the redacting
// writer in front of the log, as cmd/ does: lines arrive live with
// consecutive seq numbers while the build runs, a secret split across two
// writes is masked in the stream and in the local file, and the log's Close
// returns the stream's counts.
func TestWithJobLog(t *testing.T) {
	fake, c := setup(t, cpfake.Options{}, "")
	red := redact.New("s3cr3t-value")
	s := newStreamer(t, c, func(o *logstream.Options) { o.Redactor = red })
	opener := joblog.NewOpener(filepath.Join(t.TempDir(), "logs"),
		joblog.WithSinks(func(ctx context.Context, j pipeline.Job) joblog.LineSink { return s.Sink(ctx, j) }))
	jl, err := opener.OpenJobLog(context.Background(), job)
	if err != nil {
		t.Fatal(err)
	}
	w := redact.NewWriter(jl, red)
	for i := 1; i <= 200; i++ {
		if _, err := fmt.Fprintf(w, "line %d", i); err != nil {
			t.Fatal(err)
		}
		if i%50 == 0 {
			_, _ = w.Write([]byte(" token=s3cr3t"))
			_, _ = w.Write([]byte("-value"))
		}
		_, _ = w.Write([]byte("\n"))
		if i == 100 {
			waitFor(t, "lines while the build runs", func() bool { return len(fake.StreamLines(key)) >= 90 })
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	meta, err := jl.Close()
	if err != nil {
		t.Fatal(err)
	}
	lines := fake.StreamLines(key)
	if len(lines) != 200 {
		t.Fatalf("fake has %d lines", len(lines))
	}
	for i, l := range lines {
		if l.Seq != int64(i+1) || strings.Contains(l.Content, "s3cr3t") {
			t.Fatalf("line %d = %+v", i, l)
		}
	}
	if !strings.Contains(lines[49].Content, "[REDACTED]") {
		t.Errorf("line 50 = %q", lines[49].Content)
	}
	if meta[logstream.MetaLinesStreamed] != int64(200) || meta[logstream.MetaLinesUnsent] != int64(0) {
		t.Errorf("meta = %v", meta)
	}
	local, err := os.ReadFile(jl.Path())
	if err != nil || strings.Contains(string(local), "s3cr3t") || strings.Count(string(local), "[REDACTED]") != 4 {
		t.Errorf("local log not redacted (%v): %q", err, local)
	}
}
