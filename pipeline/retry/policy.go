// Package retry is the worker's one retry policy: capped exponential backoff
// with optional jitter, a bound on attempts, and an injectable Timer so tests
// run without waiting. Every loop that retries uses it: Do for a call that is
// repeated until it succeeds, Policy.Wait for a loop that keeps its own
// failure count (a reader that resets after success), Policy.Delay for a
// caller that schedules the next attempt instead of sleeping (a requeue with
// not_before, an outbox record's next delivery).
//
// The error vocabulary is cenkalti/backoff's: backoff.Permanent(err) ends Do
// at once, a *backoff.RetryAfterError sets the next wait (capped at Max).
// Policy also implements backoff.BackOff (see BackOff) for code that wants
// that interface.
package retry

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/cenkalti/backoff/v5"
)

// Policy says how a caller retries. The zero value retries at once, without
// end; callers set their own limits where they configure the policy.
type Policy struct {
	// Initial is the wait before the first retry. Must be >= 0.
	Initial time.Duration
	// Max caps one wait (and a server's Retry-After). 0 means no cap.
	Max time.Duration
	// Multiplier grows the wait per retry. 0 means 2; otherwise must be >= 1.
	Multiplier float64
	// MaxAttempts bounds the calls Do makes, the first included (1 = no
	// retry). 0 means no bound: only the context ends the retries.
	MaxAttempts int
	// Jitter is the fraction of each wait d drawn at random: the wait is
	// uniform in [d·(1-Jitter), d], so that callers failing together do not
	// retry together. 0 means no jitter; 0.5 gives [d/2, d]. Must be in [0, 1].
	Jitter float64
	// Timer waits between attempts. nil means the real clock.
	Timer Timer
}

// Validate reports a policy whose fields are out of bounds, naming the field.
func (p Policy) Validate() error {
	switch {
	case p.Initial < 0:
		return fmt.Errorf("retry: Initial %s must not be negative", p.Initial)
	case p.Max < 0:
		return fmt.Errorf("retry: Max %s must not be negative", p.Max)
	case p.Multiplier != 0 && p.Multiplier < 1:
		return fmt.Errorf("retry: Multiplier %g must be >= 1", p.Multiplier)
	case p.Jitter < 0 || p.Jitter > 1:
		return fmt.Errorf("retry: Jitter %g must be in [0, 1]", p.Jitter)
	case p.MaxAttempts < 0:
		return fmt.Errorf("retry: MaxAttempts %d must not be negative", p.MaxAttempts)
	}
	return nil
}

// Delay is the wait before retry number n (1-based: the wait after the n-th
// failed attempt): Initial·Multiplier^(n-1), capped at Max, jittered by
// Jitter. n < 1 counts as 1.
func (p Policy) Delay(n int) time.Duration {
	d := p.base(n)
	if p.Jitter > 0 && d > 1 {
		span := time.Duration(float64(d) * min(p.Jitter, 1))
		d = d - span + rand.N(span+1)
	}
	return d
}

// base is Delay without jitter.
func (p Policy) base(n int) time.Duration {
	m := p.Multiplier
	if m == 0 {
		m = 2
	}
	d := float64(p.Initial)
	for i := 1; i < n; i++ {
		d *= m
		if p.Max > 0 && d >= float64(p.Max) || d >= float64(1<<62) {
			break
		}
	}
	if p.Max > 0 && d > float64(p.Max) {
		return p.Max
	}
	return time.Duration(min(d, float64(1<<62)))
}

// Wait sleeps Delay(n) on the policy's timer; it returns ctx's cause if ctx
// ends first.
func (p Policy) Wait(ctx context.Context, n int) error {
	return p.Sleep(ctx, p.Delay(n))
}

// Sleep waits d on the policy's timer, for a caller that logged the wait it
// drew with Delay; it returns ctx's cause if ctx ends first.
func (p Policy) Sleep(ctx context.Context, d time.Duration) error {
	return p.timer().Sleep(ctx, d)
}

func (p Policy) timer() Timer {
	if p.Timer == nil {
		return realTimer{}
	}
	return p.Timer
}

// BackOff returns a fresh backoff.BackOff that yields Delay(1), Delay(2), …
// and backoff.Stop once MaxAttempts calls have been made.
func (p Policy) BackOff() backoff.BackOff { return &stepper{p: p} }

type stepper struct {
	p Policy
	n int
}

func (s *stepper) NextBackOff() time.Duration {
	s.n++
	if s.p.MaxAttempts > 0 && s.n >= s.p.MaxAttempts {
		return backoff.Stop
	}
	return s.p.Delay(s.n)
}

func (s *stepper) Reset() { s.n = 0 }

// Retry describes one failed attempt that Do is about to retry.
type Retry struct {
	Attempt int           // the attempt that failed, 1-based
	Wait    time.Duration // the wait before the next one
	Err     error
}

// Do calls fn until it returns nil, an error wrapped with backoff.Permanent
// (returned unwrapped), MaxAttempts calls have failed (the last error is
// returned), or ctx ends (ctx's cause is returned, wrapping the last error).
// onRetry, when not nil, is called before each wait (to log it).
func Do(ctx context.Context, p Policy, fn func(ctx context.Context) error, onRetry func(Retry)) error {
	if err := p.Validate(); err != nil {
		return err
	}
	b := p.BackOff()
	for attempt := 1; ; attempt++ {
		err := fn(ctx)
		if err == nil {
			return nil
		}
		var perm *backoff.PermanentError
		if errors.As(err, &perm) {
			return perm.Unwrap()
		}
		if cerr := context.Cause(ctx); cerr != nil {
			return fmt.Errorf("%w (last error: %w)", cerr, err)
		}
		wait := b.NextBackOff()
		if wait == backoff.Stop {
			return err
		}
		var ra *backoff.RetryAfterError
		if errors.As(err, &ra) && ra.Duration > 0 {
			wait = ra.Duration
			if p.Max > 0 {
				wait = min(wait, p.Max)
			}
		}
		if onRetry != nil {
			onRetry(Retry{Attempt: attempt, Wait: wait, Err: err})
		}
		if serr := p.timer().Sleep(ctx, wait); serr != nil {
			return fmt.Errorf("%w (last error: %w)", serr, err)
		}
	}
}
