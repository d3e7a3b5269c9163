package manifest

import (
	"runtime"
	"syscall"
	"time"
)

// Bounds of the flusher's wait. Rewrites stay FlushInterval apart under
// load; once the rewrites of the last flushBudgetWindow took more than
// 1/flushBudgetShare of a core (a large manifest rewritten often; a
// rewrite's CPU is counted from its temporary file's creation to its
// rename), a rewrite waits flushCostFactor times the CPU the last one took,
// at most maxFlushWait, so rewriting costs ~0.5-1% of a core however large
// manifest.json grows. An outcome recorded while the budget is not spent
// (at rest) is shown at once.
const (
	flushBudgetWindow = 2 * time.Second
	flushBudgetShare  = 100
	flushCostFactor   = 200
	maxFlushWait      = 5 * time.Second
)

func (s *Store) flusher() {
	defer close(s.stopped)
	// The rewrite's cost is read as this thread's CPU time: its copy and the
	// freeing of the old file are CPU, an fsync's wait for the disk is not.
	// The creation of its files is left out (see replace): it does not grow
	// with the manifest, and where it is slow it would hold outcomes back at
	// rest.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var (
		last     time.Time     // when the last flush ended
		lastCost time.Duration // its CPU
		recent   flushCosts
	)
	for {
		select {
		case <-s.done:
			return
		case <-s.kick:
		}
		// At rest (no flush within the wait) an outcome is shown at once;
		// under load flushes stay the wait apart, folding the outcomes
		// between them into one rewrite.
		wait := flushWait(s.opts.FlushInterval, lastCost, recent.spent(time.Now()))
		if d := time.Until(last.Add(wait)); d > 0 {
			select {
			case <-s.done:
				return
			case <-time.After(d):
			}
		}
		cost, err := s.flush()
		if err != nil {
			s.log.Error("flush manifest", "path", s.opts.Path, "err", err)
		}
		last, lastCost = time.Now(), cost
		recent.add(last, lastCost)
	}
}

// flushWait is the least time from the end of a rewrite that cost lastCost
// (CPU) to the start of the next one, when the rewrites of the last
// flushBudgetWindow cost recent.
func flushWait(interval, lastCost, recent time.Duration) time.Duration {
	if recent*flushBudgetShare <= flushBudgetWindow {
		return interval
	}
	return max(interval, min(flushCostFactor*lastCost, maxFlushWait))
}

// flushCosts is the CPU of the rewrites of the last flushBudgetWindow.
type flushCosts []flushCost

type flushCost struct {
	at   time.Time
	cost time.Duration
}

func (f *flushCosts) add(at time.Time, cost time.Duration) {
	*f = append(*f, flushCost{at, cost})
}

// spent is what the rewrites since now-flushBudgetWindow cost; older ones
// are forgotten.
func (f *flushCosts) spent(now time.Time) time.Duration {
	for len(*f) > 0 && now.Sub((*f)[0].at) > flushBudgetWindow {
		*f = (*f)[1:]
	}
	var total time.Duration
	for _, c := range *f {
		total += c.cost
	}
	return total
}

// rusageThread is Linux's RUSAGE_THREAD (the syscall package lacks it).
const rusageThread = 1

// threadCPU is the calling thread's user+system CPU time (zero when it
// cannot be read: the flusher then waits FlushInterval).
func threadCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(rusageThread, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
