package reporting_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/refinery/refinery-worker/adapters/controlplane/cpfake"
	"github.com/refinery/refinery-worker/adapters/controlplane/reporting"
	"github.com/refinery/refinery-worker/pipeline"
)

func TestStack(t *testing.T) {
	fake := cpfake.New(cpfake.Options{Token: "tok-123456"})
	ts, err := cpfake.Listen(fake, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ts.Close()
	dir := t.TempDir()
	s, err := reporting.New(reporting.Options{URL: ts.URL, Token: "tok-123456", CacheDir: dir,
		Secrets: []string{"tok-123456"}, HeartbeatInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	s.Start(context.Background())
	logPath := filepath.Join(dir, "job.log")
	_ = os.WriteFile(logPath, []byte("using tok-123456\n"), 0o600)
	sink := s.Sink(context.Background(), pipeline.Job{Name: "six", Version: "1.16.0", RunID: "r", Attempt: 1})
	sink.Line(1, []byte("hello tok-123456"), time.Now())
	meta := sink.Close()
	w := &pipeline.Work{Claim: "c1", CorrelationID: "k1", Outcome: &pipeline.Outcome{LogPath: logPath,
		Entry: pipeline.ManifestEntry{Name: "six", Version: "1.16.0", Status: pipeline.StatusBuilt, PythonTag: "py3", Metadata: meta}}}
	if err := s.Reporter.Report(context.Background(), w); err != nil {
		t.Fatal(err)
	}
	if left := s.Stop(20 * time.Second); left != 0 {
		t.Fatalf("%d records left", left)
	}
	if m := fake.Manifest(); len(m) != 1 || m[0].PythonTag != "py3" {
		t.Fatalf("manifest = %+v", m)
	}
	if l := fake.FullLogs(); len(l) != 1 || l[0].Content != "using [REDACTED]\n" {
		t.Fatalf("logs = %+v", l)
	}
	lines := fake.StreamLines(cpfake.StreamKey{Name: "six", Version: "1.16.0", RunID: "r", Attempt: "1"})
	if len(lines) != 1 || lines[0].Content != "hello [REDACTED]" || meta["lines_streamed"] != int64(1) {
		t.Fatalf("stream = %+v, meta %v", lines, meta)
	}
	if e := fake.Events(); len(e) != 1 || e[0].Metadata["lines_streamed"] != float64(1) {
		t.Fatalf("events = %+v", e)
	}
}
