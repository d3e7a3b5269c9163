package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"
)

// lateIntake models a claim that the intake completed (the items are held
// for this worker) while the worker was being stopped: its Claim waits for
// the cancellation and then hands the items out anyway.
type lateIntake struct {
	entered chan struct{}
	items   []Claimed
	errs    chan error
}

func (l *lateIntake) Claim(ctx context.Context, _ int) ([]Claimed, error) {
	if l.items == nil {
		return nil, nil
	}
	close(l.entered)
	select {
	case <-ctx.Done():
	case <-time.After(30 * time.Second):
		l.errs <- errors.New("Stop did not cancel the claim in progress")
	}
	out := l.items
	l.items = nil
	return out, nil
}
func (l *lateIntake) Recover(context.Context) ([]Claimed, error) { return nil, nil }
func (l *lateIntake) Settle(context.Context, []Settlement) error { return nil }
func (l *lateIntake) Ready(context.Context) error                { return nil }
func (l *lateIntake) Close() error                               { return nil }

// Stop returns only once what a claim in progress took is tracked, so the
// shutdown that follows sees those items in flight and gives them back to
// the queue (a SIGTERM right after a claim used to leave them held).
func TestStopWaitsForTheClaimInProgress(t *testing.T) {
	for _, continuous := range []bool{false, true} {
		t.Run(fmt.Sprintf("continuous=%v", continuous), func(t *testing.T) {
			in := &lateIntake{entered: make(chan struct{}), errs: make(chan error, 1)}
			for i := range 6 {
				in.items = append(in.items, Claimed{Claim: fmt.Sprintf("c%d", i), Raw: []byte(`{}`)})
			}
			gc := gochannel.NewGoChannel(gochannel.Config{}, watermill.NopLogger{})
			defer gc.Close()
			tracker := NewTracker()
			d := NewDrainer(in, NewPublisher(gc, Topics{}, true), tracker,
				DrainOptions{Batch: 10, Continuous: continuous}, slog.New(slog.NewTextHandler(io.Discard, nil)))
			dr, _, err := d.Start(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			<-in.entered
			d.Stop()
			select {
			case err := <-in.errs:
				t.Fatal(err)
			default:
			}
			if n := tracker.InFlight(); n != 6 {
				t.Errorf("in flight after Stop = %d, want the 6 items the claim took", n)
			}
			if st := dr.Status(); st.Claimed != 6 || st.Error != "" {
				t.Errorf("drain status after Stop = %+v, want 6 claimed and no error", st)
			}
			if ret := tracker.TakeUnreported(); len(ret) != 6 {
				t.Errorf("returnable at shutdown = %d, want 6", len(ret))
			}
			if _, _, err := d.Start(context.Background()); err == nil {
				t.Error("a drain started after Stop")
			}
		})
	}
}
