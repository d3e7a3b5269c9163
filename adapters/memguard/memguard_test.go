package memguard

import (
	"context"
	"io"
	"log/slog"
	"math"
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

func TestMemoryGuardRaisesTheLimitForABigLiveHeap(t *testing.T) {
	const mib = 1 << 20
	for _, c := range []struct {
		name       string
		limit      int64
		live       uint64
		wantLimit  int64
		wantRaised bool
	}{
		{"well under", 120 * mib, 60 * mib, 120 * mib, false},
		{"at three quarters", 120 * mib, 90 * mib, 120 * mib, false},
		{"past three quarters", 120 * mib, 91 * mib, 182 * mib, true},
		{"far past (a huge plan)", 120 * mib, 400 * mib, 800 * mib, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			var set []int64
			g := &Guard{limit: c.limit, live: func() uint64 { return c.live },
				set: func(n int64) int64 { set = append(set, n); return 0 }, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
			g.check()
			if g.limit != c.wantLimit {
				t.Errorf("limit = %d MiB, want %d MiB", g.limit/mib, c.wantLimit/mib)
			}
			if raised := len(set) == 1 && set[0] == c.wantLimit; raised != c.wantRaised || (!c.wantRaised && len(set) > 0) {
				t.Errorf("SetMemoryLimit calls %v, want raised=%v", set, c.wantRaised)
			}
		})
	}
}

func TestStartSetsTheLimitAndGCPercentUnlessTheEnvironmentDoes(t *testing.T) {
	const mib = 1 << 20
	for _, c := range []struct {
		name      string
		limit     int64
		environ   []string
		wantLimit int64 // math.MaxInt64: untouched
		wantGC    int
	}{
		{"defaults", 120 * mib, []string{"PATH=/bin"}, 120 * mib, GCPercentUnderLimit},
		{"GOGC set", 120 * mib, []string{"GOGC=150"}, 120 * mib, 100},
		{"GOGC empty", 120 * mib, []string{"GOGC="}, 120 * mib, GCPercentUnderLimit},
		{"GOMEMLIMIT set", 120 * mib, []string{"GOMEMLIMIT=1GiB"}, math.MaxInt64, 100},
		{"limit off", 0, nil, math.MaxInt64, 100},
	} {
		t.Run(c.name, func(t *testing.T) {
			// The runtime's settings are the process's: start from Go's
			// defaults and put back what was there.
			oldGC, oldLimit := debug.SetGCPercent(100), debug.SetMemoryLimit(math.MaxInt64)
			t.Cleanup(func() { debug.SetGCPercent(oldGC); debug.SetMemoryLimit(oldLimit) })
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			Start(ctx, c.limit, c.environ, time.Hour, slog.New(slog.NewTextHandler(io.Discard, nil)))
			if got := debug.SetMemoryLimit(-1); got != c.wantLimit {
				t.Errorf("memory limit = %d, want %d", got, c.wantLimit)
			}
			if got := debug.SetGCPercent(100); got != c.wantGC {
				t.Errorf("GC percent = %d, want %d", got, c.wantGC)
			}
		})
	}
}

func TestLiveHeapIsReported(t *testing.T) {
	keep := make([]byte, 8<<20)
	runtime.GC()
	if n := LiveHeap(); n < 8<<20 {
		t.Errorf("live heap = %d bytes with 8 MiB held", n)
	}
	runtime.KeepAlive(keep)
}
