package outbox

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/refinery/refinery-worker/adapters/controlplane"
	"github.com/refinery/refinery-worker/pipeline/retry"
)

// Run delivers records until ctx is done, then waits for the deliveries in
// flight (they are cancelled with ctx) and returns nil. Records not delivered
// stay on disk for the next run.
func (o *Outbox) Run(ctx context.Context) error {
	if o.opts.Sender == nil {
		return errors.New("outbox: no sender")
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	active := 0
	done := make(chan struct{}, o.opts.Concurrency)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	adoptTick := time.NewTicker(o.opts.AdoptInterval)
	defer adoptTick.Stop()
	for {
		o.mu.Lock()
		now := time.Now()
		var next time.Time
		for name, g := range o.groups {
			if active >= o.opts.Concurrency {
				break
			}
			if g.busy {
				continue
			}
			if g.notBefore.After(now) {
				if next.IsZero() || g.notBefore.Before(next) {
					next = g.notBefore
				}
				continue
			}
			g.busy = true
			active++
			wg.Add(1)
			go func() {
				defer wg.Done()
				o.deliver(ctx, name, g)
				done <- struct{}{}
			}()
		}
		o.mu.Unlock()
		timer.Reset(time.Hour)
		if !next.IsZero() {
			timer.Reset(time.Until(next))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-done:
			active--
		case <-o.wake:
		case <-timer.C:
		case <-adoptTick.C:
			if n, err := o.adopt(); err != nil {
				o.log.Warn("outbox: adopting the reports of a stopped worker failed", "err", err)
			} else if n > 0 {
				o.log.Info("outbox: adopted the reports of a stopped worker", "records", n)
			}
		}
	}
}

// deliver sends the head record of g once and settles the outcome. Once
// means one HTTP attempt (Request.MaxAttempts 1): the outbox is the retry of
// a report (o.retry, forever, scheduled per group), so the client must not
// retry inside it as well.
func (o *Outbox) deliver(ctx context.Context, name string, g *group) {
	o.mu.Lock()
	r := g.recs[0]
	o.mu.Unlock()
	_, err := o.opts.Sender.Send(ctx, controlplane.Request{Method: r.Method, Path: r.Path, Body: r.Body,
		ContentType: r.ContentType, IdempotencyKey: r.Key, MaxAttempts: 1})
	if err != nil && ctx.Err() != nil {
		o.mu.Lock()
		g.busy = false
		o.mu.Unlock()
		return
	}
	if err != nil && retryable(err) {
		o.mu.Lock()
		g.failures++
		o.stats.Failures++
		n := g.failures
		d := o.retry().Delay(n)
		g.notBefore = time.Now().Add(d)
		g.busy = false
		o.mu.Unlock()
		o.log.Warn("outbox: delivery failed, will retry", "kind", r.Kind, "path", r.Path, "group", name,
			"failures", n, "wait", d, "err", err)
		return
	}
	dead := err != nil
	if dead {
		dl := DeadLetter{Record: *r, Body: string(r.Body), Error: err.Error(), At: time.Now().UTC()}
		var he *controlplane.HTTPError
		if errors.As(err, &he) {
			dl.Status, dl.Answer = he.Status, he.Body
		}
		if werr := appendDeadLetter(filepath.Join(o.opts.Dir, deadLetterFile), dl); werr != nil {
			// Keep the record rather than lose it; try again later.
			o.log.Error("outbox: cannot write dead letter; keeping the record", "err", werr)
			o.mu.Lock()
			g.failures++
			g.notBefore = time.Now().Add(o.opts.MaxBackoff)
			g.busy = false
			o.mu.Unlock()
			return
		}
		o.log.Error("outbox: report rejected, moved to dead letters", "kind", r.Kind, "path", r.Path,
			"group", name, "err", err)
	}
	o.mu.Lock()
	o.files[r.file]--
	last := o.files[r.file] <= 0
	if last {
		delete(o.files, r.file)
	}
	o.mu.Unlock()
	if last {
		if rerr := os.Remove(filepath.Join(o.pending, recName(r.file))); rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
			o.log.Warn("outbox: cannot remove a delivered batch; it may be sent again after a restart", "err", rerr)
		}
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if dead {
		o.dead++
	} else {
		o.stats.Delivered++
		if g.failures > 0 {
			// The control-plane is back: the other groups waiting after a
			// failure try again now rather than at the end of their own
			// backoff (their failure counts stay, so a record that keeps
			// failing still backs off further).
			for _, og := range o.groups {
				if og != g && og.failures > 0 {
					og.notBefore = time.Time{}
				}
			}
			o.poke()
		}
	}
	g.recs = g.recs[1:]
	g.failures = 0
	g.notBefore = time.Time{}
	g.busy = false
	delete(o.keys, r.Key)
	o.backlog--
	if len(g.recs) == 0 {
		delete(o.groups, name)
	}
	o.changedLocked()
}

// retryable is true unless err says it is permanent (Retryable() false).
func retryable(err error) bool {
	var r interface{ Retryable() bool }
	if errors.As(err, &r) {
		return r.Retryable()
	}
	return true
}

// retry schedules the next delivery of a group after its n-th failure in a
// row: MinBackoff doubling to MaxBackoff, jittered in [d/2, d], without
// bound (a report is never given up while it is retryable).
func (o *Outbox) retry() retry.Policy {
	return retry.Policy{Initial: o.opts.MinBackoff, Max: o.opts.MaxBackoff, Jitter: 0.5}
}
