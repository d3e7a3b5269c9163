package planner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/refinery/refinery-worker/adapters/objstore"
	"github.com/refinery/refinery-worker/adapters/pyindex"
	"github.com/refinery/refinery-worker/pipeline"
	"github.com/refinery/refinery-worker/pipeline/pep440"
	"github.com/refinery/refinery-worker/pipeline/resolve"
)

// PlanPoster queues a plan for the control-plane (outbox.PlanPoster).
type PlanPoster interface {
	Post(ctx context.Context, p *pipeline.Plan) error
}

// ServiceOptions configure a Service.
type ServiceOptions struct {
	// Index configures the index client; each planning run gets a fresh
	// one (its page memo lives as long as the planner), so the index stays
	// fresh.
	Index pyindex.Config
	// Planner is the planner's configuration; its Strategy and Overrides
	// come from Strategy and Overrides below.
	Planner Config
	// Strategy is UPGRADE_STRATEGY (resolve.ParseStrategy).
	Strategy string
	// Overrides is PLAN_OVERRIDES_JSON: name → version.
	Overrides map[string]string
	// RequirementsPath is REQUIREMENTS_PATH, what POST /plan plans ("":
	// POST /plan fails).
	RequirementsPath string
	// Jobs runs POST /plan's plans in the background.
	Jobs *Jobs
	// Poster, when set, queues each plan POST /plan writes for the
	// control-plane.
	Poster PlanPoster
	// Written, when set, is told that plan.json changed (the plan source
	// re-reads it).
	Written func()

	// ControlPlane, with PollInterval > 0, turns on the pending-input
	// poller (StartPoller).
	ControlPlane ControlPlane
	// PollInterval is PLAN_POLL_INTERVAL; 0 turns the poller off.
	PollInterval time.Duration
	// Objects is the object store the poller reads uploads from; an empty
	// Endpoint means none.
	Objects objstore.Config
	Logger  *slog.Logger
}

// Service plans for the worker: POST /plan (handlers.Planner), the plan
// command, and the control-plane's pending inputs (docs/control-plane.md,
// planning).
type Service struct {
	o ServiceOptions
}

// NewService returns a Service; nothing is planned before it is asked.
func NewService(o ServiceOptions) *Service { return &Service{o: o} }

// NewPlanner builds a Planner over a fresh index client.
func (s *Service) NewPlanner() (*Planner, error) {
	idx, err := pyindex.New(s.o.Index)
	if err != nil {
		return nil, fmt.Errorf("index client: %w", err)
	}
	strategy, err := resolve.ParseStrategy(s.o.Strategy)
	if err != nil {
		return nil, err
	}
	overrides := make(map[string]pep440.Version, len(s.o.Overrides))
	for name, v := range s.o.Overrides {
		pv, err := pep440.Parse(v)
		if err != nil {
			return nil, fmt.Errorf("PLAN_OVERRIDES_JSON: %s: %w", name, err)
		}
		overrides[name] = pv
	}
	cfg := s.o.Planner
	cfg.Strategy, cfg.Overrides = strategy, overrides
	return New(idx, idx, cfg)
}

// Print plans the requirements file at path, writes plan.json and prints
// the plan as a table (the plan command).
func (s *Service) Print(ctx context.Context, path string, out io.Writer) error {
	p, err := s.NewPlanner()
	if err != nil {
		return err
	}
	plan, err := p.Plan(ctx, path)
	if err != nil {
		return fmt.Errorf("plan %s: %w", path, err)
	}
	if err := WriteTable(out, plan); err != nil {
		return err
	}
	fmt.Fprintf(out, "run_id %s: %d packages, written to %s\n", plan.RunID, len(plan.Nodes), filepath.Join(s.o.Planner.OutputDir, PlanFile))
	return nil
}

// plan is POST /plan's work: plan RequirementsPath, write plan.json, queue
// the plan for the control-plane when one is configured.
func (s *Service) plan(ctx context.Context) (*pipeline.Plan, error) {
	if s.o.RequirementsPath == "" {
		return nil, errors.New("REQUIREMENTS_PATH is not set: nothing to plan")
	}
	p, err := s.NewPlanner()
	if err != nil {
		return nil, err
	}
	plan, err := p.Plan(ctx, s.o.RequirementsPath)
	if err != nil {
		return nil, err
	}
	if s.o.Written != nil {
		s.o.Written()
	}
	if s.o.Poster != nil {
		if err := s.o.Poster.Post(ctx, plan); err != nil {
			return plan, fmt.Errorf("queue plan %s for the control-plane: %w", plan.RunID, err)
		}
	}
	s.o.Logger.Info("plan written", "run_id", plan.RunID, "nodes", len(plan.Nodes), "requirements", s.o.RequirementsPath)
	return plan, nil
}

// Regenerate implements handlers.Planner: it starts a plan and waits up to
// wait for it; a plan not finished by then is answered with its job id.
func (s *Service) Regenerate(ctx context.Context, wait time.Duration) (*pipeline.Plan, string, error) {
	job := s.o.Jobs.Start(s.plan)
	wctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	plan, err := job.Wait(wctx)
	if !job.Finished() {
		return nil, job.ID, nil
	}
	return plan, job.ID, err
}

// Job implements handlers.Planner.
func (s *Service) Job(id string) (plan *pipeline.Plan, done bool, err error, found bool) {
	job, ok := s.o.Jobs.Get(id)
	if !ok {
		return nil, false, nil, false
	}
	if !job.Finished() {
		return nil, false, nil, true
	}
	plan, err = job.Wait(context.Background())
	return plan, true, err, true
}

// StartPoller plans the control-plane's pending inputs every PollInterval
// until ctx ends, when a control-plane is configured and the interval is
// positive. A poller that cannot start is logged, not fatal.
func (s *Service) StartPoller(ctx context.Context) {
	if s.o.ControlPlane == nil || s.o.PollInterval <= 0 {
		return
	}
	poller, err := s.newPoller()
	if err != nil {
		s.o.Logger.Error("pending-input poller not started", "err", err)
		return
	}
	go s.runPoller(ctx, poller)
}

func (s *Service) newPoller() (*Poller, error) {
	p, err := s.NewPlanner()
	if err != nil {
		return nil, err
	}
	var objects Objects
	if s.o.Objects.Endpoint != "" {
		st, err := objstore.New(s.o.Objects)
		if err != nil {
			return nil, fmt.Errorf("object store: %w", err)
		}
		objects = st
	}
	return NewPoller(s.o.ControlPlane, objects, p, PollerConfig{Interval: s.o.PollInterval, Logger: s.o.Logger}), nil
}

func (s *Service) runPoller(ctx context.Context, poller *Poller) {
	if err := poller.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
		s.o.Logger.Error("pending-input poller stopped", "err", err)
	}
}
