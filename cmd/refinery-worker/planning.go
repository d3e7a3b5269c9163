package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/refinery/refinery-worker/adapters/objstore"
	"github.com/refinery/refinery-worker/adapters/outbox"
	"github.com/refinery/refinery-worker/adapters/pyindex"
	"github.com/refinery/refinery-worker/handlers"
	"github.com/refinery/refinery-worker/pipeline"
	"github.com/refinery/refinery-worker/pipeline/pep440"
	"github.com/refinery/refinery-worker/pipeline/resolve"
	"github.com/refinery/refinery-worker/planner"
)

// newPlanner builds a Planner over a fresh index client (its page memo lives
// as long as the planner: one per planning run keeps the index fresh).
func newPlanner(cfg Config, log *slog.Logger) (*planner.Planner, error) {
	idx, err := pyindex.New(pyindex.Config{IndexURL: cfg.IndexURL, ExtraIndexURLs: cfg.ExtraIndexURL,
		Username: cfg.IndexUsername, Password: cfg.IndexPassword, CacheDir: filepath.Join(cfg.CacheDir, "index"),
		PythonVersion: cfg.PythonFullVersion, Timeout: cfg.IndexTimeout.D(), Logger: log})
	if err != nil {
		return nil, fmt.Errorf("index client: %w", err)
	}
	strategy, err := resolve.ParseStrategy(cfg.UpgradeStrategy)
	if err != nil {
		return nil, err
	}
	overrides := make(map[string]pep440.Version, len(cfg.PlanOverrides))
	for name, v := range cfg.PlanOverrides {
		pv, err := pep440.Parse(v)
		if err != nil {
			return nil, fmt.Errorf("PLAN_OVERRIDES_JSON: %s: %w", name, err)
		}
		overrides[name] = pv
	}
	return planner.New(idx, idx, planner.Config{PythonVersion: cfg.PythonFullVersion, PlatformTag: cfg.PlatformTag,
		OutputDir: cfg.OutputDir, Strategy: strategy, MaxDeps: cfg.MaxDeps, MaxAttempts: cfg.ResolverMaxAttempts,
		Overrides: overrides, Logger: log})
}

// stagePlans is the plan stage's source: plan.json, stored at the
// control-plane once per run_id when one is configured (the poster, also
// used by POST /plan; nil without a control-plane).
func (w *worker) stagePlans() (handlers.PlanSource, *outbox.PlanPoster, error) {
	if w.reporting == nil {
		return w.plans, nil, nil
	}
	pp, err := outbox.NewPlanPoster(w.plans, w.reporting.reporter, filepath.Join(w.cfg.CacheDir, "plans-posted"), w.log)
	if err != nil {
		return nil, nil, err
	}
	return pp, pp, nil
}

// planService is POST /plan: plan REQUIREMENTS_PATH, write plan.json, post
// the plan to the control-plane (through the outbox) when one is configured.
type planService struct {
	cfg     Config
	log     *slog.Logger
	jobs    *planner.Jobs
	poster  *outbox.PlanPoster // nil without a control-plane
	written func()             // the plan source re-reads plan.json
}

func (s *planService) plan(ctx context.Context) (*pipeline.Plan, error) {
	if s.cfg.RequirementsPath == "" {
		return nil, errors.New("REQUIREMENTS_PATH is not set: nothing to plan")
	}
	p, err := newPlanner(s.cfg, s.log)
	if err != nil {
		return nil, err
	}
	plan, err := p.Plan(ctx, s.cfg.RequirementsPath)
	if err != nil {
		return nil, err
	}
	s.written()
	if s.poster != nil {
		if err := s.poster.Post(ctx, plan); err != nil {
			return plan, fmt.Errorf("queue plan %s for the control-plane: %w", plan.RunID, err)
		}
	}
	s.log.Info("plan written", "run_id", plan.RunID, "nodes", len(plan.Nodes), "requirements", s.cfg.RequirementsPath)
	return plan, nil
}

// Regenerate implements handlers.Planner.
func (s *planService) Regenerate(ctx context.Context, wait time.Duration) (*pipeline.Plan, string, error) {
	job := s.jobs.Start(s.plan)
	wctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	plan, err := job.Wait(wctx)
	if !job.Finished() {
		return nil, job.ID, nil
	}
	return plan, job.ID, err
}

// Job implements handlers.Planner.
func (s *planService) Job(id string) (plan *pipeline.Plan, done bool, err error, found bool) {
	job, ok := s.jobs.Get(id)
	if !ok {
		return nil, false, nil, false
	}
	if !job.Finished() {
		return nil, false, nil, true
	}
	plan, err = job.Wait(context.Background())
	return plan, true, err, true
}

// startPoller plans the control-plane's pending inputs every
// PLAN_POLL_INTERVAL (docs/control-plane.md, planning), when a control-plane is configured.
func startPoller(ctx context.Context, cfg Config, r *reporting, log *slog.Logger) error {
	if r == nil || cfg.PlanPollInterval.D() <= 0 {
		return nil
	}
	p, err := newPlanner(cfg, log)
	if err != nil {
		return err
	}
	var objects planner.Objects
	if cfg.ObjectStoreEndpoint != "" {
		st, err := objstore.New(objstore.Config{Endpoint: cfg.ObjectStoreEndpoint, Bucket: cfg.ObjectStoreBucket,
			AccessKey: cfg.ObjectStoreAccessKey, SecretKey: cfg.ObjectStoreSecretKey, UseSSL: cfg.ObjectStoreUseSSL})
		if err != nil {
			return fmt.Errorf("object store: %w", err)
		}
		objects = st
	}
	poller := planner.NewPoller(r.client, objects, p, planner.PollerConfig{Interval: cfg.PlanPollInterval.D(), Logger: log})
	go func() {
		if err := poller.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
			log.Error("pending-input poller stopped", "err", err)
		}
	}()
	return nil
}
