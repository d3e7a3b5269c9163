package transport

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/refinery/refinery-worker/pipeline"
	"github.com/refinery/refinery-worker/pipeline/retry"
)

// FeedOptions tune [Feed].
type FeedOptions struct {
	// Batch is how many items one Claim takes at most. Default 64.
	Batch int
	// RecoverEvery is how often items of dead workers are taken over
	// (Intake.Recover). Default 5s.
	RecoverEvery time.Duration
	// MaxBackoff caps the wait after a failure (it starts at 500ms and
	// doubles). Default 10s.
	MaxBackoff time.Duration
	// OnPublished, when set, sees each item once its Work is stored in the
	// intake topic.
	OnPublished func(w *pipeline.Work)
	// Logger receives failures. Default: discard.
	Logger *slog.Logger
}

// Feed consumes an intake continuously into a durable transport until ctx
// ends: items of dead workers (every RecoverEvery), then new items as they
// arrive (the intakes' Claim waits up to about a second for one), each
// published to the intake topic as a Work with a new correlation id and
// released from the intake as soon as it is stored there (docs/architecture.md,
// invariant 1, on a durable transport). An item whose publication failed is
// returned to the intake. Failures (an outage) are logged and retried after
// a backoff, never in a tight loop; settlements that failed are retried
// first. Feed returns ctx's error.
//
// Releasing at once means the stages must not settle the claim later: a
// requeue goes back with the intake's Enqueue (both intakes skip claims
// they no longer know).
func Feed(ctx context.Context, in pipeline.Intake, pub *pipeline.Publisher, opts FeedOptions) error {
	if opts.Batch <= 0 {
		opts.Batch = 64
	}
	if opts.RecoverEvery <= 0 {
		opts.RecoverEvery = 5 * time.Second
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 10 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	f := &feeder{in: in, pub: pub, opts: opts}
	// After a failure: 500ms doubling to MaxBackoff, without bound, until ctx
	// ends; a round without failure starts again from 500ms.
	policy := retry.Policy{Initial: 500 * time.Millisecond, Max: opts.MaxBackoff}
	failures := 0
	var lastRecover time.Time
	for ctx.Err() == nil {
		err := f.settlePending(ctx)
		if err == nil && time.Since(lastRecover) >= opts.RecoverEvery {
			err = f.recover(ctx)
			if err == nil {
				lastRecover = time.Now()
			}
		}
		if err == nil {
			err = f.claim(ctx)
		}
		if err == nil {
			failures = 0
			continue
		}
		if ctx.Err() != nil {
			break
		}
		failures++
		wait := policy.Delay(failures)
		opts.Logger.Warn("feed the pipeline from the intake", "err", err, "retry_in", wait)
		_ = policy.Sleep(ctx, wait) // an ended ctx ends the loop
	}
	// Whatever is still to settle is retried once without the ended context.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := f.settlePending(sctx); err != nil {
		opts.Logger.Warn("settle fed items at stop", "err", err)
	}
	return ctx.Err()
}

type feeder struct {
	in      pipeline.Intake
	pub     *pipeline.Publisher
	opts    FeedOptions
	pending []pipeline.Settlement
}

func (f *feeder) settlePending(ctx context.Context) error {
	if len(f.pending) == 0 {
		return nil
	}
	if err := f.in.Settle(ctx, f.pending); err != nil {
		return fmt.Errorf("settle %d fed items: %w", len(f.pending), err)
	}
	f.pending = nil
	return nil
}

func (f *feeder) recover(ctx context.Context) error {
	items, err := f.in.Recover(ctx)
	if err != nil {
		return fmt.Errorf("recover items of dead workers: %w", err)
	}
	return f.publish(ctx, items)
}

func (f *feeder) claim(ctx context.Context) error {
	items, err := f.in.Claim(ctx, f.opts.Batch)
	if err != nil {
		return fmt.Errorf("claim items: %w", err)
	}
	return f.publish(ctx, items)
}

// publish stores each item's Work in the intake topic, then releases the
// published items and returns the others to the intake.
func (f *feeder) publish(ctx context.Context, items []pipeline.Claimed) error {
	var perr error
	for _, c := range items {
		kind := pipeline.Release
		if perr == nil {
			w := &pipeline.Work{CorrelationID: pipeline.NewCorrelationID(), Claim: c.Claim, Raw: c.Raw, ClaimedAt: c.ClaimedAt}
			if perr = f.pub.Publish(ctx, pipeline.TopicIntake, w); perr == nil && f.opts.OnPublished != nil {
				f.opts.OnPublished(w)
			}
		}
		if perr != nil {
			kind = pipeline.Return
		}
		f.pending = append(f.pending, pipeline.Settlement{Claim: c.Claim, Kind: kind})
	}
	if err := f.settlePending(ctx); err != nil {
		return err
	}
	return perr
}
