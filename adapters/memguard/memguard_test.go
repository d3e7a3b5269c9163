package memguard

import (
	"io"
	"log/slog"
	"runtime"
	"testing"
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

func TestLiveHeapIsReported(t *testing.T) {
	keep := make([]byte, 8<<20)
	runtime.GC()
	if n := LiveHeap(); n < 8<<20 {
		t.Errorf("live heap = %d bytes with 8 MiB held", n)
	}
	runtime.KeepAlive(keep)
}
