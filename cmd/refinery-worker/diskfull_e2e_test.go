package main

import (
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// OUTPUT_DIR on a small tmpfs that fills up during a drain: the worker stops
// taking items, /ready says why, manifest.json always parses, and every item
// is either recorded or still in the queue (held or not): none is lost.
func TestDiskFullLosesNothing(t *testing.T) {
	t.Parallel() // own dirs, ports, control-plane and worker id: waits mostly, so it runs beside the others
	e := newEnv(t)
	if err := exec.Command("mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", e.out).Run(); err != nil {
		if os.Getenv("REFINERY_REQUIRE_REAL") == "1" {
			t.Fatalf("mounting a tmpfs (needs root) is required: %v", err)
		}
		t.Skipf("skipping: cannot mount a tmpfs here (needs root): %v", err)
	}
	t.Cleanup(func() { _ = exec.Command("umount", "-l", e.out).Run() })
	names := pkgNames("full", 2000)
	e.writePlan(t, names[:1]) // a one-node plan: the others end unmatched, still recorded
	// plan.json goes to CACHE_DIR instead so that it does not take tmpfs room.
	plan, err := os.ReadFile(filepath.Join(e.out, "plan.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(e.cache, "plan.json"), plan, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(e.out, "plan.json")); err != nil {
		t.Fatal(err)
	}
	e.writeQueue(t, items(names...))
	e.vars["BATCH_SIZE"] = "100000"
	e.vars["MIN_FREE_DISK"] = "64k"
	// Outcomes being reported cannot be written on a full disk: they wait
	// out the grace, so a short grace keeps the test short.
	e.vars["SHUTDOWN_GRACE"] = "2s"
	p := e.serve(t)
	eventually(t, 60*time.Second, "/ready to report the disk", func() bool {
		code, body := get(t, p.url("/ready"))
		checks, _ := body["checks"].(map[string]any)
		return code == http.StatusServiceUnavailable && checks != nil && checks["disk"] != "ok" && checks["disk"] != nil
	})
	_, body := get(t, p.url("/ready"))
	t.Logf("/ready: %v", body["checks"].(map[string]any)["disk"])
	if code := p.stop(t, syscall.SIGTERM); code != 0 {
		t.Errorf("exit %d after SIGTERM\n%s", code, tail(p.stderr.String(), 3000))
	}
	b, err := os.ReadFile(filepath.Join(e.out, "manifest.json"))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var entries []map[string]any
	if len(b) > 0 {
		if err := json.Unmarshal(b, &entries); err != nil {
			t.Fatalf("manifest.json corrupted: %v", err)
		}
	}
	recorded := map[string]bool{}
	for _, en := range entries {
		recorded[en["name"].(string)] = true
	}
	for _, l := range journalLines(t, e.out) {
		var en map[string]any
		if json.Unmarshal([]byte(l), &en) == nil {
			recorded[en["name"].(string)] = true
		}
	}
	queued := map[string]bool{}
	for _, f := range []string{e.queue, e.queue + ".inflight.json"} {
		for _, raw := range e.queueItems(t, f) {
			var it struct {
				Package string          `json:"package"`
				Item    json.RawMessage `json:"item"` // an in-flight entry
			}
			_ = json.Unmarshal(raw, &it)
			if len(it.Item) > 0 {
				_ = json.Unmarshal(it.Item, &it)
			}
			queued[it.Package] = true
		}
	}
	lost := 0
	for _, n := range names {
		if !recorded[n] && !queued[n] {
			lost++
		}
	}
	t.Logf("recorded %d, still queued or held %d", len(recorded), len(queued))
	if lost != 0 {
		t.Errorf("%d items neither recorded nor in the queue", lost)
	}
	if len(queued) == 0 {
		t.Error("the disk never filled: every item was recorded (the test lost its point)")
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
