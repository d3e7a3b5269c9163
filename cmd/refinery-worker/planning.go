package main

import (
	"log/slog"
	"path/filepath"

	"github.com/refinery/refinery-worker/adapters/objstore"
	"github.com/refinery/refinery-worker/adapters/pyindex"
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
