package pipeline

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"
)

// Drain is one pass over the queue.
type Drain struct {
	ID      string    `json:"id"`
	Started time.Time `json:"started"`

	mu        sync.Mutex
	claimed   int
	done      int
	settling  int // of the claimed not done: settlements with the settler
	counts    map[string]int
	claiming  bool
	err       error
	finished  chan struct{}
	changed   chan struct{}
	onSettled func(string, Summary)
}

// DrainStatus is a snapshot of a drain.
type DrainStatus struct {
	ID       string         `json:"id"`
	Started  time.Time      `json:"started"`
	Claimed  int            `json:"claimed"`
	Settled  int            `json:"settled"`
	Counts   map[string]int `json:"counts"`
	Finished bool           `json:"finished"`
	Error    string         `json:"error,omitempty"`
}

// settled counts an item as done with; a "published" one (durable
// transport) gets its outcome counted later, by outcome.
func (dr *Drain) settled(s Summary) {
	dr.mu.Lock()
	dr.done++
	dr.mu.Unlock()
	if s.Status != StatusPublished {
		dr.outcome(s)
	}
	dr.signal()
}

// outcome counts and reports an item's outcome.
func (dr *Drain) outcome(s Summary) {
	dr.mu.Lock()
	dr.counts[s.Status]++
	cb := dr.onSettled
	dr.mu.Unlock()
	if cb != nil {
		cb(dr.ID, s)
	}
}

func (dr *Drain) signal() {
	select {
	case dr.changed <- struct{}{}:
	default:
	}
}

func (dr *Drain) waitChange(ctx context.Context) {
	select {
	case <-dr.changed:
	case <-ctx.Done():
	case <-time.After(time.Second): // re-check even if a signal was coalesced away
	}
}

// inFlight is the items claimed and not yet done with: being built,
// waiting for a build, or being reported. An item whose settlement is with
// the settler is done with (its intake write is all that is left, which
// can wait for an fsync) and is left out, so that the settle's latency
// does not narrow the window; held counts it.
func (dr *Drain) inFlight() int {
	dr.mu.Lock()
	defer dr.mu.Unlock()
	return dr.claimed - dr.done - dr.settling
}

// held is the items claimed and not yet settled at the intake.
func (dr *Drain) held() int {
	dr.mu.Lock()
	defer dr.mu.Unlock()
	return dr.claimed - dr.done
}

// settlingAdd counts settlements handed to the settler (+1) or written (-1).
func (dr *Drain) settlingAdd(n int) {
	dr.mu.Lock()
	dr.settling += n
	dr.mu.Unlock()
	dr.signal() // +1 opens the window, -1 lowers held
}

func (dr *Drain) complete() bool {
	dr.mu.Lock()
	defer dr.mu.Unlock()
	return !dr.claiming && dr.done >= dr.claimed
}

func (dr *Drain) fail(err error) {
	dr.mu.Lock()
	defer dr.mu.Unlock()
	if dr.err == nil {
		dr.err = err
	}
}

func (dr *Drain) clearError() {
	dr.mu.Lock()
	defer dr.mu.Unlock()
	dr.err = nil
}

func (dr *Drain) error() error {
	dr.mu.Lock()
	defer dr.mu.Unlock()
	return dr.err
}

// Done is closed when every item of the drain has settled.
func (dr *Drain) Done() <-chan struct{} { return dr.finished }

// Err is the drain's own failure (the intake could not be read), if any.
func (dr *Drain) Err() error { return dr.error() }

// Status is a snapshot of the drain.
func (dr *Drain) Status() DrainStatus {
	dr.mu.Lock()
	defer dr.mu.Unlock()
	counts := make(map[string]int, len(dr.counts))
	for k, v := range dr.counts {
		counts[k] = v
	}
	st := DrainStatus{ID: dr.ID, Started: dr.Started, Claimed: dr.claimed, Settled: dr.done, Counts: counts,
		Finished: !dr.claiming && dr.done >= dr.claimed}
	if dr.err != nil {
		st.Error = dr.err.Error()
	}
	return st
}

// Totals formats counts as "built=1 skipped=5 ..." in a stable order.
func (st DrainStatus) Totals() string {
	keys := make([]string, 0, len(st.Counts))
	for k := range st.Counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := fmt.Sprintf("total=%d", st.Settled)
	for _, k := range keys {
		out += fmt.Sprintf(" %s=%d", k, st.Counts[k])
	}
	return out
}
