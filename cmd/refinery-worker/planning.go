package main

import (
	"log/slog"
	"path/filepath"

	"github.com/refinery/refinery-worker/adapters/objstore"
	"github.com/refinery/refinery-worker/adapters/outbox"
	"github.com/refinery/refinery-worker/adapters/planfile"
	"github.com/refinery/refinery-worker/adapters/pyindex"
	"github.com/refinery/refinery-worker/handlers"
	"github.com/refinery/refinery-worker/planner"
)

// planService maps the configuration onto the planner's service; cp and
// poster are set only with a control-plane.
func planService(cfg Config, log *slog.Logger, o planner.ServiceOptions) *planner.Service {
	o.Index = pyindex.Config{IndexURL: cfg.IndexURL, ExtraIndexURLs: cfg.ExtraIndexURL, Username: cfg.IndexUsername,
		Password: cfg.IndexPassword, CacheDir: filepath.Join(cfg.CacheDir, "index"), PythonVersion: cfg.PythonFullVersion,
		Timeout: cfg.IndexTimeout.D(), Logger: log}
	o.Planner = planner.Config{PythonVersion: cfg.PythonFullVersion, PlatformTag: cfg.PlatformTag, OutputDir: cfg.OutputDir,
		MaxDeps: cfg.MaxDeps, MaxAttempts: cfg.ResolverMaxAttempts, Logger: log}
	o.Strategy, o.Overrides, o.RequirementsPath, o.PollInterval = cfg.UpgradeStrategy, cfg.PlanOverrides, cfg.RequirementsPath, cfg.PlanPollInterval.D()
	o.Objects = objstore.Config{Endpoint: cfg.ObjectStoreEndpoint, Bucket: cfg.ObjectStoreBucket,
		AccessKey: cfg.ObjectStoreAccessKey, SecretKey: cfg.ObjectStoreSecretKey, UseSSL: cfg.ObjectStoreUseSSL}
	o.Logger = log
	return planner.NewService(o)
}

// stagePlans is the plan stage's source: plan.json, stored at the
// control-plane once per run_id when one is configured (the poster, also
// used by POST /plan; nil without a control-plane).
func (w *worker) stagePlans(plans *planfile.Source) (handlers.PlanSource, *outbox.PlanPoster, error) {
	if w.reporting == nil {
		return plans, nil, nil
	}
	pp, err := outbox.NewPlanPoster(plans, w.reporting.Reporter(), filepath.Join(w.cfg.CacheDir, "plans-posted"), w.log)
	if err != nil {
		return nil, nil, err
	}
	return pp, pp, nil
}
