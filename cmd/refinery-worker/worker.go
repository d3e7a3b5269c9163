package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/refinery/refinery-worker/adapters/controlplane"
	"github.com/refinery/refinery-worker/adapters/diskgate"
	"github.com/refinery/refinery-worker/adapters/hints"
	"github.com/refinery/refinery-worker/adapters/intake"
	"github.com/refinery/refinery-worker/adapters/joblog"
	"github.com/refinery/refinery-worker/adapters/manifest"
	"github.com/refinery/refinery-worker/adapters/metrics"
	"github.com/refinery/refinery-worker/adapters/planfile"
	"github.com/refinery/refinery-worker/adapters/podman"
	"github.com/refinery/refinery-worker/adapters/reporting"
	"github.com/refinery/refinery-worker/handlers"
	"github.com/refinery/refinery-worker/internal/cli"
	"github.com/refinery/refinery-worker/pipeline"
	"github.com/refinery/refinery-worker/pipeline/redact"
	"github.com/refinery/refinery-worker/planner"
)

// worker is every part of a running refinery-worker, wired.
type worker struct {
	cfg  Config
	log  *slog.Logger
	opts workerOptions

	intake    pipeline.Intake
	manifest  *manifest.Store
	tracker   *pipeline.Tracker
	drainer   *pipeline.Drainer
	life      *pipeline.Lifecycle
	running   *handlers.Running
	reporting *reporting.Link // nil without a control-plane
	planSvc   *planner.Service
	http      *echo.Echo
	closers   []func() error
	// waitItems waits for a file queue to change (serve); nil otherwise.
	waitItems func(context.Context)
}

// workerOptions are knobs the subcommands set beyond the environment.
type workerOptions struct {
	onSettled func(drainID string, s pipeline.Summary)
	environ   []string // for the secrets to mask
	// continuous makes a streaming intake's drain run until shutdown (serve).
	continuous bool
}

func newWorker(ctx context.Context, cfg Config, log *slog.Logger, opts workerOptions) (*worker, error) {
	w := &worker{cfg: cfg, log: log, opts: opts, running: handlers.NewRunning(), tracker: pipeline.NewTracker()}
	if err := w.wire(ctx); err != nil {
		// Close what was opened, so that nothing stays locked or running.
		if cerr := w.closeAll(); cerr != nil {
			log.Warn("close after a failed start", "err", cerr)
		}
		return nil, &cli.StartupError{Err: err}
	}
	return w, nil
}

