package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// serveProc is a running `refinery-worker serve`.
type serveProc struct {
	cmd    *exec.Cmd
	addr   string
	stderr *bytes.Buffer
}

func (e *testEnv) serve(t *testing.T) *serveProc {
	t.Helper()
	addr := freeAddr(t)
	e.vars["WORKER_HTTP_ADDR"] = addr
	c := e.command("serve")
	var stderr bytes.Buffer
	c.Stderr = &lockedWriter{w: &stderr}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	p := &serveProc{cmd: c, addr: addr, stderr: &stderr}
	t.Cleanup(func() {
		if c.ProcessState == nil {
			_ = c.Process.Kill()
			_ = c.Wait()
		}
		if t.Failed() {
			t.Logf("worker on %s (exit %v) stderr, last lines:\n%s", addr, c.ProcessState, tail(stderr.String(), 3000))
		}
	})
	waitHTTP(t, "http://"+addr+"/health")
	return p
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

func (p *serveProc) url(path string) string { return "http://" + p.addr + path }

func (p *serveProc) stop(t *testing.T, sig syscall.Signal) int {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	_ = p.cmd.Wait()
	return p.cmd.ProcessState.ExitCode()
}

func post(t *testing.T, url, token, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if token != "" {
		req.Header.Set("X-Worker-Token", token)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

func get(t *testing.T, url string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

func TestServeEndpoints(t *testing.T) {
	t.Parallel() // own dirs, ports and worker process
	e := newEnv(t)
	e.vars["WORKER_TOKEN"] = "tok-123"
	e.vars["STUB_DELAY_MAX"] = "20ms"
	e.vars["BATCH_SIZE"] = "1000"
	names := pkgNames("pkg", 100)
	p := e.serve(t)

	if code, body := get(t, p.url("/plan")); code != http.StatusNotFound || body["error"] == nil {
		t.Errorf("GET /plan without a plan = %d %v, want 404 with a JSON error", code, body)
	}
	e.writePlan(t, names)
	eventually(t, 10*time.Second, "GET /plan to serve the new plan", func() bool {
		code, body := get(t, p.url("/plan"))
		return code == http.StatusOK && body["run_id"] == "test-run"
	})
	if code, body := get(t, p.url("/ready")); code != http.StatusOK || body["ready"] != true {
		t.Errorf("/ready = %d %v", code, body)
	}
	for _, tc := range []struct {
		name, token, body string
		code              int
	}{
		{"no token", "", `{"action":"drain"}`, http.StatusUnauthorized},
		{"wrong token", "tok-124", `{"action":"drain"}`, http.StatusUnauthorized},
		{"malformed body", "tok-123", `{"action":`, http.StatusBadRequest},
		{"wrong type", "tok-123", `{"action":42}`, http.StatusBadRequest},
		{"unknown action", "tok-123", `{"action":"explode"}`, http.StatusBadRequest},
	} {
		code, body := post(t, p.url("/trigger"), tc.token, tc.body)
		if code != tc.code || body["error"] == nil {
			t.Errorf("%s: POST /trigger = %d %v, want %d with a JSON error", tc.name, code, body, tc.code)
		}
	}
	if code, body := post(t, p.url("/plan"), "tok-123", ""); code != http.StatusUnprocessableEntity || !strings.Contains(fmt.Sprint(body["error"]), "REQUIREMENTS_PATH") {
		t.Errorf("POST /plan without REQUIREMENTS_PATH = %d %v, want 422 naming it", code, body)
	}
	lines := ""
	for _, it := range items(names...) {
		lines += string(it) + "\n"
	}
	if out, stderr, code := e.run(t, lines, "enqueue"); code != 0 || !strings.Contains(out, "enqueued 100") {
		t.Fatalf("enqueue = %d %s %s", code, out, stderr)
	}
	// Many triggers at once: all accepted, all one drain.
	ids := map[string]int{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, body := post(t, p.url("/trigger"), "tok-123", `{"action":"drain"}`)
			mu.Lock()
			defer mu.Unlock()
			if code != http.StatusAccepted {
				t.Errorf("trigger = %d %v", code, body)
				return
			}
			ids[fmt.Sprint(body["drain_id"])]++
		}()
	}
	wg.Wait()
	eventually(t, 60*time.Second, "every item in the manifest", func() bool { return len(e.manifest(t)) == len(names) })
	for _, en := range e.manifest(t) {
		if en.Status != "skipped" {
			t.Errorf("%s: %s, want skipped (stub)", en.Name, en.Status)
		}
	}
	if code := p.stop(t, syscall.SIGTERM); code != 0 {
		t.Errorf("serve exit code after SIGTERM = %d\n%s", code, p.stderr)
	}
	if q := e.queueItems(t, e.queue); len(q) != 0 {
		t.Errorf("queue after drain: %s", q)
	}
	if len(ids) != 1 {
		t.Errorf("20 concurrent triggers started %d drains: %v", len(ids), ids)
	}
}

// SIGKILL while items are in flight; the next start finishes them, and each
// ends with exactly one manifest entry.
func TestServeCrashLosesNothing(t *testing.T) {
	t.Parallel() // own dirs, ports and worker process
	e := newEnv(t)
	names := pkgNames("crash", 60)
	e.writePlan(t, names)
	e.writeQueue(t, items(names...))
	e.vars["BATCH_SIZE"] = "1000"
	e.vars["BUILD_CONCURRENCY"] = "4"
	e.vars["STUB_DELAY_MAX"] = "150ms"
	p := e.serve(t)
	eventually(t, 30*time.Second, "some outcomes recorded", func() bool {
		return len(e.manifest(t)) >= 5 || len(journalLines(t, e.out)) >= 5
	})
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = p.cmd.Wait()
	done := len(e.manifest(t)) + len(journalLines(t, e.out))
	if done >= len(names) {
		t.Fatalf("every item finished before the kill (%d); the test did not crash mid-drain", done)
	}
	held := e.queueItems(t, e.queue+".inflight.json")
	t.Logf("killed with %d outcomes recorded and %d items held", done, len(held))

	p2 := e.serve(t)
	eventually(t, 60*time.Second, "every item recorded after restart", func() bool {
		return len(e.manifest(t)) >= len(names) && len(e.queueItems(t, e.queue+".inflight.json")) == 0 &&
			len(e.queueItems(t, e.queue)) == 0
	})
	if code := p2.stop(t, syscall.SIGTERM); code != 0 {
		t.Errorf("exit code after SIGTERM = %d", code)
	}
	count := map[string]int{}
	for _, en := range e.manifest(t) {
		count[en.Name]++
	}
	for _, n := range names {
		if count[n] != 1 {
			t.Errorf("%s has %d manifest entries, want 1", n, count[n])
		}
	}
	if len(count) != len(names) {
		t.Errorf("manifest names %d distinct packages, want %d", len(count), len(names))
	}
}

func journalLines(t *testing.T, dir string) []string {
	t.Helper()
	js, _ := filepath.Glob(filepath.Join(dir, ".manifest.journal.*"))
	var out []string
	for _, j := range js {
		b, err := os.ReadFile(j)
		if err != nil {
			continue // folded into manifest.json and removed meanwhile
		}
		for _, l := range strings.Split(string(b), "\n") {
			if strings.TrimSpace(l) != "" {
				out = append(out, l)
			}
		}
	}
	return out
}
