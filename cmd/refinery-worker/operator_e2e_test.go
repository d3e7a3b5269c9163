package main

import (
	"io"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestOperatorControls(t *testing.T) {
	t.Parallel() // own dirs, ports and worker process
	e := newEnv(t)
	e.vars["WORKER_TOKEN"] = "ops-token"
	e.vars["BATCH_SIZE"] = "100"
	names := []string{"quick", "stuck"}
	e.writePlan(t, names)
	p := e.serve(t)

	// Paused: serve's continuous drain (and a trigger, which joins it) takes
	// nothing.
	if code, _ := post(t, p.url("/pause"), "", ""); code != http.StatusUnauthorized {
		t.Errorf("POST /pause without token = %d, want 401", code)
	}
	if code, _ := post(t, p.url("/pause"), "ops-token", ""); code != http.StatusOK {
		t.Fatalf("POST /pause = %d", code)
	}
	if _, stderr, code := e.run(t, `{"package":"quick","version":"1.0"}`+"\n", "enqueue"); code != 0 {
		t.Fatal(stderr)
	}
	code, body := post(t, p.url("/trigger"), "ops-token", "")
	if code != http.StatusAccepted {
		t.Fatalf("trigger = %d %v", code, body)
	}
	// A negative: the item stays queued across several gate re-checks (1 s
	// apart) and queue-file polls.
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if n := len(e.queueItems(t, e.queue)); n != 1 {
			t.Fatalf("paused worker took items: %d left in queue", n)
		}
	}
	if code, _ := post(t, p.url("/resume"), "ops-token", ""); code != http.StatusOK {
		t.Fatalf("POST /resume = %d", code)
	}
	post(t, p.url("/trigger"), "ops-token", "")
	eventually(t, 20*time.Second, "quick to be processed after resume", func() bool { return len(e.manifest(t)) == 1 })

	// Cancel a build in flight: failed, reason cancelled, not requeued. The
	// build waits 10 minutes, not a uniform 0..10m: a short draw once ended
	// it before the cancel (404, no build in flight).
	e.vars["STUB_DELAY_MIN"] = "10m"
	p.stop(t, syscall.SIGTERM)
	p = e.serve(t)
	if _, stderr, code := e.run(t, `{"package":"stuck","version":"1.0"}`+"\n", "enqueue"); code != 0 {
		t.Fatal(stderr)
	}
	post(t, p.url("/trigger"), "ops-token", "")
	var jobID string
	eventually(t, 20*time.Second, "stuck to show in /status", func() bool {
		_, st := getAuth(t, p.url("/status"), "ops-token")
		builds, _ := st["builds"].([]any)
		if len(builds) == 1 {
			jobID, _ = builds[0].(map[string]any)["job_id"].(string)
		}
		return jobID != ""
	})
	out, stderr, code := e.run(t, "", "status")
	if code != 0 || !strings.Contains(out, jobID) || !strings.Contains(out, `"worker_id"`) {
		t.Errorf("refinery-worker status = %d\n%s\n%s", code, out, stderr)
	}
	if code, _ := post(t, p.url("/builds/nope/cancel"), "ops-token", ""); code != http.StatusNotFound {
		t.Errorf("cancel unknown build = %d, want 404", code)
	}
	if code, body := post(t, p.url("/builds/"+jobID+"/cancel"), "ops-token", ""); code != http.StatusAccepted {
		t.Fatalf("cancel = %d %v", code, body)
	}
	eventually(t, 20*time.Second, "the cancelled build recorded", func() bool { return len(e.manifest(t)) == 2 })
	for _, en := range e.manifest(t) {
		if en.Name == "stuck" && (en.Status != "failed" || en.Metadata["reason"] != "cancelled") {
			t.Errorf("cancelled entry = %+v", en)
		}
	}
	if n := len(e.queueItems(t, e.queue)); n != 0 {
		t.Errorf("cancelled item went back to the queue without being asked")
	}

	// Metrics in the Prometheus text format. The outcome is counted after
	// manifest.json shows it, so wait for the count itself.
	var m []byte
	eventually(t, 20*time.Second, "/metrics to count the failed build", func() bool {
		resp, err := http.Get(p.url("/metrics"))
		if err != nil {
			t.Fatal(err)
		}
		m, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		return strings.Contains(string(m), `refinery_items_total{status="failed"} 1`)
	})
	for _, want := range []string{`refinery_items_total{status="failed"} 1`, `refinery_build_duration_seconds_bucket{status="failed"`,
		"refinery_builds_in_flight 0", `refinery_queue_depth{intake="file",state="ready"} 0`, "refinery_outbox_backlog",
		"refinery_containers_removed_at_start_total", "refinery_watermill_handler_execution_time_seconds"} {
		if !strings.Contains(string(m), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	p.stop(t, syscall.SIGTERM)
}

func getAuth(t *testing.T, url, token string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("X-Worker-Token", token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	_ = jsonDecode(resp.Body, &m)
	return resp.StatusCode, m
}
