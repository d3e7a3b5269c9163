package handlers

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/refinery/refinery-worker/pipeline"
)

// ErrNoPlan is returned by a PlanSource that has no plan to offer.
var ErrNoPlan = errors.New("no plan")

// PlanSource gives the current plan snapshot. It caches and reloads as it
// sees fit; it returns the same *Plan pointer while the plan is unchanged.
type PlanSource interface {
	Current(ctx context.Context) (plan *pipeline.Plan, source string, err error)
}

// PlanByID fetches a plan by its control-plane id (GET /api/plan/{id}).
type PlanByID interface {
	ByID(ctx context.Context, id int64) (*pipeline.Plan, error)
}

// Plan attaches the plan snapshot to each request: which plan, and the nodes
// whose name matches the request's (PEP 503). With no plan at all, an item
// naming a version is built as asked (source PlanNone); one without a version
// is a recorded failure (reason no_plan), not a crash.
type Plan struct {
	source PlanSource
	byID   PlanByID // optional: requests naming a plan_id use that plan

	mu    sync.Mutex
	last  *pipeline.Plan
	index map[string][]int // normalised name → positions in last.Nodes
}

// PlanNone is the plan source of an item built without a plan: an exact
// version asked for when no plan exists (recorded as metadata.plan "none").
const PlanNone = "none"

// noPlanHelp ends the error of an item that has neither a version nor a plan.
const noPlanHelp = "; the item names no version: give it one to build that version for the target, " +
	"or provide a plan (OUTPUT_DIR/plan.json or CACHE_DIR/plan.json, which `refinery-worker plan --requirements FILE` " +
	"writes, or a plan_id served by CONTROL_PLANE_URL)"

// NewPlan builds the plan stage. byID may be nil; when set, a request with a
// plan_id is matched against that plan (the control-plane build queue's
// leases name theirs).
func NewPlan(source PlanSource, byID PlanByID) *Plan { return &Plan{source: source, byID: byID} }

// Handle is the stage.
func (p *Plan) Handle(ctx context.Context, w *pipeline.Work) (string, error) {
	var plan *pipeline.Plan
	var src string
	var err error
	if id := w.Request.Item.PlanID; id != 0 && p.byID != nil {
		plan, err = p.byID.ByID(ctx, id)
		src = fmt.Sprintf("control-plane plan %d", id)
	} else {
		plan, src, err = p.source.Current(ctx)
	}
	if err != nil {
		reason := pipeline.ReasonNoPlan
		msg := err.Error()
		switch {
		case !errors.Is(err, ErrNoPlan):
			reason = "bad_plan"
		case w.Request.Item.PlanID == 0 && w.Request.Version != "":
			// No plan at all: build the exact version asked for the target.
			w.Plan = &pipeline.PlanRef{Source: PlanNone, Nodes: []pipeline.PlanNode{{Name: w.Request.Item.Package,
				Version: w.Request.Version, Action: pipeline.ActionBuild}}}
			return pipeline.TopicPlanned, nil
		case w.Request.Item.PlanID == 0:
			msg += noPlanHelp
		}
		w.Result = &pipeline.Result{Status: pipeline.StatusFailed, Reason: reason, Error: msg}
		return pipeline.TopicResults, nil
	}
	w.Plan = &pipeline.PlanRef{RunID: plan.RunID, Source: src, Nodes: p.nodes(plan, w.Request.Name)}
	return pipeline.TopicPlanned, nil
}

func (p *Plan) nodes(plan *pipeline.Plan, name string) []pipeline.PlanNode {
	p.mu.Lock()
	defer p.mu.Unlock()
	if plan != p.last {
		p.index = make(map[string][]int, len(plan.Nodes))
		for i, n := range plan.Nodes {
			k := pipeline.NormalizeName(n.Name)
			p.index[k] = append(p.index[k], i)
		}
		p.last = plan
	}
	pos := p.index[name]
	if len(pos) == 0 {
		return nil
	}
	nodes := make([]pipeline.PlanNode, len(pos))
	for i, j := range pos {
		nodes[i] = plan.Nodes[j]
	}
	return nodes
}
