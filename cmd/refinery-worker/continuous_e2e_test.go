package main

import (
	"strings"
	"syscall"
	"testing"
	"time"
)

// serve with its defaults drains a file queue queued before it started, and
// picks up items enqueued afterwards, with no trigger and no
// WORKER_AUTORUN_INTERVAL. (The 2 s target for 1,000 items is
// BenchmarkServeDefaultDrain's; the timeouts here only bound a hang.)
func TestServeConsumesFileQueueByDefault(t *testing.T) {
	t.Parallel() // own dirs, ports and worker process
	e := newEnv(t)
	names := pkgNames("cont", 1000)
	later := pkgNames("later", 3)
	e.writePlan(t, append(append([]string{}, names...), later...))
	e.writeQueue(t, items(names...))
	p := e.serve(t)
	eventually(t, 60*time.Second, "all 1,000 queued items in the manifest", func() bool {
		return len(e.manifest(t)) == len(names)
	})
	for i, n := range later {
		lines := string(items(n)[0]) + "\n"
		start := time.Now()
		if out, stderr, code := e.run(t, lines, "enqueue"); code != 0 || !strings.Contains(out, "enqueued 1") {
			t.Fatalf("enqueue = %d %s %s", code, out, stderr)
		}
		eventually(t, 30*time.Second, "an item enqueued while serving to be recorded", func() bool {
			return len(e.manifest(t)) == len(names)+i+1
		})
		t.Logf("%s recorded %s after its enqueue returned", n, time.Since(start))
	}
	if code := p.stop(t, syscall.SIGTERM); code != 0 {
		t.Errorf("serve exit code after SIGTERM = %d\n%s", code, p.stderr)
	}
	if q := e.queueItems(t, e.queue); len(q) != 0 {
		t.Errorf("queue after serving: %d items left", len(q))
	}
	if h := e.queueItems(t, e.queue+".inflight.json"); len(h) != 0 {
		t.Errorf("in-flight after serving: %d items held", len(h))
	}
}
