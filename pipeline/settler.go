package pipeline

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/refinery/refinery-worker/pipeline/retry"
)

// Settler batches settlements into few Intake.Settle calls (group commit):
// while one call writes, new settlements queue up and go in the next. Once a
// batch is durable, onSettled gets each settlement's summary.
type Settler struct {
	intake    Intake
	onSettled func(Summary)
	log       *slog.Logger
	maxBatch  int
	every     time.Duration
	// retry spaces the attempts after a failed Settle (the batch is queued
	// again): 50ms doubling to 5s, without bound, until Close. Its Timer
	// also waits out the SettleEvery spacing.
	retry retry.Policy
	// onSubmit is told of each settlement Submit takes (SettleOnSubmit).
	onSubmit func(claim string)
	// before makes what the settled items' outcomes were written to durable
	// (SettleAfterSync); nil when nothing needs it.
	before func() error
	// closing ends the waits of the loop when Close is called.
	closing context.Context
	cancel  context.CancelFunc

	mu      sync.Mutex
	queue   []settleReq
	wake    chan struct{}
	idle    *sync.Cond
	busy    bool
	stopped chan struct{}
	stop    chan struct{}
}

type settleReq struct {
	s   Settlement
	sum Summary
}

// SettlerOption tunes a Settler.
type SettlerOption func(*Settler)

// SettleEvery spaces Intake.Settle calls at least d apart (start to start),
// so settlements arriving meanwhile share one write. The first settlement
// after a quiet spell goes at once. Default DefaultSettleEvery; 0 writes as
// soon as the previous write ends.
//
// Each file-queue settle rewrites the in-flight file (a new file renamed
// over the old one, the whole file encoded again); at thousands of items a
// second, unspaced settles made ~1,750 such rewrites per 10,000 items.
func SettleEvery(d time.Duration) SettlerOption {
	return func(st *Settler) { st.every = max(d, 0) }
}

// SettleTimer makes the Settler wait (SettleEvery spacing, retry backoff)
// on t instead of the wall clock: tests run without waiting.
func SettleTimer(t retry.Timer) SettlerOption {
	return func(st *Settler) { st.retry.Timer = t }
}

// SettleAfterSync makes each batch call sync before it settles anything at
// the intake, and settle only when sync succeeds (otherwise the batch waits
// and is tried again, like a failed Settle). sync makes the records of the
// batch's outcomes durable (the manifest journal, the rejections file): an
// intake's settle is durable (fsync, XACK, commit), and were it to reach
// the disk before the outcome it ends, a power loss would leave neither the
// item nor its outcome. One sync serves the whole batch.
func SettleAfterSync(sync func() error) SettlerOption {
	return func(st *Settler) { st.before = sync }
}

// SettleOnSubmit has Submit call fn with each settlement's claim as it
// takes it (the Tracker's Settling: the item leaves its drain's window).
func SettleOnSubmit(fn func(claim string)) SettlerOption {
	return func(st *Settler) { st.onSubmit = fn }
}

// DefaultSettleEvery is the default spacing of settle writes.
const DefaultSettleEvery = 25 * time.Millisecond

// NewSettler starts the batching goroutine; Close stops it after flushing.
func NewSettler(intake Intake, onSettled func(Summary), log *slog.Logger, opts ...SettlerOption) *Settler {
	st := &Settler{intake: intake, onSettled: onSettled, log: log, maxBatch: 1000, every: DefaultSettleEvery,
		retry: retry.Policy{Initial: 50 * time.Millisecond, Max: 5 * time.Second},
		wake:  make(chan struct{}, 1), stopped: make(chan struct{}), stop: make(chan struct{})}
	st.closing, st.cancel = context.WithCancel(context.Background())
	for _, o := range opts {
		o(st)
	}
	st.idle = sync.NewCond(&st.mu)
	go st.loop()
	return st
}

// Submit queues a settlement; it never blocks on the intake.
func (st *Settler) Submit(s Settlement, sum Summary) {
	if st.onSubmit != nil {
		st.onSubmit(s.Claim)
	}
	st.mu.Lock()
	st.queue = append(st.queue, settleReq{s, sum})
	st.mu.Unlock()
	select {
	case st.wake <- struct{}{}:
	default:
	}
}

