package main

import (
	"encoding/json"
	"strings"
	"syscall"
	"testing"
	"time"
)

// SIGTERM during 4 running builds with a 6 s grace: the two that finish in
// time are reported; the two that do not are stopped, their containers
// removed, their items back in the queue without an attempt counted; the
// process exits 0 within the grace plus 5 s.
func TestPodmanGracefulShutdown(t *testing.T) {
	bin := requirePodman(t)
	e, id := podmanEnv(t, bin)
	names := []string{"fast-a", "fast-b", "slow-a", "slow-b"}
	e.writePlan(t, names)
	e.writeQueue(t, items(names...))
	e.vars["BUILD_CONCURRENCY"] = "4"
	e.vars["SHUTDOWN_GRACE"] = "6s"
	e.vars["STOP_GRACE_SEC"] = "2"
	e.vars["WORKER_RUN_CMD"] = `sh -c 'case "$JOB_NAME" in fast*) sleep 3;; *) sleep 600;; esac'`
	p := e.serve(t)
	eventually(t, 120*time.Second, "four build containers running", func() bool { return len(containers(t, bin, id)) == 4 })
	start := time.Now()
	if code := p.stop(t, syscall.SIGTERM); code != 0 {
		t.Errorf("exit %d after SIGTERM\n%s", code, p.stderr)
	}
	if d := time.Since(start); d > 11*time.Second {
		t.Errorf("shutdown took %s, want within the 6 s grace plus 5 s", d)
	}
	got := map[string]string{}
	for _, en := range e.manifest(t) {
		got[en.Name] = string(en.Status)
	}
	// The fast builds exit 0 without a wheel: failed (no_wheel), but reported.
	if got["fast-a"] == "" || got["fast-b"] == "" || got["slow-a"] != "" || got["slow-b"] != "" {
		t.Errorf("manifest after shutdown: %v; want the fast builds recorded and the slow ones not", got)
	}
	q := e.queueItems(t, e.queue)
	var back []string
	for _, raw := range q {
		var it map[string]any
		_ = json.Unmarshal(raw, &it)
		if it["attempts"] != nil {
			t.Errorf("returned item counts an attempt: %s", raw)
		}
		back = append(back, it["package"].(string))
	}
	if strings.Join(back, ",") != "slow-a,slow-b" && strings.Join(back, ",") != "slow-b,slow-a" {
		t.Errorf("queue after shutdown = %v, want the two slow items", back)
	}
	if c := containers(t, bin, id); len(c) != 0 {
		t.Errorf("containers left: %v", c)
	}
}
