package retry_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/cenkalti/backoff/v5"

	"github.com/refinery/refinery-worker/pipeline/retry"
)

// fakeTimer records the waits and returns at once (or ctx's cause).
type fakeTimer struct{ waits []time.Duration }

func (f *fakeTimer) Sleep(ctx context.Context, d time.Duration) error {
	f.waits = append(f.waits, d)
	return context.Cause(ctx)
}

var errFlaky = errors.New("flaky")

func TestDelay(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name string
		p    retry.Policy
		want []time.Duration // Delay(1), Delay(2), ...
	}{
		{"doubling capped", retry.Policy{Initial: 50 * ms, Max: 5 * time.Second},
			[]time.Duration{50 * ms, 100 * ms, 200 * ms, 400 * ms, 800 * ms, 1600 * ms, 3200 * ms, 5 * time.Second, 5 * time.Second}},
		{"multiplier 3", retry.Policy{Initial: ms, Max: time.Second, Multiplier: 3},
			[]time.Duration{ms, 3 * ms, 9 * ms, 27 * ms}},
		{"no cap", retry.Policy{Initial: time.Second}, []time.Duration{time.Second, 2 * time.Second, 4 * time.Second}},
		{"zero", retry.Policy{}, []time.Duration{0, 0}},
		{"initial above max", retry.Policy{Initial: time.Minute, Max: time.Second}, []time.Duration{time.Second, time.Second}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []time.Duration
			for n := 1; n <= len(tc.want); n++ {
				got = append(got, tc.p.Delay(n))
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("delays = %v, want %v", got, tc.want)
			}
		})
	}
	t.Run("huge attempt does not overflow", func(t *testing.T) {
		if d := (retry.Policy{Initial: time.Second}).Delay(1000); d <= 0 {
			t.Errorf("Delay(1000) = %v, want > 0", d)
		}
	})
}

func TestDelayJitter(t *testing.T) {
	tests := []struct {
		jitter float64
		low    float64 // the lowest wait, as a fraction of the unjittered one
	}{{0.5, 0.5}, {0.25, 0.75}, {1, 0}}
	for _, tc := range tests {
		p := retry.Policy{Initial: 100 * time.Millisecond, Max: time.Second, Jitter: tc.jitter}
		for n := 1; n <= 6; n++ {
			full := retry.Policy{Initial: p.Initial, Max: p.Max}.Delay(n)
			lo := time.Duration(float64(full) * tc.low)
			for range 200 {
				if d := p.Delay(n); d < lo || d > full {
					t.Fatalf("jitter %g: Delay(%d) = %v, want in [%v, %v]", tc.jitter, n, d, lo, full)
				}
			}
		}
	}
}

func TestDo(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name      string
		p         retry.Policy
		fails     int   // fn fails this many times, then succeeds
		failWith  error // default errFlaky
		wantCalls int
		wantWaits []time.Duration
		wantErr   error
	}{
		{"first call succeeds", retry.Policy{Initial: ms, MaxAttempts: 3}, 0, nil, 1, nil, nil},
		{"succeeds on third", retry.Policy{Initial: ms, MaxAttempts: 3}, 2, nil, 3, []time.Duration{ms, 2 * ms}, nil},
		{"attempts exhausted", retry.Policy{Initial: ms, MaxAttempts: 3}, 5, nil, 3, []time.Duration{ms, 2 * ms}, errFlaky},
		{"single attempt", retry.Policy{Initial: ms, MaxAttempts: 1}, 5, nil, 1, nil, errFlaky},
		{"unbounded until success", retry.Policy{Initial: ms, Max: 4 * ms}, 5, nil, 6,
			[]time.Duration{ms, 2 * ms, 4 * ms, 4 * ms, 4 * ms}, nil},
		{"permanent stops", retry.Policy{Initial: ms, MaxAttempts: 9}, 5, backoff.Permanent(errFlaky), 1, nil, errFlaky},
		{"retry-after capped at max", retry.Policy{Initial: ms, Max: 3 * time.Second, MaxAttempts: 2}, 5,
			errors.Join(errFlaky, backoff.RetryAfter(10)), 2, []time.Duration{3 * time.Second}, errFlaky},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ft := &fakeTimer{}
			tc.p.Timer = ft
			calls, retries := 0, 0
			err := retry.Do(context.Background(), tc.p, func(context.Context) error {
				calls++
				if calls <= tc.fails {
					if tc.failWith != nil {
						return tc.failWith
					}
					return errFlaky
				}
				return nil
			}, func(retry.Retry) { retries++ })
			if calls != tc.wantCalls {
				t.Errorf("calls = %d, want %d", calls, tc.wantCalls)
			}
			if !slices.Equal(ft.waits, tc.wantWaits) {
				t.Errorf("waits = %v, want %v", ft.waits, tc.wantWaits)
			}
			if retries != len(tc.wantWaits) {
				t.Errorf("onRetry called %d times, want %d", retries, len(tc.wantWaits))
			}
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
				t.Errorf("err = %v, want %v", err, tc.wantErr)
			}
		})
	}
}

func TestDoContextEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	err := retry.Do(ctx, retry.Policy{Initial: time.Hour, Timer: &fakeTimer{}}, func(context.Context) error {
		calls++
		cancel()
		return errFlaky
	}, nil)
	if calls != 1 || !errors.Is(err, context.Canceled) || !errors.Is(err, errFlaky) {
		t.Errorf("calls = %d, err = %v; want 1 call and an error wrapping both context.Canceled and the last error", calls, err)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		p    retry.Policy
		ok   bool
	}{
		{"zero", retry.Policy{}, true},
		{"negative initial", retry.Policy{Initial: -1}, false},
		{"negative max", retry.Policy{Max: -1}, false},
		{"multiplier below one", retry.Policy{Multiplier: 0.5}, false},
		{"negative attempts", retry.Policy{MaxAttempts: -1}, false},
		{"jitter above one", retry.Policy{Jitter: 1.5}, false},
		{"negative jitter", retry.Policy{Jitter: -0.1}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.p.Validate(); (err == nil) != tc.ok {
				t.Errorf("Validate() = %v, want ok=%v", err, tc.ok)
			}
			if !tc.ok {
				if err := retry.Do(context.Background(), tc.p, func(context.Context) error { return nil }, nil); err == nil {
					t.Error("Do ran with an invalid policy")
				}
			}
		})
	}
}

func TestRealTimerHonoursContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := (retry.Policy{Initial: time.Hour}).Wait(ctx, 1); !errors.Is(err, context.Canceled) {
		t.Errorf("Wait on a cancelled context = %v, want context.Canceled", err)
	}
}
