package main

import (
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A failed build with REQUEUE_ON_FAILURE goes back with attempts+1, a
// not_before in the future and its unknown fields; the manifest says retry.
// With no attempts left it is terminal.
func TestFailedJobIsRequeuedWithBackoff(t *testing.T) {
	e := newEnv(t)
	e.writePlan(t, []string{"flaky", "spent"})
	e.writeQueue(t, []json.RawMessage{
		json.RawMessage(`{"package":"flaky","version":"1.0","attempts":0,"x_origin":"ui","x_nested":{"a":[1,2]}}`),
		json.RawMessage(`{"package":"spent","version":"1.0","attempts":3}`),
	})
	e.vars["REQUEUE_ON_FAILURE"] = "true"
	e.vars["MAX_REQUEUE_ATTEMPTS"] = "3"
	e.vars["STUB_FAIL_RATIO"] = "1"
	e.vars["REQUEUE_BACKOFF"] = "1h"
	e.vars["REQUEUE_BACKOFF_MAX"] = "2h"
	before := time.Now().Unix()
	stdout, stderr, code := e.run(t, "", "drain")
	if code != 0 {
		t.Fatalf("drain exit %d: %s\n%s", code, stdout, stderr)
	}
	status := map[string]string{}
	for _, en := range e.manifest(t) {
		status[en.Name] = string(en.Status)
	}
	if status["flaky"] != "retry" || status["spent"] != "failed" {
		t.Errorf("statuses = %v, want flaky=retry spent=failed", status)
	}
	q := e.queueItems(t, e.queue)
	if len(q) != 1 {
		t.Fatalf("queue = %s, want the requeued item only", q)
	}
	var it map[string]any
	if err := json.Unmarshal(q[0], &it); err != nil {
		t.Fatal(err)
	}
	nb, _ := it["not_before"].(float64)
	if it["package"] != "flaky" || it["attempts"] != float64(1) || it["x_origin"] != "ui" || it["x_nested"] == nil {
		t.Errorf("requeued item = %v", it)
	}
	if int64(nb) < before+30*60 || int64(nb) > time.Now().Unix()+2*3600 {
		t.Errorf("not_before = %v, want within the backoff (30m..2h from now)", nb)
	}
	// Not yet due: a second drain leaves it alone and takes nothing.
	stdout, _, code = e.run(t, "", "drain")
	if code != 0 || !strings.Contains(stdout, "total=0") {
		t.Errorf("second drain took a delayed item: %s", stdout)
	}
	if n := len(e.queueItems(t, e.queue)); n != 1 {
		t.Errorf("delayed item left the queue: %d items", n)
	}
}

// SIGTERM with builds still running past the grace: the process exits 0,
// the unfinished items are back in the queue without an attempt counted, and
// nothing is recorded for them.
func TestShutdownReturnsUnfinishedItems(t *testing.T) {
	t.Parallel() // own dirs, ports and worker process
	e := newEnv(t)
	names := pkgNames("slow", 6)
	e.writePlan(t, names)
	e.writeQueue(t, items(names...))
	e.vars["BUILD_CONCURRENCY"] = "2"
	e.vars["STUB_DELAY_MIN"] = "10m" // every build outlasts the grace
	e.vars["SHUTDOWN_GRACE"] = "1s"
	p := e.serve(t)
	eventually(t, 30*time.Second, "items held", func() bool {
		return len(e.queueItems(t, e.queue+".inflight.json")) == len(names)
	})
	start := time.Now()
	if code := p.stop(t, syscall.SIGTERM); code != 0 {
		t.Fatalf("exit %d after SIGTERM\n%s", code, p.stderr)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("shutdown took %s with a 1s grace", d)
	}
	q := e.queueItems(t, e.queue)
	if len(q) != len(names) {
		t.Fatalf("queue after shutdown has %d items, want %d: %s", len(q), len(names), q)
	}
	for i, raw := range q {
		var it map[string]any
		_ = json.Unmarshal(raw, &it)
		if it["package"] != names[i] || it["attempts"] != nil {
			t.Errorf("item %d = %s, want %s unchanged, in order, no attempt counted", i, raw, names[i])
		}
	}
	if m := e.manifest(t); len(m) != 0 {
		t.Errorf("manifest has entries for unfinished items: %+v", m)
	}
	if h := e.queueItems(t, e.queue+".inflight.json"); len(h) != 0 {
		t.Errorf("items still held: %s", h)
	}
}

// WORKER_AUTORUN_INTERVAL drains without a trigger.
func TestAutorunDrains(t *testing.T) {
	e := newEnv(t)
	e.writePlan(t, []string{"auto"})
	e.vars["WORKER_AUTORUN_INTERVAL"] = "0.2"
	p := e.serve(t)
	if _, stderr, code := e.run(t, `{"package":"auto","version":"1.0"}`+"\n", "enqueue"); code != 0 {
		t.Fatal(stderr)
	}
	eventually(t, 20*time.Second, "autorun to process the item", func() bool { return len(e.manifest(t)) == 1 })
	p.stop(t, syscall.SIGTERM)
}

// /ready names the check that fails: an unparseable queue file.
func TestReadyNamesFailedCheck(t *testing.T) {
	e := newEnv(t)
	p := e.serve(t)
	if code, _ := get(t, p.url("/ready")); code != http.StatusOK {
		t.Fatalf("/ready = %d before breaking the queue", code)
	}
	if err := os.WriteFile(e.queue, []byte(`[{"package": "half-writ`), 0o644); err != nil {
		t.Fatal(err)
	}
	code, body := get(t, p.url("/ready"))
	checks, _ := body["checks"].(map[string]any)
	if code != http.StatusServiceUnavailable || checks == nil || checks["intake"] == "ok" || !strings.Contains(body["error"].(string), "intake") {
		t.Errorf("/ready = %d %v, want 503 naming the intake", code, body)
	}
	if code, _ := get(t, p.url("/health")); code != http.StatusOK {
		t.Errorf("/health = %d while not ready, want 200 (liveness)", code)
	}
	p.stop(t, syscall.SIGTERM)
}
