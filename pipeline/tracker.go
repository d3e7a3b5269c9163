package pipeline

import (
	"context"
	"sync"
)

// Tracker follows every claimed item from intake to settlement: which drain
// it belongs to, whether its outcome is being reported, and whether it was
// given back to the queue at shutdown.
type Tracker struct {
	mu     sync.Mutex
	claims map[string]*tracked
	// idle is closed while no claim is tracked; a new one is made when the
	// first claim arrives (WaitIdle waits on it, never polls).
	idle chan struct{}
}

type tracked struct {
	drain     *Drain
	reporting bool
	returned  bool
	// published: released at the intake once stored in a durable transport
	// (counted in its drain then); the transport finishes it, not a return.
	published bool
	// settling: its settlement is with the settler (Settling), not yet
	// written at the intake.
	settling bool
}

// NewTracker makes an empty tracker.
func NewTracker() *Tracker {
	idle := make(chan struct{})
	close(idle)
	return &Tracker{claims: map[string]*tracked{}, idle: idle}
}

func (t *Tracker) track(c Claimed, d *Drain) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.claims) == 0 {
		t.idle = make(chan struct{})
	}
	t.claims[c.Claim] = &tracked{drain: d}
}

// untrack ends tracking of a claim; t.mu is held.
func (t *Tracker) untrack(claim string) {
	if _, ok := t.claims[claim]; !ok {
		return
	}
	delete(t.claims, claim)
	if len(t.claims) == 0 {
		close(t.idle)
	}
}

// WaitIdle returns once no claim is tracked, or with ctx's error when ctx
// ends first.
func (t *Tracker) WaitIdle(ctx context.Context) error {
	t.mu.Lock()
	idle := t.idle
	t.mu.Unlock()
	select {
	case <-idle: // idle wins over an ended ctx
		return nil
	default:
	}
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// BeginReport marks the claim as being reported; false when it was returned
// to the queue (its outcome must not be recorded).
func (t *Tracker) BeginReport(claim string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if c, ok := t.claims[claim]; ok {
		if c.returned {
			return false
		}
		c.reporting = true
	}
	return true
}

// Settling marks the claim's settlement as handed to the settler: the item
// is done with, and its drain no longer counts it against its window (it
// still holds it until Settled).
func (t *Tracker) Settling(claim string) {
	t.mu.Lock()
	c, ok := t.claims[claim]
	first := ok && !c.settling
	if first {
		c.settling = true
	}
	t.mu.Unlock()
	if first && c.drain != nil {
		c.drain.settlingAdd(1)
	}
}

// Settled ends tracking of a claim and counts it in its drain. The
// "published" summary of a durable transport only counts it in the drain
// and keeps tracking it until its outcome.
func (t *Tracker) Settled(s Summary) {
	t.mu.Lock()
	c, ok := t.claims[s.Claim]
	wasSettling := ok && c.settling
	if wasSettling {
		c.settling = false
	}
	switch {
	case !ok:
	case s.Status == StatusPublished:
		c.published = true
	default:
		t.untrack(s.Claim)
	}
	t.mu.Unlock()
	if !ok || c.drain == nil {
		return
	}
	if wasSettling {
		c.drain.settlingAdd(-1)
	}
	if s.Status == StatusPublished || !c.published {
		c.drain.settled(s)
	} else {
		c.drain.outcome(s) // counted as done at publish
	}
}

// InFlight is the number of claims not yet settled.
func (t *Tracker) InFlight() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.claims)
}

// TakeUnreported marks every claim whose outcome is not being reported as
// returned, and gives back their settlements (Return) for the intake.
func (t *Tracker) TakeUnreported() []Settlement {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []Settlement
	for claim, c := range t.claims {
		if c.reporting || c.returned || c.published {
			continue
		}
		c.returned = true
		out = append(out, Settlement{Claim: claim, Kind: Return})
	}
	return out
}

// Returned ends tracking of claims given back to the queue.
func (t *Tracker) Returned(ss []Settlement) {
	for _, s := range ss {
		t.mu.Lock()
		c, ok := t.claims[s.Claim]
		t.untrack(s.Claim)
		t.mu.Unlock()
		if ok && c.drain != nil {
			c.drain.settled(Summary{Claim: s.Claim, Status: "returned", Detail: "given back to the queue at shutdown"})
		}
	}
}
