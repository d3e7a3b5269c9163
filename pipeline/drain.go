package pipeline

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/refinery/refinery-worker/pipeline/retry"
)

// Drainer takes items from the intake into the pipeline: one drain takes up
// to Batch items (plus any recovered from dead workers), keeping at most
// Window of them in flight, and ends when each has settled. A drain asked for
// while one runs joins it.
type Drainer struct {
	intake  Intake
	pub     *Publisher
	tracker *Tracker
	opts    DrainOptions
	log     *slog.Logger

	// stopCtx is cancelled by Stop: a claim waiting for items gives up.
	stopCtx    context.Context
	stopCancel context.CancelFunc
	// claiming counts drains still in their claim loop; Stop waits for it,
	// so every item an intake handed out is tracked before Stop returns.
	claiming sync.WaitGroup

	mu      sync.Mutex
	current *Drain
	last    *Drain
	stopped bool
}

// DrainOptions tune a Drainer.
type DrainOptions struct {
	// Batch is how many items one drain takes (BATCH_SIZE, ≥1).
	Batch int
	// Window bounds items in flight at once (default 512).
	Window int
	// Chunk is how many items one Claim call takes at most (default 256).
	Chunk int
	// OnSettled, when set, sees each item's summary as it settles.
	OnSettled func(drainID string, s Summary)
	// BeforeRecovered, when set, runs before items recovered from a dead
	// worker enter the pipeline (the manifest folds in that worker's journal
	// so its recorded outcomes are recognised).
	BeforeRecovered func() error
	// Continuous keeps the drain claiming until the drainer stops (a
	// streaming intake: Redis list, Kafka topic); Batch is ignored then.
	Continuous bool
	// Release, when set, is called for each item once its message is stored
	// in the intake topic of a durable transport (DESIGN invariant 1: the
	// intake lets go of it then; the transport carries it on).
	Release func(Claimed)
	// WaitItems, when set, is called in a continuous drain after a claim
	// found nothing, for an intake whose Claim returns at once (a file): it
	// returns when items may have arrived (or ctx ends), so the drain looks
	// again without spinning.
	WaitItems func(ctx context.Context)
	// ClaimNeverRedelivers says the intake hands a dead worker's items out
	// only through Recover (a file queue, a Redis list; not a Kafka topic,
	// whose rebalance redelivers through Claim), so a continuous drain need
	// not run BeforeRecovered after each claim. Recover still runs it.
	ClaimNeverRedelivers bool
	// Refill, when above 1, makes a drain claim only once at least Refill
	// items fit in its window (or it holds none): the window is refilled in
	// batches, so an intake whose claim costs the same for one item as for
	// many (a file rewritten whole) is not asked once per settled item.
	Refill int
	// Gate, when set, is asked before each claim; an error (paused, disk
	// low) stops the drain from taking more items. Items it holds finish.
	Gate func() error
}

// NewDrainer builds a drainer.
func NewDrainer(intake Intake, pub *Publisher, tracker *Tracker, opts DrainOptions, log *slog.Logger) *Drainer {
	if opts.Window <= 0 {
		opts.Window = 512
	}
	if opts.Chunk <= 0 {
		opts.Chunk = 256
	}
	if opts.Batch <= 0 {
		opts.Batch = 50
	}
	stopCtx, stopCancel := context.WithCancel(context.Background())
	return &Drainer{intake: intake, pub: pub, tracker: tracker, opts: opts, log: log,
		stopCtx: stopCtx, stopCancel: stopCancel}
}

// Start begins a drain, or returns the running one (joined = true).
func (d *Drainer) Start(ctx context.Context) (dr *Drain, joined bool, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.stopped {
		return nil, false, fmt.Errorf("start drain: worker is shutting down")
	}
	if d.current != nil {
		return d.current, true, nil
	}
	dr = &Drain{ID: "d-" + watermill.NewShortUUID(), Started: time.Now().UTC(), counts: map[string]int{},
		claiming: true, finished: make(chan struct{}), changed: make(chan struct{}, 1), onSettled: d.opts.OnSettled}
	d.current = dr
	d.claiming.Add(1)
	go d.run(context.WithoutCancel(ctx), dr)
	return dr, false, nil
}

// Current returns the running drain, or the last finished one, or nil.
func (d *Drainer) Current() *Drain {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.current != nil {
		return d.current
	}
	return d.last
}

// Stop stops taking new items and returns once no claim is in progress: a
// claim waiting for items is cancelled, and items a claim already took are
// tracked (so a shutdown sees them in flight and can give them back). Drains
// in progress finish what they hold.
func (d *Drainer) Stop() {
	d.mu.Lock()
	d.stopped = true
	d.mu.Unlock()
	d.stopCancel()
	d.claiming.Wait()
}

func (d *Drainer) isStopped() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.stopped
}

func (d *Drainer) run(ctx context.Context, dr *Drain) {
	defer func() {
		d.mu.Lock()
		d.current, d.last = nil, dr
		d.mu.Unlock()
	}()
	log := d.log.With("drain", dr.ID)
	d.claimLoop(ctx, dr, log)
	d.claiming.Done()
	dr.mu.Lock()
	dr.claiming = false
	dr.mu.Unlock()
	dr.signal()
	for !dr.complete() {
		dr.waitChange(ctx)
	}
	close(dr.finished)
	st := dr.Status()
	log.Info("drain finished", "claimed", st.Claimed, "settled", st.Settled, "counts", st.Counts, "error", st.Error,
		"duration", time.Since(dr.Started))
}