// wire opens and connects every part; on error the caller closes what it
// opened (w.closers).
func (w *worker) wire(ctx context.Context) (err error) {
	cfg, log := w.cfg, w.log
	for _, d := range []struct{ name, path string }{{"OUTPUT_DIR", cfg.OutputDir}, {"CACHE_DIR", cfg.CacheDir},
		{"OUTPUT_DIR", filepath.Join(cfg.OutputDir, "logs")}} {
		if err := os.MkdirAll(d.path, 0o755); err != nil {
			return fmt.Errorf("%s: create %s: %w", d.name, d.path, err)
		}
	}
	red := redact.New(cfg.Secrets(w.opts.environ)...)
	planPool := 0 // unknown to the heartbeat (omitted) unless this worker plans pending inputs
	if cfg.PlanPollInterval.D() > 0 {
		planPool = 1 // the poller plans one input at a time
	}
	if w.reporting, err = reporting.Open(ctx, reporting.Options{BaseURL: cfg.ControlPlaneURL, Token: cfg.ControlPlaneToken,
		WorkerID: cfg.WorkerID, OutputDir: cfg.OutputDir, CacheDir: cfg.CacheDir, SkipBackoff: cfg.RequeueBackoffMax.D(),
		HeartbeatInterval: time.Duration(cfg.WorkerHeartbeatIntervalSec) * time.Second, ActiveBuilds: w.running.Len,
		PoolSize: cfg.BuildConcurrency, PlanPoolSize: planPool, Redactor: red, Logger: log}); err != nil {
		return err
	}
	if w.reporting != nil {
		w.closers = append(w.closers, w.reporting.Close)
	}
	if err := w.openIntake(ctx); err != nil {
		return err
	}
	if w.manifest, err = manifest.Open(manifest.Options{Path: filepath.Join(cfg.OutputDir, "manifest.json"), Logger: log}); err != nil {
		return err
	}
	w.closers = append(w.closers, w.manifest.Close)
	rejections, err := manifest.OpenRejections(filepath.Join(cfg.OutputDir, "rejected.jsonl"))
	if err != nil {
		return err
	}
	w.closers = append(w.closers, rejections.Close)
	index, err := openIndexing(cfg, log)
	if err != nil {
		return err
	}
	w.closers = append(w.closers, index.Close)
	mets := metrics.New(metrics.Sources{Intake: cfg.QueueBackend, Depth: metrics.DepthOf(w.intake), BuildsInFlight: w.running.Len,
		OutboxBacklog: w.reporting.Backlog, OutboxDead: w.reporting.DeadLetters})
	if err := mets.Register(index.Collectors()...); err != nil {
		return err
	}
	runner, err := newRunner(cfg, log, mets)
	if err != nil {
		return err
	}
	transport, err := w.openTransport(ctx)
	if err != nil {
		return err
	}
	plans := planfile.New(filepath.Join(cfg.OutputDir, "plan.json"), filepath.Join(cfg.CacheDir, "plan.json"))
	stagePlans, poster, err := w.reporting.StagePlans(plans, filepath.Join(cfg.CacheDir, "plans-posted"))
	if err != nil {
		return err
	}
	keys := pipeline.NewKeySet()
	gate := diskgate.New(diskgate.Options{Dirs: []string{cfg.OutputDir, cfg.CacheDir}, MinFree: uint64(cfg.MinFreeDisk),
		OnPause: mets.SetPaused, OnDisk: mets.SetDiskLow})
	outcomes := &pipeline.Outcomes{Keys: keys, Tracker: w.tracker, Observer: mets, Logger: log}
	// An item leaves its intake only once its outcome (or rejection) is on
	// disk: the intake's settle is durable, and the other order could lose
	// both to a power loss.
	durable := func() error { return errors.Join(w.manifest.Sync(), rejections.Sync()) }
	window := pipeline.IntakeWindow{Batch: cfg.BatchSize, Concurrency: cfg.BuildConcurrency,
		Streaming: cfg.Continuous(), Leased: cfg.QueueBackend == "controlplane", Watched: w.waitItems != nil}
	settleOpts := []pipeline.SettlerOption{pipeline.SettleSpacing(cfg.QueueBackend == "file"), pipeline.SettleAfterSync(durable)}
	if window.SettlingOutside() {
		settleOpts = append(settleOpts, pipeline.SettleOnSubmit(w.tracker.Settling))
	}
	settler := pipeline.NewSettler(w.intake, outcomes.Settled, log, settleOpts...)
	builds := pipeline.NewBuildContext(ctx)
	policy := handlers.RequeuePolicy{Enabled: cfg.RequeueOnFailure, MaxAttempts: cfg.MaxRequeueAttempts,
		Base: cfg.RequeueBackoff.D(), Max: cfg.RequeueBackoffMax.D()}
	pub := pipeline.NewPublisher(transport.Publisher, transport.Topics, transport.InProcess)
	logs := joblog.NewMaskedOpener(filepath.Join(cfg.OutputDir, "logs"), red, w.reporting.LogOptions()...)
	build := handlers.NewBuild(builds, runner, logs, pub, w.running, cfg.BuildConcurrency, log)
	build.Observe(mets)
	failures := handlers.NewRecentFailures(handlers.RecentFailureCount)
	build.Failures(failures)
	autoFix := handlers.AutoFixOptions{Enabled: cfg.AutoFix, Image: buildImage(cfg), MinConfidence: cfg.AutoFixMinConfidence, Logger: log}
	src := w.reporting.HintSource() // the control-plane's catalog, else HINTS_FILE
	if src == nil && cfg.HintsFile != "" {
		src = hints.File{Path: cfg.HintsFile}
	}
	if src != nil {
		live := hints.StartLive(ctx, src, cfg.HintsRefreshInterval.D(), log)
		w.closers = append(w.closers, live.Close)
		build.MatchHints(live)
		autoFix.Hints = live
	}
	if cfg.PodmanBin != "" {
		autoFix.PackageManagers = podman.PackageManagers{Bin: cfg.PodmanBin}
	}
	if in, ok := w.intake.(*controlplane.Intake); ok {
		build.OnStart(in.Started) // "building" when the build starts, not at lease time
	}
	report := handlers.NewReport(w.manifest, w.reporting.StageReporter(), w.tracker, policy, cfg.OutputDir, cfg.WorkerID).
		Target(cfg.PythonVersion, cfg.PlatformTag).AutoFix(handlers.NewAutoFix(ctx, autoFix)).Handle
	enqueuer := handlers.EnqueuerIfReleasing(transport.Durable, w.intake)
	stages := pipeline.Stages{
		Dequeue: handlers.NewDequeue(w.manifest, keys, nil).Handle,
		Plan:    handlers.NewPlan(stagePlans, w.reporting.PlanByID()).Handle,
		Match: handlers.NewMatch(handlers.MatchDefaults{PythonVersion: cfg.PythonVersion, PlatformTag: cfg.PlatformTag,
			Overrides: cfg.PlanOverrides}).Handle,
		Build:   build.Handle,
		Report:  handlers.PublishBuilt(index.Publisher(), report, log), // built wheels into the index first
		Requeue: handlers.NewRequeue(settler, policy, enqueuer).Handle,
		Poison:  handlers.NewPoison(rejections).Handle,
	}
	router, _, err := pipeline.NewRouter(transport, stages, log)
	if err != nil {
		return err
	}
	mets.Router(router)
	drain := pipeline.DrainOptions{Batch: cfg.BatchSize, OnSettled: w.opts.onSettled,
		Continuous: (cfg.Continuous() || w.waitItems != nil) && w.opts.continuous, WaitItems: w.waitItems,
		ClaimNeverRedelivers: intake.ClaimNeverRedelivers(cfg.QueueBackend),
		BeforeRecovered:      pipeline.RecoverRefresh{Journal: w.manifest, Learn: cfg.Continuous()}.Refresh, Gate: gate.Check}
	drain.Window, drain.Refill = window.Sizes()
	if enqueuer != nil {
		drain.Release = pipeline.PublishRelease{Settler: settler}.Release
	}
	w.drainer = pipeline.NewDrainer(w.intake, pub, w.tracker, drain, log)
	life := pipeline.LifecycleOptions{Router: router, Drainer: w.drainer, Tracker: w.tracker, Intake: w.intake,
		Settler: settler, Builds: build, StopBuilds: builds.Stop, Logger: log}
	if p, ok := runner.(pipeline.Preparer); ok {
		life.Prepare = p
	}
	w.life = pipeline.NewLifecycle(life)
	svc := planner.ServiceOptions{Jobs: planner.NewJobs(context.WithoutCancel(ctx), 16), Written: plans.Invalidate}
	if w.reporting != nil {
		svc.Poster, svc.ControlPlane = poster, w.reporting.Client()
	}
	w.planSvc = planService(cfg, log, svc)
	web := handlers.WorkerHTTPOptions{HTTPOptions: handlers.HTTPOptions{Token: cfg.WorkerToken, Drains: w.drainer, Plans: plans,
		Planner: w.planSvc, Ready: handlers.WorkerReadyChecks(w.readySources(runner, gate)), Logger: log},
		Ops: handlers.OpsOptions{Metrics: mets.Handler(), Pause: gate, Cancel: w.running},
		Status: handlers.StatusSources{WorkerID: cfg.WorkerID, Intake: cfg.QueueBackend, Transport: cfg.PipelineTransport,
			Gate: gate, Builds: w.running, Items: w.tracker, Drains: w.drainer, Failures: failures, Index: index}}
	if w.reporting != nil {
		web.Status.Outbox = w.reporting
	}
	if cfg.IndexServe {
		web.SimpleDir = index.Dir()
	}
	if w.http, err = handlers.NewWorkerHTTP(web); err != nil {
		return err
	}
	index.Run(ctx)
	return nil
}

