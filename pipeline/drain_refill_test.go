package pipeline

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"
)

// listIntake hands out its items in order, at once, recording each Claim's
// max and whether it found nothing; its first Recover hands out recovered.
type listIntake struct {
	mu        sync.Mutex
	items     []Claimed
	recovered []Claimed
	maxes     []int
	empty     int
	claims    chan []Claimed
}

func (l *listIntake) Claim(_ context.Context, max int) ([]Claimed, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.maxes = append(l.maxes, max)
	n := min(max, len(l.items))
	out := l.items[:n:n]
	l.items = l.items[n:]
	if n == 0 {
		l.empty++
		return nil, nil
	}
	l.claims <- out
	return out, nil
}
func (l *listIntake) Recover(context.Context) ([]Claimed, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.recovered
	l.recovered = nil
	return out, nil
}
func (l *listIntake) Settle(context.Context, []Settlement) error { return nil }
func (l *listIntake) Ready(context.Context) error                { return nil }
func (l *listIntake) Close() error                               { return nil }

// A continuous drain with Refill claims only once Refill items fit (so each
// claim takes a batch, not the one item that just settled), and, when the
// intake is empty, waits in WaitItems instead of asking again at once.
func TestContinuousDrainRefillsInBatchesAndWaitsWhenEmpty(t *testing.T) {
	const total, window, refill = 25, 10, 5
	in := &listIntake{claims: make(chan []Claimed, total)}
	for i := range total {
		in.items = append(in.items, Claimed{Claim: fmt.Sprintf("c%d", i), Raw: []byte(`{}`)})
	}
	waits := make(chan struct{}, 100)
	gc := gochannel.NewGoChannel(gochannel.Config{}, watermill.NopLogger{})
	defer gc.Close()
	tracker := NewTracker()
	d := NewDrainer(in, NewPublisher(gc, Topics{}, true), tracker, DrainOptions{Window: window, Refill: refill,
		Continuous: true, WaitItems: func(ctx context.Context) {
			waits <- struct{}{}
			<-ctx.Done() // the test's "no change" until Stop
		}}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if _, _, err := d.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	claimed := 0
	for claimed < total {
		var batch []Claimed
		select {
		case batch = <-in.claims:
		case <-time.After(time.Minute):
			t.Fatalf("no claim after %d items claimed", claimed)
		}
		claimed += len(batch)
		// The drain tracks a batch after Claim returns: settle once it has.
		for deadline := time.Now().Add(time.Minute); tracker.InFlight() < len(batch); time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("claimed items not tracked: %d in flight", tracker.InFlight())
			}
		}
		for _, c := range batch { // settle one at a time
			tracker.Settled(Summary{Claim: c.Claim, Status: string(StatusSkipped)})
		}
	}
	select {
	case <-waits:
	case <-time.After(time.Minute):
		t.Fatal("the drain did not wait for items once the intake was empty")
	}
	d.Stop()
	in.mu.Lock()
	defer in.mu.Unlock()
	for i, m := range in.maxes {
		if m < refill {
			t.Errorf("claim %d asked for %d items, want at least Refill (%d): all claims %v", i, m, refill, in.maxes)
		}
	}
	if in.empty != 1 {
		t.Errorf("%d claims found nothing, want 1 (then it waits): %v", in.empty, in.maxes)
	}
}

// An item whose settlement is with the settler (Tracker.Settling) leaves its
// drain's window, so a slow settle write does not hold claims back; but the
// drain holds at most two windows of items in all, so a stalled settle
// stops the claims.
func TestSettlingItemsLeaveTheWindowUpToTwoWindows(t *testing.T) {
	const total, window = 20, 4
	in := &listIntake{claims: make(chan []Claimed, total)}
	for i := range total {
		in.items = append(in.items, Claimed{Claim: fmt.Sprintf("c%d", i), Raw: []byte(`{}`)})
	}
	gc := gochannel.NewGoChannel(gochannel.Config{}, watermill.NopLogger{})
	defer gc.Close()
	tracker := NewTracker()
	d := NewDrainer(in, NewPublisher(gc, Topics{}, true), tracker, DrainOptions{Window: window, Refill: 1,
		Continuous: true, WaitItems: func(ctx context.Context) { <-ctx.Done() }},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if _, _, err := d.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer d.Stop()
	next := func() []Claimed {
		t.Helper()
		select {
		case b := <-in.claims:
			// The drain tracks a batch after Claim returns.
			for deadline := time.Now().Add(time.Minute); ; time.Sleep(time.Millisecond) {
				tracker.mu.Lock()
				_, ok := tracker.claims[b[len(b)-1].Claim]
				tracker.mu.Unlock()
				if ok {
					return b
				}
				if time.Now().After(deadline) {
					t.Fatalf("claimed items not tracked")
				}
			}
		case <-time.After(time.Minute):
			t.Fatal("no claim")
			return nil
		}
	}
	first := next()
	if len(first) != window {
		t.Fatalf("first claim took %d items, want the window (%d)", len(first), window)
	}
	for _, c := range first {
		tracker.Settling(c.Claim) // handed to the settler, not yet written
	}
	second := next()
	if len(second) != window {
		t.Fatalf("with the first %d settling, the next claim took %d, want %d", window, len(second), window)
	}
	for _, c := range second {
		tracker.Settling(c.Claim)
	}
	// Two windows held: one settled frees room for exactly one more.
	tracker.Settled(Summary{Claim: first[0].Claim, Status: string(StatusSkipped)})
	if third := next(); len(third) != 1 {
		t.Fatalf("with %d held and one settled, the claim took %d items, want 1", 2*window, len(third))
	}
}
