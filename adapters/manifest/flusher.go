package manifest

import (
	"runtime"
	"syscall"
	"time"
)

// Bounds of the flusher's wait under load: after a rewrite it waits
// flushCostFactor times the CPU the rewrite took (so rewriting costs at most
// ~1% of a core however large manifest.json grows), at most maxFlushWait
// for that reason, and never less than FlushInterval.
const (
	flushCostFactor = 100
	maxFlushWait    = 5 * time.Second
)

func (s *Store) flusher() {
	defer close(s.stopped)
	// The rewrite's cost is read as this thread's CPU time: its copy and the
	// freeing of the old file are CPU, an fsync's wait for the disk is not.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	wait := s.opts.FlushInterval
	var last time.Time // when the last flush ended
	for {
		select {
		case <-s.done:
			return
		case <-s.kick:
		}
		// At rest (no flush within wait) an outcome is shown at once; under
		// load flushes stay wait apart, folding the outcomes between them
		// into one rewrite.
		if d := time.Until(last.Add(wait)); d > 0 {
			select {
			case <-s.done:
				return
			case <-time.After(d):
			}
		}
		cpu := threadCPU()
		if err := s.Flush(); err != nil {
			s.log.Error("flush manifest", "path", s.opts.Path, "err", err)
		}
		last = time.Now()
		wait = flushWait(s.opts.FlushInterval, threadCPU()-cpu)
	}
}

// flushWait is the least time from the end of a rewrite that cost cost (CPU)
// to the start of the next one.
func flushWait(interval, cost time.Duration) time.Duration {
	return max(interval, min(flushCostFactor*cost, maxFlushWait))
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
