package outbox

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"

	"github.com/refinery/refinery-worker/adapters/controlplane"
	"github.com/refinery/refinery-worker/handlers"
	"github.com/refinery/refinery-worker/pipeline"
)

// PlanPoster stores each local plan (plan.json) at the control-plane once per
// run_id, so that the events naming that run_id point at a stored plan. It
// wraps the plan stage's source: the first time Current returns a plan with a
// run_id not posted yet, it queues POST /api/plan in the outbox and leaves a
// marker file under Dir, so a restart does not post it again.
type PlanPoster struct {
	inner handlers.PlanSource
	rep   *Reporter
	dir   string
	log   *slog.Logger

	mu   sync.Mutex
	last *pipeline.Plan // the plan last seen and posted (or already posted)
}

var _ handlers.PlanSource = (*PlanPoster)(nil)

// NewPlanPoster wraps inner. dir keeps the markers of posted run ids
// (CACHE_DIR/plans-posted); it is created if missing.
func NewPlanPoster(inner handlers.PlanSource, rep *Reporter, dir string, log *slog.Logger) (*PlanPoster, error) {
	if inner == nil || rep == nil || dir == "" {
		return nil, errors.New("plan poster: source, reporter and dir are required")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("plan poster: %w", err)
	}
	if log == nil {
		log = slog.Default()
	}
	return &PlanPoster{inner: inner, rep: rep, dir: dir, log: log}, nil
}

// Current returns inner's plan, posting it first when it is new. A failure to
// queue the plan is logged and tried again on the next call; it never fails
// the request being planned.
func (p *PlanPoster) Current(ctx context.Context) (*pipeline.Plan, string, error) {
	plan, src, err := p.inner.Current(ctx)
	if err != nil || plan == nil {
		return plan, src, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if plan != p.last {
		if perr := p.post(ctx, plan); perr != nil {
			p.log.Warn("cannot queue the local plan for the control-plane; trying again with the next item",
				"run_id", plan.RunID, "err", perr)
		} else {
			p.last = plan
		}
	}
	return plan, src, nil
}

// Post queues plan for the control-plane unless its run_id was posted
// already. A plan without a run_id is not posted: nothing can refer to it.
func (p *PlanPoster) Post(ctx context.Context, plan *pipeline.Plan) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.post(ctx, plan)
}

func (p *PlanPoster) post(ctx context.Context, plan *pipeline.Plan) error {
	if plan.RunID == "" || len(plan.Nodes) == 0 {
		return nil // the control-plane refuses an empty plan
	}
	h := sha256.Sum256([]byte(plan.RunID))
	marker := filepath.Join(p.dir, hex.EncodeToString(h[:16]))
	if _, err := os.Stat(marker); err == nil {
		return nil
	}
	if err := p.rep.ReportPlan(ctx, "plan-"+plan.RunID, controlplane.PlanUpload{Plan: *plan}); err != nil {
		return err
	}
	// The record is durable in the outbox; the marker only prevents a second
	// POST after a restart. Losing it in a crash re-posts the plan with the
	// same idempotency key.
	if err := os.WriteFile(marker, []byte(plan.RunID+"\n"), 0o600); err != nil {
		return fmt.Errorf("plan poster: marker: %w", err)
	}
	return nil
}
