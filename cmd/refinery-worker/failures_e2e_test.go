package main

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// A failed build is diagnosed and matched against HINTS_FILE (no
// control-plane): /status lists it with its class, summary and hint ids,
// and the manifest entry carries metadata.failure.
func TestStatusListsDiagnosedFailures(t *testing.T) {
	e := newEnv(t)
	hintsFile := filepath.Join(t.TempDir(), "hints.yaml")
	if err := os.WriteFile(hintsFile, []byte("- id: stub-failure\n  pattern: 'stub runner: injected (failure)'\n  confidence: 0.5\n"+
		"- id: broken\n  pattern: '(unclosed'\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e.vars["WORKER_TOKEN"] = "ops-token"
	e.vars["STUB_FAIL_RATIO"] = "1"
	e.vars["HINTS_FILE"] = hintsFile
	e.writePlan(t, []string{"flaky"})
	p := e.serve(t)
	defer p.stop(t, syscall.SIGTERM)
	if _, stderr, code := e.run(t, `{"package":"flaky","version":"1.0"}`+"\n", "enqueue"); code != 0 {
		t.Fatal(stderr)
	}
	post(t, p.url("/trigger"), "ops-token", "")
	var note map[string]any
	eventually(t, 20*time.Second, "the failure at /status", func() bool {
		_, st := getAuth(t, p.url("/status"), "ops-token")
		l, _ := st["recent_failures"].([]any)
		if len(l) == 1 {
			note, _ = l[0].(map[string]any)
		}
		return note != nil
	})
	ids, _ := note["hint_ids"].([]any)
	if note["name"] != "flaky" || note["class"] != "unknown" || note["summary"] != "stub: injected failure" ||
		len(ids) != 1 || ids[0] != "stub-failure" {
		t.Errorf("recent failure = %v", note)
	}
	eventually(t, 20*time.Second, "the failure recorded", func() bool { return len(e.manifest(t)) == 1 })
	f, _ := e.manifest(t)[0].Metadata["failure"].(map[string]any)
	if f["class"] != "unknown" || f["summary"] != "stub: injected failure" {
		t.Errorf("metadata.failure = %v", f)
	}
}
