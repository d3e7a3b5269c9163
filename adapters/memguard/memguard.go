// Package memguard applies a soft memory limit to the Go runtime and raises
// it when the live heap outgrows it.
package memguard

import (
	"context"
	"log/slog"
	"runtime/debug"
	"runtime/metrics"
	"strings"
	"time"
)

// Guard applies MEMORY_SOFT_LIMIT as the Go runtime's soft memory limit and
// raises the limit when the live heap outgrows it: a limit below the live
// heap would make the collector run back to back (the runtime caps that at
// half the CPU), which is worse than using more memory.
type Guard struct {
	limit int64
	live  func() uint64     // bytes of live heap after the last GC
	set   func(int64) int64 // debug.SetMemoryLimit
	log   *slog.Logger
}

// headroom: the limit is raised to twice the live heap once the live heap
// passes three quarters of it.
const headroom = 2

// GCPercentUnderLimit is the collector's target (GOGC) while the soft limit
// applies and GOGC is not set: the heap may grow to five times the live heap
// between collections, and the limit, not GOGC, bounds memory. Go's default
// of 100 collects every time the heap doubles; a drain allocates short-lived
// messages per item, so that spent ~8% of a stub drain's CPU on collecting
// (BenchmarkRedisIntake, cpu-µs/item 186 -> 171).
const GCPercentUnderLimit = 400

// Start sets the soft limit and checks it every interval until ctx ends; with
// the limit in place and no GOGC in environ, it sets GC percent to
// GCPercentUnderLimit. It does nothing when GOMEMLIMIT is set in environ (the
// runtime applies it) or limit is 0 or less.
func Start(ctx context.Context, limit int64, environ []string, interval time.Duration, log *slog.Logger) {
	if setting(environ, "GOMEMLIMIT") || limit <= 0 {
		return
	}
	g := &Guard{limit: limit, live: LiveHeap, set: debug.SetMemoryLimit, log: log}
	g.set(g.limit)
	if !setting(environ, "GOGC") {
		debug.SetGCPercent(GCPercentUnderLimit)
	}
	go g.run(ctx, interval)
}

// setting reports whether environ sets name to a non-empty value.
func setting(environ []string, name string) bool {
	for _, kv := range environ {
		if v, ok := strings.CutPrefix(kv, name+"="); ok && v != "" {
			return true
		}
	}
	return false
}

func (g *Guard) run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			g.check()
		}
	}
}

// check raises the limit when the live heap has grown past 3/4 of it.
func (g *Guard) check() {
	live := int64(g.live())
	if live <= g.limit/4*3 {
		return
	}
	old := g.limit
	g.limit = live * headroom
	g.set(g.limit)
	g.log.Warn("memory soft limit raised: the live heap outgrew MEMORY_SOFT_LIMIT",
		"live_heap_bytes", live, "old_limit_bytes", old, "new_limit_bytes", g.limit)
}

// LiveHeap reads the runtime's live heap size (as of the last GC).
func LiveHeap() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}
