package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// A starting worker removes the temp files of queue, in-flight and manifest
// rewrites that a killed writer left (they are as large as what they
// replace), and keeps those of live writers and those it cannot judge.
func TestStartRemovesTempFilesOfDeadWriters(t *testing.T) {
	e := newEnv(t)
	e.writeQueue(t, items("a"))
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	live := exec.Command("sleep", "60")
	if err := live.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = live.Process.Kill(); _ = live.Wait() })
	deadPID, livePID := strconv.Itoa(dead.Process.Pid), strconv.Itoa(live.Process.Pid)
	qdir := filepath.Dir(e.queue)
	mk := func(p string, age time.Duration) string {
		t.Helper()
		if err := os.WriteFile(p, []byte("[partial"), 0o600); err != nil {
			t.Fatal(err)
		}
		if age > 0 {
			old := time.Now().Add(-age)
			if err := os.Chtimes(p, old, old); err != nil {
				t.Fatal(err)
			}
		}
		return p
	}
	gone := []string{
		mk(filepath.Join(qdir, ".retry_queue.json.tmp-"+deadPID+"-0a1b2c"), 0),
		mk(filepath.Join(qdir, ".retry_queue.json.inflight.json.tmp-"+deadPID+"-0a1b2c"), 0),
		mk(filepath.Join(e.out, ".manifest-"+deadPID+"-0a1b2c.tmp"), 0),
		// Named by an earlier version (no pid): judged by age.
		mk(filepath.Join(e.out, ".manifest-123456789.tmp"), time.Hour),
		mk(filepath.Join(qdir, ".retry_queue.json.tmp-987654321"), time.Hour),
	}
	locked := mk(filepath.Join(qdir, ".retry_queue.json.tmp-"+livePID+"-0a1b2c"), time.Hour)
	kept := []string{
		mk(filepath.Join(e.out, ".manifest-"+livePID+"-0a1b2c.tmp"), 0),
		mk(filepath.Join(e.out, ".manifest-555.tmp"), 0), // recent, no pid: cannot tell
		locked,
	}
	// A writer in another pid namespace holds its file open and locked.
	f, err := os.Open(locked)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}

	stdout, stderr, code := e.run(t, "", "drain")
	if code != 0 {
		t.Fatalf("drain exit %d\n%s\n%s", code, stdout, stderr)
	}
	for _, p := range gone {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s of a dead writer is still there (%v)", filepath.Base(p), err)
		}
	}
	for _, p := range kept {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s removed: %v", filepath.Base(p), err)
		}
	}
	if m := e.manifest(t); len(m) != 1 {
		t.Errorf("manifest has %d entries, want 1", len(m))
	}
}