// start prepares the runner and runs the router.
func (w *worker) start(ctx context.Context) error { return w.life.Start(ctx) }

// shutdown stops the pipeline (pipeline.Lifecycle.Shutdown), then closes
// what the worker opened.
func (w *worker) shutdown(grace time.Duration) error {
	return errors.Join(w.life.Shutdown(grace), w.closeAll())
}

func (w *worker) closeAll() error {
	var errs []error
	for i := len(w.closers) - 1; i >= 0; i-- {
		if err := w.closers[i](); err != nil {
			errs = append(errs, err)
		}
	}
	w.closers = nil
	return errors.Join(errs...)
}

// readySources are what /ready asks: the builder check with a podman runner,
// the control-plane's with one.
func (w *worker) readySources(runner handlers.Runner, gate *diskgate.Gate) handlers.ReadySources {
	s := handlers.ReadySources{Intake: w.intake.Ready, Router: w.life.Ready, Manifest: w.manifest.Ready, Disk: gate.Disk,
		OutputDir: w.cfg.OutputDir, CacheDir: w.cfg.CacheDir}
	if r, ok := runner.(interface{ Ready(context.Context) error }); ok {
		s.Builder = r.Ready
	}
	if w.reporting != nil {
		s.ControlPlane, s.Unreachable = w.reporting.Client().Check, controlplane.Unreachable
	}
	return s
}
