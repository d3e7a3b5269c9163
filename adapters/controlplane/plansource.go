package controlplane

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/refinery/refinery-worker/handlers"
	"github.com/refinery/refinery-worker/pipeline"
)

// PlanSource serves plans from the control-plane: Current is the latest plan
// (GET /api/plan/latest, re-checked at most every TTL) and implements
// handlers.PlanSource; ByID returns plan id (GET /api/plan/{id}), cached for
// good since a saved plan does not change. It is safe for concurrent use.
type PlanSource struct {
	client *Client
	ttl    time.Duration

	mu      sync.Mutex
	checked time.Time
	latest  *StoredPlan
	err     error
	byID    map[int64]*pipeline.Plan
	// fetching holds the fetch of each plan id in flight: one GET per id at
	// a time, the other callers wait for its result.
	fetching map[int64]*planFetch
}

type planFetch struct {
	done chan struct{}
	plan *pipeline.Plan
	err  error
}

var _ handlers.PlanSource = (*PlanSource)(nil)

// NewPlanSource returns a PlanSource; ttl <= 0 means 10s.
func NewPlanSource(c *Client, ttl time.Duration) *PlanSource {
	if ttl <= 0 {
		ttl = 10 * time.Second
	}
	return &PlanSource{client: c, ttl: ttl, byID: map[int64]*pipeline.Plan{}, fetching: map[int64]*planFetch{}}
}

// Current returns the latest plan; the same pointer while its id is
// unchanged. No plan at the control-plane is handlers.ErrNoPlan. While the
// control-plane is unreachable the last plan fetched is served.
func (p *PlanSource) Current(ctx context.Context) (*pipeline.Plan, string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.checked.IsZero() || time.Since(p.checked) >= p.ttl {
		sp, err := p.client.LatestPlan(ctx)
		p.checked = time.Now()
		switch {
		case errors.Is(err, ErrPlanNotFound):
			p.latest, p.err = nil, fmt.Errorf("control-plane: %w", handlers.ErrNoPlan)
		case err != nil && p.latest != nil:
			// Keep serving the plan we have.
		case err != nil:
			p.err = fmt.Errorf("fetch latest plan: %w", err)
			p.checked = time.Time{} // try again on the next call
		case p.latest == nil || p.latest.ID != sp.ID:
			p.latest, p.err = sp, nil
			p.byID[sp.ID] = &sp.Plan
		}
	}
	if p.latest == nil {
		return nil, "", p.err
	}
	return &p.latest.Plan, "control-plane plan " + strconv.FormatInt(p.latest.ID, 10), nil
}

// ByID returns plan id. Concurrent calls for an id not cached yet share one
// fetch (a drain of many leases naming the same plan sends one GET); a caller
// whose ctx ends stops waiting, the fetch goes on for the others. A failed
// fetch is not cached: the next call tries again.
func (p *PlanSource) ByID(ctx context.Context, id int64) (*pipeline.Plan, error) {
	p.mu.Lock()
	if pl, ok := p.byID[id]; ok {
		p.mu.Unlock()
		return pl, nil
	}
	f, inFlight := p.fetching[id]
	if !inFlight {
		f = &planFetch{done: make(chan struct{})}
		p.fetching[id] = f
		go p.fetch(context.WithoutCancel(ctx), id, f)
	}
	p.mu.Unlock()
	select {
	case <-f.done:
		return f.plan, f.err
	case <-ctx.Done():
		return nil, fmt.Errorf("fetch plan %d: %w", id, ctx.Err())
	}
}

// fetch gets plan id once for every waiter of f (the client bounds it with
// its request timeout and retries).
func (p *PlanSource) fetch(ctx context.Context, id int64, f *planFetch) {
	sp, err := p.client.GetPlan(ctx, id)
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.fetching, id)
	if err != nil {
		f.err = err
	} else {
		p.byID[id] = &sp.Plan
		f.plan = &sp.Plan
	}
	close(f.done)
}
