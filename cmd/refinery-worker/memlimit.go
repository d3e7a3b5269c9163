package main

import (
	"context"
	"log/slog"
	"runtime/debug"
	"runtime/metrics"
	"strings"
	"time"
)

// memoryGuard applies MEMORY_SOFT_LIMIT as the Go runtime's soft memory limit
// and raises the limit when the live heap outgrows it: a limit below the live
// heap would make the collector run back to back (the runtime caps that at
// half the CPU), which is worse than using more memory.
type memoryGuard struct {
	limit int64
	live  func() uint64     // bytes of live heap after the last GC
	set   func(int64) int64 // debug.SetMemoryLimit
	log   *slog.Logger
}

// memoryHeadroom: the limit is raised to twice the live heap once the live
// heap passes three quarters of it.
const memoryHeadroom = 2

// check raises the limit when the live heap has grown past 3/4 of it.
func (g *memoryGuard) check() {
	live := int64(g.live())
	if live <= g.limit/4*3 {
		return
	}
	old := g.limit
	g.limit = live * memoryHeadroom
	g.set(g.limit)
	g.log.Warn("memory soft limit raised: the live heap outgrew MEMORY_SOFT_LIMIT",
		"live_heap_bytes", live, "old_limit_bytes", old, "new_limit_bytes", g.limit)
}

// startMemoryGuard sets the soft limit and checks it every interval until ctx
// ends. It does nothing when GOMEMLIMIT is set (the runtime applies it) or
// MEMORY_SOFT_LIMIT is 0.
func startMemoryGuard(ctx context.Context, cfg Config, environ []string, log *slog.Logger, interval time.Duration) {
	for _, kv := range environ {
		if v, ok := strings.CutPrefix(kv, "GOMEMLIMIT="); ok && v != "" {
			return
		}
	}
	if cfg.MemorySoftLimit <= 0 {
		return
	}
	g := &memoryGuard{limit: int64(cfg.MemorySoftLimit), live: liveHeap, set: debug.SetMemoryLimit, log: log}
	g.set(g.limit)
	go every(ctx, interval, g.check)
}

// liveHeap reads the runtime's live heap size (as of the last GC).
func liveHeap() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}
