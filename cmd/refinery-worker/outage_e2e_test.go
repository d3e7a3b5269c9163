package main

import (
	"syscall"
	"testing"
	"time"

	"github.com/refinery/refinery-worker/adapters/controlplane/cpfake"
)

// The control-plane answers 500 and then refuses connections for 30 s in
// the middle of a 200-item drain, and the worker is SIGKILLed and restarted
// during that time. Afterwards the control-plane has every report exactly
// once per outcome and the outbox is empty. Runs with REFINERY_SCALE=1.
func TestControlPlaneOutageLosesNoReport(t *testing.T) {
	requireScale(t) // a 30 s outage by design: a chaos test
	fake := cpfake.New(cpfake.Options{})
	srv, err := cpfake.Listen(fake, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := srv.Listener.Addr().String()
	e := newEnv(t)
	names := pkgNames("outage", 200)
	e.writePlan(t, names)
	e.writeQueue(t, items(names...))
	for k, v := range map[string]string{"CONTROL_PLANE_URL": "http://" + addr, "BATCH_SIZE": "1000",
		"BUILD_CONCURRENCY": "4", "STUB_DELAY_MAX": "100ms"} {
		e.vars[k] = v
	}
	p := e.serve(t)
	eventually(t, 60*time.Second, "the first outcomes reported", func() bool { return len(fake.Manifest()) >= 20 })

	outage := time.Now()
	fake.SetFailure(cpfake.Fail500)
	eventually(t, 60*time.Second, "more outcomes recorded during the 500s", func() bool {
		return len(e.manifest(t))+len(journalLines(t, e.out)) >= 80
	})
	srv.Close() // now connections are refused
	_ = p.cmd.Process.Kill()
	_ = p.cmd.Wait()
	p = e.serve(t)
	eventually(t, 120*time.Second, "every item recorded locally while the control-plane is down", func() bool {
		return len(e.manifest(t)) >= len(names)
	})
	if d := 30*time.Second - time.Since(outage); d > 0 {
		time.Sleep(d) // the outage lasts 30 s, as the issue says; nothing waits on it
	}
	fake.SetFailure(cpfake.FailNone)
	srv, err = cpfake.Listen(fake, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	eventually(t, 120*time.Second, "the outbox to empty", func() bool {
		_, st := get(t, p.url("/status"))
		return st["outbox_backlog"] == float64(0) && len(fake.Manifest()) >= len(names)
	})
	p.stop(t, syscall.SIGTERM)

	manifest, events, logs := map[string]int{}, map[string]int{}, map[string]int{}
	for _, m := range fake.Manifest() {
		manifest[m.Name]++
	}
	for _, ev := range fake.Events() {
		events[ev.Name]++
	}
	for _, l := range fake.FullLogs() {
		logs[l.Name]++
	}
	for _, n := range names {
		if manifest[n] != 1 || events[n] != 1 || logs[n] != 1 {
			t.Errorf("%s: %d manifest entries, %d events, %d full logs at the control-plane; want 1 each", n, manifest[n], events[n], logs[n])
		}
	}
	t.Logf("duplicate deliveries absorbed by idempotency keys: %d", fake.Duplicates())
}
