package pipeline

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"
)

// BeforeRecovered runs before the items recovered at start enter the
// pipeline whatever the intake; after each claim only when the intake's
// Claim may redeliver a dead worker's items (ClaimNeverRedelivers false, as
// for Kafka), not for one that redelivers only through Recover (file, Redis).
func TestBeforeRecoveredRunsWhereRedeliveriesCanOccur(t *testing.T) {
	const total, chunk = 5, 2 // three claims: 2, 2, 1
	for _, tc := range []struct {
		name          string
		never         bool
		wantRefreshes int
	}{
		{"claim redelivers", false, 1 + 3},
		{"claim never redelivers", true, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := &listIntake{claims: make(chan []Claimed, total),
				recovered: []Claimed{{Claim: "held", Raw: []byte(`{}`)}}}
			for i := range total {
				in.items = append(in.items, Claimed{Claim: fmt.Sprintf("c%d", i), Raw: []byte(`{}`)})
			}
			gc := gochannel.NewGoChannel(gochannel.Config{}, watermill.NopLogger{})
			defer gc.Close()
			tracker := NewTracker()
			var mu sync.Mutex
			var inFlightAtRefresh []int // items the drain held when each refresh ran
			waits := make(chan struct{}, 1)
			d := NewDrainer(in, NewPublisher(gc, Topics{}, true), tracker, DrainOptions{Window: 100, Chunk: chunk,
				Continuous: true, ClaimNeverRedelivers: tc.never,
				BeforeRecovered: func() error {
					mu.Lock()
					inFlightAtRefresh = append(inFlightAtRefresh, tracker.InFlight())
					mu.Unlock()
					return nil
				},
				WaitItems: func(ctx context.Context) {
					select {
					case waits <- struct{}{}:
					default:
					}
					<-ctx.Done()
				}}, slog.New(slog.DiscardHandler))
			if _, _, err := d.Start(context.Background()); err != nil {
				t.Fatal(err)
			}
			select {
			case <-waits: // every item claimed, the intake found empty
			case <-time.After(time.Minute):
				t.Fatal("the drain did not claim every item")
			}
			d.Stop()
			mu.Lock()
			defer mu.Unlock()
			if len(inFlightAtRefresh) != tc.wantRefreshes {
				t.Errorf("BeforeRecovered ran %d times (items in flight then: %v), want %d",
					len(inFlightAtRefresh), inFlightAtRefresh, tc.wantRefreshes)
			}
			if len(inFlightAtRefresh) > 0 && inFlightAtRefresh[0] != 0 {
				t.Errorf("the start-up refresh ran with %d items in flight, want 0 (before the recovered item)",
					inFlightAtRefresh[0])
			}
			if got := tracker.InFlight(); got != total+1 {
				t.Errorf("%d items in flight, want %d claimed + 1 recovered", got, total)
			}
		})
	}
}
