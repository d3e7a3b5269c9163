package manifest

import (
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// Rewrites stay FlushInterval apart while their recent cost is within the
// budget (at rest, or a small manifest); past it, two hundred times the last
// rewrite's CPU (at most maxFlushWait), never less than FlushInterval.
func TestFlushWait(t *testing.T) {
	const ms = time.Millisecond
	budget := flushBudgetWindow / flushBudgetShare // 20ms of CPU in 2s
	for _, tc := range []struct {
		interval, last, recent, want time.Duration
	}{
		{200 * ms, 8 * ms, 0, 200 * ms},                   // at rest: one small rewrite
		{200 * ms, 8 * ms, budget, 200 * ms},              // at the budget
		{200 * ms, 8 * ms, budget + ms, 1600 * ms},        // past it: 200 x 8ms
		{200 * ms, ms, budget + ms, 200 * ms},             // past it, cheap rewrites: the interval
		{200 * ms, time.Second, 2 * budget, maxFlushWait}, // capped
		{time.Hour, time.Second, 2 * budget, time.Hour},   // never below the interval
	} {
		if got := flushWait(tc.interval, tc.last, tc.recent); got != tc.want {
			t.Errorf("flushWait(%v, %v, %v) = %v, want %v", tc.interval, tc.last, tc.recent, got, tc.want)
		}
	}
}

// The budget counts the rewrites of the last window only.
func TestFlushCostsForgetsOldRewrites(t *testing.T) {
	var f flushCosts
	w := flushBudgetWindow
	t0 := time.Date(2026, 12, 6, 22, 0, 0, 0, time.UTC)
	f.add(t0, 5*time.Millisecond)
	f.add(t0.Add(w*4/10), 7*time.Millisecond)
	f.add(t0.Add(w*9/10), 11*time.Millisecond)
	for _, tc := range []struct {
		after time.Duration
		want  time.Duration
	}{
		{w * 9 / 10, 23 * time.Millisecond},
		{w, 23 * time.Millisecond},
		{w * 11 / 10, 18 * time.Millisecond},
		{w * 15 / 10, 11 * time.Millisecond},
		{w * 2, 0},
	} {
		if got := f.spent(t0.Add(tc.after)); got != tc.want {
			t.Errorf("spent %v after the first = %v, want %v", tc.after, got, tc.want)
		}
	}
}

// The flusher's clock moves with the CPU its thread uses.
func TestThreadCPUCountsThisThread(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	before := threadCPU()
	deadline := time.Now().Add(20 * time.Millisecond)
	x := 0
	for time.Now().Before(deadline) {
		x++
	}
	if after := threadCPU(); after <= before {
		t.Errorf("thread CPU %v then %v after a 20ms busy loop (%d turns)", before, after, x)
	}
}

// What a rewrite is budgeted at is the CPU spent writing the new file (the
// copy), measured on the flusher's locked thread: a copy that takes 20 ms of
// this thread's CPU reads as at least that, and the file is in place
// afterwards. (The copy is counted in CPU, not wall time: with other tests
// sharing the cores, 20 ms of wall time once gave the thread 3.7 ms.)
func TestReplaceReturnsTheCopysCPU(t *testing.T) {
	path := filepath.Join(t.TempDir(), "manifest.json")
	s, err := Open(Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	const copyCPU = 20 * time.Millisecond
	cost, err := s.replace(func(w io.Writer) error {
		for start := threadCPU(); threadCPU()-start < copyCPU; { // a copy's CPU, not a wait
		}
		_, err := io.WriteString(w, "[\n]\n")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if cost < copyCPU {
		t.Errorf("replace measured %v for a copy that took %v of the thread's CPU, want at least that", cost, copyCPU)
	}
	if b, err := os.ReadFile(path); err != nil || string(b) != "[\n]\n" {
		t.Errorf("manifest.json = %q, %v; want the empty array", b, err)
	}
}
