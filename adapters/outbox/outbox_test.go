package outbox_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/refinery/refinery-worker/adapters/controlplane"
	"github.com/refinery/refinery-worker/adapters/controlplane/cpfake"
	"github.com/refinery/refinery-worker/adapters/outbox"
	"github.com/refinery/refinery-worker/pipeline"
	"github.com/refinery/refinery-worker/pipeline/redact"
)

// countingSender counts failed sends, so a test can wait for the outbox to
// have tried during an outage without sleeping.
type countingSender struct {
	next     outbox.Sender
	failures atomic.Int64
}

func (c *countingSender) Send(ctx context.Context, req controlplane.Request) ([]byte, error) {
	b, err := c.next.Send(ctx, req)
	if err != nil {
		c.failures.Add(1)
	}
	return b, err
}

var quiet = slog.New(slog.DiscardHandler)

func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond) // polling interval, not synchronisation
	}
}

func newClient(t *testing.T, url string) *controlplane.Client {
	t.Helper()
	c, err := controlplane.New(controlplane.Options{BaseURL: url, Token: "tok", RequestTimeout: 2 * time.Second,
		MaxAttempts: 2, BaseBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func openBox(t *testing.T, dir string, s outbox.Sender) *outbox.Outbox {
	t.Helper()
	box, err := outbox.Open(outbox.Options{Dir: dir, Sender: s, MinBackoff: 2 * time.Millisecond, MaxBackoff: 20 * time.Millisecond, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	return box
}

func run(box *outbox.Outbox) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = box.Run(ctx); close(done) }()
	return func() { cancel(); <-done }
}

func work(t *testing.T, dir string, i int, leased bool) *pipeline.Work {
	name := fmt.Sprintf("pkg%03d", i)
	logPath := filepath.Join(dir, name+".log")
	if err := os.WriteFile(logPath, []byte("building "+name+"\nsecret: s3cr3t-value\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	it := pipeline.Item{Package: name, Version: "1.0", Attempts: 1}
	if leased {
		it.Extra = map[string]json.RawMessage{outbox.LeaseField: json.RawMessage(`{"source":"control-plane"}`)}
	}
	return &pipeline.Work{CorrelationID: "corr-" + name, Claim: "claim-" + name,
		Request: &pipeline.Request{Item: it, Name: name, Version: "1.0"},
		Outcome: &pipeline.Outcome{Detail: "exit 1 with s3cr3t-value", LogPath: logPath, Entry: pipeline.ManifestEntry{
			Name: name, Version: "1.0", Status: pipeline.StatusFailed, PythonTag: "cp311", PlatformTag: "manylinux2014_s390x",
			Metadata: map[string]any{"duration_ms": 1234, "run_id": "r-1", "error": "exit 1"}}}}
}

func TestOutageRestartExactlyOnce(t *testing.T) {
	fake := cpfake.New(cpfake.Options{Token: "tok"})
	ts, err := cpfake.Listen(fake, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ts.Listener.Addr().String()
	dir, logs := t.TempDir(), t.TempDir()
	const n = 100
	for i := range 2 * n {
		if i%4 == 0 {
			fake.AddBuilds(cpfake.Build{Package: fmt.Sprintf("pkg%03d", i), Version: "1.0"})
		}
	}
	sender := &countingSender{next: newClient(t, ts.URL)}
	red := redact.New("s3cr3t-value")

	// Phase 1: the control-plane resets a few connections, then answers 500.
	fake.FailNext(cpfake.FailReset, 10)
	fake.SetFailure(cpfake.Fail500)
	box := openBox(t, dir, sender)
	rep, _ := outbox.NewReporter(outbox.ReporterOptions{Outbox: box, Redactor: red})
	stop := run(box)
	for i := range n {
		if err := rep.Report(context.Background(), work(t, logs, i, i%4 == 0)); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "500s", 10*time.Second, func() bool { return sender.failures.Load() >= 10 })

	// Phase 2: it refuses connections; the worker restarts meanwhile.
	ts.Close()
	before := sender.failures.Load()
	waitFor(t, "refused connections", 10*time.Second, func() bool { return sender.failures.Load() >= before+5 })
	stop()
	_ = box.Close() // what the death of the process does to its lock
	backlog := box.Backlog()
	if want := 3*n + n/4; backlog != want {
		t.Fatalf("backlog before restart = %d, want %d", backlog, want)
	}
	box = openBox(t, dir, sender)
	if box.Backlog() != backlog {
		t.Fatalf("backlog after restart = %d, want %d", box.Backlog(), backlog)
	}
	rep, _ = outbox.NewReporter(outbox.ReporterOptions{Outbox: box, Redactor: red})
	stop = run(box)
	defer func() { stop() }()
	for i := n; i < 2*n; i++ {
		if err := rep.Report(context.Background(), work(t, logs, i, i%4 == 0)); err != nil {
			t.Fatal(err)
		}
	}
	before = sender.failures.Load()
	waitFor(t, "refused connections after restart", 10*time.Second, func() bool { return sender.failures.Load() >= before+5 })

	// Phase 3: it comes back.
	fake.SetFailure(cpfake.FailNone)
	ts, err = cpfake.Listen(fake, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer ts.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := box.WaitEmpty(ctx); err != nil {
		t.Fatal(err)
	}
	// Re-reporting delivered outcomes (a redelivery after a crash) is absorbed.
	for i := range 5 {
		if err := rep.Report(context.Background(), work(t, logs, i, i%4 == 0)); err != nil {
			t.Fatal(err)
		}
	}
	if err := box.WaitEmpty(ctx); err != nil {
		t.Fatal(err)
	}

	count := map[string]int{}
	for _, m := range fake.Manifest() {
		count["m "+m.Name]++
		if m.PythonTag != "cp311" || m.PlatformTag != "manylinux2014_s390x" {
			t.Errorf("manifest %s stored without tags: %+v", m.Name, m)
		}
	}
	for _, l := range fake.FullLogs() {
		count["l "+l.Name]++
		if strings.Contains(l.Content, "s3cr3t-value") || !strings.Contains(l.Content, "[REDACTED]") {
			t.Errorf("log of %s not redacted: %q", l.Name, l.Content)
		}
	}
	for _, e := range fake.Events() {
		count["e "+e.Name]++
		if e.RunID != "r-1" || e.Metadata["duration_ms"] != float64(1234) || strings.Contains(e.Detail, "s3cr3t") {
			t.Errorf("event %+v", e)
		}
	}
	for _, s := range fake.BuildStatuses() {
		count["s "+s.Package]++
		if s.Status != "failed" || s.Error == "" {
			t.Errorf("build status %+v", s)
		}
	}
	for i := range 2 * n {
		name := fmt.Sprintf("pkg%03d", i)
		kinds := []string{"m", "l", "e"}
		if i%4 == 0 {
			kinds = append(kinds, "s")
		}
		for _, k := range kinds {
			if count[k+" "+name] != 1 {
				t.Errorf("%s %s stored %d times, want once", k, name, count[k+" "+name])
			}
		}
	}
	if u := fake.UnknownBuildStatuses(); len(u) != 0 {
		t.Errorf("statuses for builds that were not leased: %+v", u)
	}
	if fake.Duplicates() < 15 {
		t.Errorf("duplicates absorbed = %d, want >= 15", fake.Duplicates())
	}
	entries, _ := filepath.Glob(filepath.Join(dir, "instances", "*", "pending", "*.rec"))
	if box.Backlog() != 0 || len(entries) != 0 || box.DeadLetters() != 0 {
		t.Errorf("backlog %d, files %d, dead %d after delivery", box.Backlog(), len(entries), box.DeadLetters())
	}
}

func TestOrderPerGroupAndDeadLetter(t *testing.T) {
	fake := cpfake.New(cpfake.Options{})
	ts, err := cpfake.Listen(fake, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ts.Close()
	dir := t.TempDir()
	box := openBox(t, dir, newClient(t, ts.URL))
	fake.FailNext(cpfake.Fail500, 3)
	ctx := context.Background()
	var recs []outbox.Record
	for i := range 6 {
		body := fmt.Sprintf(`{"name":"a","version":"1","status":"built","detail":"%d"}`, i)
		path := "/api/history"
		if i == 2 {
			path, body = "/api/manifest", "[]" // rejected for good: 400
		}
		recs = append(recs, outbox.Record{Key: fmt.Sprintf("k%d", i), Group: "g", Kind: "event", Path: path, Body: []byte(body)})
	}
	if err := box.Add(ctx, recs...); err != nil {
		t.Fatal(err)
	}
	if err := box.Add(ctx, recs[0]); err != nil || box.Backlog() != 6 {
		t.Fatalf("pending key added twice: backlog %d, %v", box.Backlog(), err)
	}
	stop := run(box)
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := box.WaitEmpty(wctx); err != nil {
		t.Fatal(err)
	}
	stop()
	var details []string
	for _, e := range fake.Events() {
		details = append(details, e.Detail)
	}
	if got := strings.Join(details, ","); got != "0,1,3,4,5" {
		t.Errorf("events in order %s, want 0,1,3,4,5", got)
	}
	if st := box.Stats(); st.DeadLetters != 1 || st.Delivered != 5 || st.Failures < 1 || st.Backlog != 0 || st.Waiting != 0 {
		t.Fatalf("stats = %+v", st)
	}
	dls, err := outbox.ReadDeadLetters(dir)
	if err != nil || len(dls) != 1 || dls[0].Status != 400 || !strings.Contains(dls[0].Answer, "empty") || dls[0].Body != "[]" {
		t.Fatalf("dead letters = %+v, %v", dls, err)
	}
	if reopened := openBox(t, dir, nil); reopened.DeadLetters() != 1 || reopened.Backlog() != 0 {
		t.Errorf("after reopen: dead %d backlog %d", reopened.DeadLetters(), reopened.Backlog())
	}
}

func TestReporterWithoutLeaseSendsNoBuildStatus(t *testing.T) {
	dir := t.TempDir()
	box := openBox(t, dir, nil)
	rep, err := outbox.NewReporter(outbox.ReporterOptions{Outbox: box})
	if err != nil {
		t.Fatal(err)
	}
	w := work(t, t.TempDir(), 1, false)
	w.Outcome.LogPath = ""
	if err := rep.Report(context.Background(), w); err != nil {
		t.Fatal(err)
	}
	if box.Backlog() != 3 {
		t.Fatalf("backlog = %d, want manifest+log+event", box.Backlog())
	}
	// The same outcome again adds nothing.
	if err := rep.Report(context.Background(), w); err != nil || box.Backlog() != 3 {
		t.Fatalf("re-report: backlog %d, %v", box.Backlog(), err)
	}
}

func TestOutcomeWithoutVersionIsDelivered(t *testing.T) {
	fake := cpfake.New(cpfake.Options{})
	ts, err := cpfake.Listen(fake, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ts.Close()
	box := openBox(t, t.TempDir(), newClient(t, ts.URL))
	defer box.Close()
	rep, _ := outbox.NewReporter(outbox.ReporterOptions{Outbox: box})
	w := &pipeline.Work{Claim: "c", Outcome: &pipeline.Outcome{Detail: "no plan",
		Entry: pipeline.ManifestEntry{Name: "charset-normalizer", Status: pipeline.StatusFailed}}}
	if err := rep.Report(context.Background(), w); err != nil {
		t.Fatal(err)
	}
	stop := run(box)
	defer stop()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := box.WaitEmpty(ctx); err != nil {
		t.Fatal(err)
	}
	if box.DeadLetters() != 0 || len(fake.Events()) != 1 || len(fake.FullLogs()) != 1 || len(fake.Manifest()) != 1 {
		t.Fatalf("dead %d, events %d, logs %d", box.DeadLetters(), len(fake.Events()), len(fake.FullLogs()))
	}
}
