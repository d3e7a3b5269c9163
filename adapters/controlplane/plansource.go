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
}

var _ handlers.PlanSource = (*PlanSource)(nil)

// NewPlanSource returns a PlanSource; ttl <= 0 means 10s.
func NewPlanSource(c *Client, ttl time.Duration) *PlanSource {
	if ttl <= 0 {
		ttl = 10 * time.Second
	}
	return &PlanSource{client: c, ttl: ttl, byID: map[int64]*pipeline.Plan{}}
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

// ByID returns plan id.
func (p *PlanSource) ByID(ctx context.Context, id int64) (*pipeline.Plan, error) {
	p.mu.Lock()
	if pl, ok := p.byID[id]; ok {
		p.mu.Unlock()
		return pl, nil
	}
	p.mu.Unlock()
	sp, err := p.client.GetPlan(ctx, id)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if pl, ok := p.byID[id]; ok {
		return pl, nil
	}
	p.byID[id] = &sp.Plan
	return &sp.Plan, nil
}
