package manifest

import (
	"runtime"
	"testing"
	"time"
)

// Under load the rewrites stay apart by FlushInterval, or by a hundred times
// their CPU cost (at most maxFlushWait) once that is more.
func TestFlushWait(t *testing.T) {
	for _, tc := range []struct {
		interval, cost, want time.Duration
	}{
		{200 * time.Millisecond, 0, 200 * time.Millisecond},
		{200 * time.Millisecond, time.Millisecond, 200 * time.Millisecond},
		{200 * time.Millisecond, 8 * time.Millisecond, 800 * time.Millisecond},
		{200 * time.Millisecond, time.Second, maxFlushWait},
		{time.Hour, time.Second, time.Hour},
	} {
		if got := flushWait(tc.interval, tc.cost); got != tc.want {
			t.Errorf("flushWait(%v, %v) = %v, want %v", tc.interval, tc.cost, got, tc.want)
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
