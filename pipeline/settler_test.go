package pipeline

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"
)

// countingIntake records each Settle call's claims.
type countingIntake struct {
	lateIntake
	mu    sync.Mutex
	calls [][]string
}

func (c *countingIntake) Settle(_ context.Context, ss []Settlement) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var claims []string
	for _, s := range ss {
		claims = append(claims, s.Claim)
	}
	c.calls = append(c.calls, claims)
	return nil
}

func (c *countingIntake) settled() [][]string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([][]string(nil), c.calls...)
}

// The first settlement after a quiet spell is written at once; the next ones
// wait for the spacing and share one write; Close writes what waits.
func TestSettlerSpacesWrites(t *testing.T) {
	in := &countingIntake{}
	var mu sync.Mutex
	var seen []string
	st := NewSettler(in, func(s Summary) { mu.Lock(); seen = append(seen, s.Claim); mu.Unlock() },
		slog.New(slog.NewTextHandler(io.Discard, nil)), SettleEvery(time.Hour))
	st.Submit(Settlement{Claim: "a", Kind: Release}, Summary{Claim: "a"})
	if err := st.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := in.settled(); len(got) != 1 || len(got[0]) != 1 || got[0][0] != "a" {
		t.Fatalf("settle calls after the first item = %v, want [[a]]", got)
	}
	for _, c := range []string{"b", "c", "d"} {
		st.Submit(Settlement{Claim: c, Kind: Release}, Summary{Claim: c})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := st.Flush(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Flush within the hour's spacing = %v, want the deadline (nothing written yet)", err)
	}
	if n := st.Pending(); n != 3 {
		t.Errorf("pending = %d, want 3", n)
	}
	st.Close()
	got := in.settled()
	if len(got) != 2 || len(got[1]) != 3 {
		t.Fatalf("settle calls = %v, want [[a] [b c d]]: Close writes the waiting ones in one call", got)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 4 {
		t.Errorf("summaries seen = %v, want all 4", seen)
	}
}

// flakyIntake fails its first n Settle calls.
type flakyIntake struct {
	lateIntake
	mu    sync.Mutex
	fails int
	calls int
}

func (f *flakyIntake) Settle(context.Context, []Settlement) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.calls <= f.fails {
		return errors.New("disk full")
	}
	return nil
}

// recordTimer returns at once and records each wait asked of it.
type recordTimer struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (r *recordTimer) Sleep(ctx context.Context, d time.Duration) error {
	r.mu.Lock()
	r.waits = append(r.waits, d)
	r.mu.Unlock()
	return context.Cause(ctx)
}

// A failing Settle is retried on the settler's policy (50ms doubling) until
// it succeeds, and the waits go through the injected timer: no test waits.
func TestSettlerRetriesOnItsPolicy(t *testing.T) {
	in := &flakyIntake{fails: 3}
	timer := &recordTimer{}
	st := NewSettler(in, func(Summary) {}, slog.New(slog.DiscardHandler), SettleEvery(0), SettleTimer(timer))
	defer st.Close()
	st.Submit(Settlement{Claim: "a", Kind: Release}, Summary{Claim: "a"})
	if err := st.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	timer.mu.Lock()
	defer timer.mu.Unlock()
	want := []time.Duration{50 * time.Millisecond, 100 * time.Millisecond, 200 * time.Millisecond}
	if len(timer.waits) != len(want) {
		t.Fatalf("waits %v, want %v", timer.waits, want)
	}
	for i, d := range want {
		if timer.waits[i] != d {
			t.Fatalf("waits %v, want %v", timer.waits, want)
		}
	}
	if in.calls != 4 {
		t.Errorf("%d Settle calls, want 4 (3 failures, then the write)", in.calls)
	}
}

// orderIntake logs its Settle calls in the order shared with a sync.
type orderIntake struct {
	lateIntake
	log *[]string
	mu  *sync.Mutex
}

func (o *orderIntake) Settle(_ context.Context, ss []Settlement) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, s := range ss {
		*o.log = append(*o.log, "settle "+s.Claim)
	}
	return nil
}

// afterIntake is an orderIntake that takes the sync itself (SettleAfter),
// as the file queue does; its plain Settle is logged apart, so that a
// settler calling it instead shows.
type afterIntake struct{ orderIntake }

func (a *afterIntake) Settle(_ context.Context, ss []Settlement) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	*a.log = append(*a.log, "plain Settle")
	return nil
}

func (a *afterIntake) SettleAfter(ctx context.Context, ss []Settlement, before func() error) error {
	if err := before(); err != nil {
		return err
	}
	return a.orderIntake.Settle(ctx, ss)
}

// With SettleAfterSync, each batch's sync comes before its Settle (or, for
// an intake that can run it beside its own writes, is handed to its
// SettleAfter); while the sync fails, nothing is settled nor reported
// settled, and the batch is tried again on the settler's policy until the
// sync succeeds.
func TestSettlerSyncsBeforeItSettles(t *testing.T) {
	for _, tc := range []struct {
		name   string
		intake func(log *[]string, mu *sync.Mutex) Intake
	}{
		{"Settle", func(log *[]string, mu *sync.Mutex) Intake { return &orderIntake{log: log, mu: mu} }},
		{"SettleAfter", func(log *[]string, mu *sync.Mutex) Intake {
			return &afterIntake{orderIntake{log: log, mu: mu}}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			var events []string
			fails := 2
			syncJournal := func() error {
				mu.Lock()
				defer mu.Unlock()
				if fails > 0 {
					fails--
					events = append(events, "sync failed")
					return errors.New("disk gone")
				}
				events = append(events, "sync")
				return nil
			}
			timer := &recordTimer{}
			st := NewSettler(tc.intake(&events, &mu), func(s Summary) {
				mu.Lock()
				events = append(events, "settled "+s.Claim)
				mu.Unlock()
			}, slog.New(slog.DiscardHandler), SettleEvery(0), SettleTimer(timer), SettleAfterSync(syncJournal))
			defer st.Close()
			st.Submit(Settlement{Claim: "a", Kind: Release}, Summary{Claim: "a"})
			if err := st.Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
			// A Done settlement (nothing to write at the intake) needs no sync.
			st.Submit(Settlement{Claim: "b", Kind: Done}, Summary{Claim: "b"})
			if err := st.Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			defer mu.Unlock()
			want := []string{"sync failed", "sync failed", "sync", "settle a", "settled a", "settled b"}
			if !slices.Equal(events, want) {
				t.Fatalf("events %q, want %q", events, want)
			}
		})
	}
}