// Flush waits until everything submitted so far is settled (or failed and
// queued again for the next try, when ctx ends first).
func (st *Settler) Flush(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		st.mu.Lock()
		for len(st.queue) > 0 || st.busy {
			st.idle.Wait()
		}
		st.mu.Unlock()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		st.mu.Lock()
		st.idle.Broadcast()
		st.mu.Unlock()
		return ctx.Err()
	}
}

// Pending is the number of settlements not yet written.
func (st *Settler) Pending() int {
	st.mu.Lock()
	defer st.mu.Unlock()
	return len(st.queue)
}

// Close stops the loop after a last attempt to settle what is queued.
func (st *Settler) Close() {
	st.cancel()
	close(st.stop)
	<-st.stopped
}

func (st *Settler) loop() {
	defer close(st.stopped)
	failures := 0
	var last time.Time
	for {
		select {
		case <-st.wake:
		case <-st.stop:
			st.drainOnce()
			return
		}
		for {
			if wait := st.every - time.Since(last); wait > 0 && st.maxBatch > st.Pending() {
				if st.retry.Sleep(st.closing, wait) != nil {
					st.drainOnce()
					return
				}
			}
			last = time.Now()
			ok, more := st.drainOnce()
			if !ok {
				failures++
				if st.retry.Wait(st.closing, failures) != nil {
					st.drainOnce()
					return
				}
				continue
			}
			failures = 0
			if !more {
				break
			}
		}
	}
}

// settleAfter is an Intake that can run SettleAfterSync's sync beside the
// settle writes it prepares (the file queue: beside the new in-flight file's
// write), making nothing visible before sync returned nil.
type settleAfter interface {
	SettleAfter(ctx context.Context, ss []Settlement, before func() error) error
}

// settle settles ss, after st.before.
func (st *Settler) settle(ss []Settlement) error {
	if st.before == nil {
		return st.intake.Settle(context.Background(), ss)
	}
	if in, ok := st.intake.(settleAfter); ok {
		return in.SettleAfter(context.Background(), ss, st.before)
	}
	if err := st.before(); err != nil {
		return err
	}
	return st.intake.Settle(context.Background(), ss)
}

// drainOnce settles one batch; ok is false when the intake failed (the batch
// is queued again), more is true when more is waiting.
func (st *Settler) drainOnce() (ok, more bool) {
	st.mu.Lock()
	n := min(len(st.queue), st.maxBatch)
	batch := st.queue[:n:n]
	st.queue = st.queue[n:]
	st.busy = n > 0
	st.mu.Unlock()
	if n == 0 {
		st.mu.Lock()
		st.busy = false
		st.idle.Broadcast()
		st.mu.Unlock()
		return true, false
	}
	ss := make([]Settlement, 0, n)
	for _, r := range batch {
		if r.s.Kind != Done {
			ss = append(ss, r.s)
		}
	}
	var err error
	if len(ss) > 0 {
		err = st.settle(ss)
	}
	var partial interface{ NotApplied() []string }
	if err != nil && errors.As(err, &partial) {
		// The rest of the batch was applied; the claims the intake does not
		// know are not retried (they would fail forever) but reported.
		skip := map[string]bool{}
		for _, c := range partial.NotApplied() {
			skip[c] = true
		}
		st.log.Error("intake did not apply some settlements", "claims", partial.NotApplied(), "err", err)
		for _, r := range batch {
			if skip[r.s.Claim] {
				r.sum.Detail = strings.TrimSpace(r.sum.Detail + " (settlement not applied: " + err.Error() + ")")
			}
			st.onSettled(r.sum)
		}
		err = nil
	} else if err == nil {
		for _, r := range batch {
			st.onSettled(r.sum)
		}
	}
	st.mu.Lock()
	st.busy = false
	if err != nil {
		st.queue = append(batch, st.queue...)
	}
	more = len(st.queue) > 0
	st.idle.Broadcast()
	st.mu.Unlock()
	if err != nil {
		st.log.Error("settle intake items", "items", n, "err", err)
		return false, more
	}
	return true, more
}