// claimLoop claims items and publishes them until the drain has its batch
// (or, continuous, until Stop). Waits inside it end at Stop; publishing does
// not, so an item claimed is always tracked and published.
func (d *Drainer) claimLoop(ctx context.Context, dr *Drain, log *slog.Logger) {
	claimCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(d.stopCtx, cancel)()
	d.recover(claimCtx, ctx, dr, log)
	lastRecover := time.Now()
	taken := 0
	for (d.opts.Continuous || taken < d.opts.Batch) && !d.isStopped() {
		if err := dr.error(); err != nil {
			if !d.opts.Continuous {
				break
			}
			// A streaming intake's outage: keep trying with a pause, so the
			// worker reconnects by itself (no tight loop).
			log.Warn("intake failed, retrying", "err", err, "retry_in", intakeRetry().Delay(1))
			dr.clearError()
			_ = intakeRetry().Wait(claimCtx, 1) // an ended claimCtx ends the loop above
			continue
		}
		if d.opts.Continuous && time.Since(lastRecover) > recoverEvery {
			// Other workers may have died meanwhile: take over what they held.
			d.recover(claimCtx, ctx, dr, log)
			lastRecover = time.Now()
		}
		held := dr.inFlight()
		room := d.opts.Window - held
		// Items awaiting their settle write are out of the window, but at
		// most another window of them: a stalled settle stops the claims.
		room = min(room, 2*d.opts.Window-dr.held())
		if room <= 0 || (held > 0 && room < d.opts.Refill) {
			dr.waitChange(claimCtx)
			continue
		}
		if d.opts.Gate != nil {
			if err := d.opts.Gate(); err != nil {
				if !d.opts.Continuous {
					log.Warn("not taking new items", "reason", err)
					break
				}
				select {
				case <-time.After(time.Second):
				case <-claimCtx.Done():
				}
				continue
			}
		}
		n := min(d.opts.Chunk, room)
		if !d.opts.Continuous {
			n = min(n, d.opts.Batch-taken)
		}
		items, err := d.intake.Claim(claimCtx, n)
		if err != nil && claimCtx.Err() != nil && len(items) == 0 {
			break // Stop cancelled a claim waiting for items
		}
		if err != nil {
			dr.fail(fmt.Errorf("claim items: %w", err))
			if d.opts.Continuous {
				continue
			}
			break
		}
		if len(items) == 0 {
			if d.opts.Continuous {
				if d.opts.WaitItems != nil {
					d.opts.WaitItems(claimCtx)
				}
				continue // the claim waited for items (or WaitItems did); ask again
			}
			break
		}
		taken += len(items)
		if d.opts.Continuous && d.opts.BeforeRecovered != nil && !d.opts.ClaimNeverRedelivers {
			// A streaming intake redelivers a dead worker's items through
			// Claim (a Kafka rebalance): fold its journal in first, so what it
			// recorded is recognised. Cheap when no worker died.
			if err := d.opts.BeforeRecovered(); err != nil {
				log.Warn("prepare claimed items", "err", err)
			}
		}
		if err := d.publish(ctx, dr, items); err != nil {
			dr.fail(err)
		}
	}
}

// intakeRetry is the pause of a continuous drain after its intake failed: a
// constant 2s (no growth, no bound: the drain retries until it is stopped).
func intakeRetry() retry.Policy { return retry.Policy{Initial: 2 * time.Second, Multiplier: 1} }

// recoverEvery is how often a continuous drain looks for items of dead
// workers.
const recoverEvery = 5 * time.Second

// recover takes over the items held by dead workers and publishes them
// (claimCtx bounds taking them over; ctx, publishing them).
func (d *Drainer) recover(claimCtx, ctx context.Context, dr *Drain, log *slog.Logger) {
	recovered, err := d.intake.Recover(claimCtx)
	if err != nil && claimCtx.Err() != nil && len(recovered) == 0 {
		return // stopping
	}
	if err != nil {
		log.Warn("recover held items", "err", err)
		if !d.opts.Continuous {
			dr.fail(fmt.Errorf("recover held items: %w", err))
		}
		return
	}
	if d.opts.BeforeRecovered != nil && (len(recovered) > 0 || d.opts.Continuous) {
		if err := d.opts.BeforeRecovered(); err != nil {
			dr.fail(fmt.Errorf("prepare recovered items: %w", err))
			return
		}
	}
	if len(recovered) == 0 {
		return
	}
	log.Info("recovered items held by a stopped worker", "items", len(recovered))
	if err := d.publish(ctx, dr, recovered); err != nil {
		dr.fail(err)
	}
}

func (d *Drainer) publish(ctx context.Context, dr *Drain, items []Claimed) error {
	for _, c := range items {
		dr.mu.Lock()
		dr.claimed++
		dr.mu.Unlock()
		d.tracker.track(c, dr)
		w := &Work{CorrelationID: NewCorrelationID(), Claim: c.Claim, Raw: c.Raw, ClaimedAt: c.ClaimedAt}
		if err := d.pub.Publish(ctx, TopicIntake, w); err != nil {
			return err
		}
		if d.opts.Release != nil {
			d.opts.Release(c)
		}
	}
	return nil
}
