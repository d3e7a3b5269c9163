package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"
	"github.com/labstack/echo/v4"

	"github.com/refinery/refinery-worker/adapters/controlplane"
	"github.com/refinery/refinery-worker/adapters/diskgate"
	"github.com/refinery/refinery-worker/adapters/filequeue"
	"github.com/refinery/refinery-worker/adapters/hints"
	"github.com/refinery/refinery-worker/adapters/joblog"
	"github.com/refinery/refinery-worker/adapters/kafkaqueue"
	"github.com/refinery/refinery-worker/adapters/manifest"
	"github.com/refinery/refinery-worker/adapters/metrics"
	"github.com/refinery/refinery-worker/adapters/planfile"
	"github.com/refinery/refinery-worker/adapters/podman"
	"github.com/refinery/refinery-worker/adapters/redisqueue"
	"github.com/refinery/refinery-worker/adapters/reporting"
	"github.com/refinery/refinery-worker/adapters/transport"
	"github.com/refinery/refinery-worker/adapters/wheelstore"
	"github.com/refinery/refinery-worker/handlers"
	"github.com/refinery/refinery-worker/pipeline"
	"github.com/refinery/refinery-worker/pipeline/redact"
	"github.com/refinery/refinery-worker/planner"
)

// worker is every part of a running refinery-worker, wired.
type worker struct {
	cfg  Config
	log  *slog.Logger
	opts workerOptions

	intake     pipeline.Intake
	manifest   *manifest.Store
	rejections *manifest.Rejections
	plans      *planfile.Source
	router     *message.Router
	tracker    *pipeline.Tracker
	settler    *pipeline.Settler
	drainer    *pipeline.Drainer
	build      *handlers.Build
	running    *handlers.Running
	failures   *handlers.RecentFailures
	hints      *hints.Live // nil: no catalog
	http       *echo.Echo
	closers    []func() error
	gate       *diskgate.Gate
	metrics    *metrics.Metrics

	reporting *reporting.Link // nil without a control-plane
	planSvc   *planner.Service
	index     *wheelstore.Indexing

	buildCtx   context.Context
	stopBuilds context.CancelCauseFunc
	life       *pipeline.Lifecycle
	// waitItems waits for a file queue to change (serve); nil otherwise.
	waitItems   func(context.Context)
	runnerClean func(context.Context) (int, error)
	runnerReady func(context.Context) error // nil: no platform check
}

// workerOptions are knobs the subcommands set beyond the environment.
type workerOptions struct {
	onSettled func(drainID string, s pipeline.Summary)
	environ   []string // for the secrets to mask
	// continuous makes a streaming intake's drain run until shutdown (serve).
	continuous bool
}

func newWorker(ctx context.Context, cfg Config, log *slog.Logger, opts workerOptions) (*worker, error) {
	w := &worker{cfg: cfg, log: log, opts: opts, running: handlers.NewRunning(), tracker: pipeline.NewTracker(),
		failures: handlers.NewRecentFailures(handlers.RecentFailureCount)}
	if err := w.wire(ctx); err != nil {
		// Close what was opened, so that nothing stays locked or running.
		if cerr := w.closeAll(); cerr != nil {
			log.Warn("close after a failed start", "err", cerr)
		}
		return nil, &startupError{err: err}
	}
	return w, nil
}

// wire opens and connects every part; on error the caller closes what it
// opened (w.closers).
func (w *worker) wire(ctx context.Context) (err error) {
	cfg, log, opts := w.cfg, w.log, w.opts
	for _, d := range []struct{ name, path string }{{"OUTPUT_DIR", cfg.OutputDir}, {"CACHE_DIR", cfg.CacheDir},
		{"OUTPUT_DIR", filepath.Join(cfg.OutputDir, "logs")}} {
		if err := os.MkdirAll(d.path, 0o755); err != nil {
			return fmt.Errorf("%s: create %s: %w", d.name, d.path, err)
		}
	}
	red := secrets(cfg, opts.environ)
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
	if err := w.openIntake(); err != nil {
		return err
	}
	if w.manifest, err = manifest.Open(manifest.Options{Path: filepath.Join(cfg.OutputDir, "manifest.json"), Logger: log}); err != nil {
		return err
	}
	w.closers = append(w.closers, w.manifest.Close)
	if w.rejections, err = manifest.OpenRejections(filepath.Join(cfg.OutputDir, "rejected.jsonl")); err != nil {
		return err
	}
	w.closers = append(w.closers, w.rejections.Close)
	if w.index, err = openIndexing(cfg, log); err != nil {
		return err
	}
	w.closers = append(w.closers, w.index.Close)
	w.plans = planfile.New(filepath.Join(cfg.OutputDir, "plan.json"), filepath.Join(cfg.CacheDir, "plan.json"))

	runner, clean, err := newRunner(cfg, log)
	if err != nil {
		return err
	}
	w.runnerClean = clean
	w.runnerReady = runnerReady(runner, cfg)
	transport, err := w.openTransport(ctx)
	if err != nil {
		return err
	}
	stagePlans, poster, err := w.stagePlans()
	if err != nil {
		return err
	}
	keys := pipeline.NewKeySet()
	src := metrics.Sources{Intake: cfg.QueueBackend, BuildsInFlight: w.running.Len,
		OutboxBacklog: w.reporting.Backlog, OutboxDead: w.reporting.DeadLetters}
	if d, ok := w.intake.(metrics.Depther); ok {
		src.Depth = d
	}
	w.metrics = metrics.New(src)
	if err := w.metrics.Register(w.index.Collectors()...); err != nil {
		return err
	}
	w.gate = diskgate.New(diskgate.Options{Dirs: []string{cfg.OutputDir, cfg.CacheDir}, MinFree: uint64(cfg.MinFreeDisk),
		OnPause: w.metrics.SetPaused, OnDisk: w.metrics.SetDiskLow})
	outcomes := &pipeline.Outcomes{Keys: keys, Tracker: w.tracker, Observer: w.metrics, Logger: log}
	w.settler = pipeline.NewSettler(w.intake, outcomes.Settled, log, pipeline.SettleEvery(settleEvery(cfg)))
	w.buildCtx, w.stopBuilds = context.WithCancelCause(context.WithoutCancel(ctx))
	policy := handlers.RequeuePolicy{Enabled: cfg.RequeueOnFailure, MaxAttempts: cfg.MaxRequeueAttempts,
		Base: cfg.RequeueBackoff.D(), Max: cfg.RequeueBackoffMax.D()}
	var pub *pipeline.Publisher
	lazyPub := publisherFunc(func(ctx context.Context, topic string, wk *pipeline.Work) error { return pub.Publish(ctx, topic, wk) })
	var logOpts []joblog.Option
	if w.reporting != nil {
		logOpts = append(logOpts, w.reporting.Sink())
	}
	var logs handlers.LogOpener = joblog.NewOpener(filepath.Join(cfg.OutputDir, "logs"), logOpts...)
	if red.Len() > 0 {
		logs = joblog.RedactingOpener{Inner: logs, Redactor: red}
	}
	w.build = handlers.NewBuild(w.buildCtx, runner, logs, lazyPub, w.running, cfg.BuildConcurrency, log)
	w.build.Observe(w.metrics)
	w.build.Failures(w.failures)
	autoFix := handlers.AutoFixOptions{Enabled: cfg.AutoFix, Image: buildImage(cfg), MinConfidence: cfg.AutoFixMinConfidence, Logger: log}
	if src := hintSource(cfg, w.reporting); src != nil {
		w.hints = hints.StartLive(ctx, src, cfg.HintsRefreshInterval.D(), log)
		w.closers = append(w.closers, w.hints.Close)
		w.build.MatchHints(w.hints)
		autoFix.Hints = w.hints
	}
	if cfg.PodmanBin != "" {
		autoFix.PackageManagers = podman.PackageManagers{Bin: cfg.PodmanBin}
	}
	if in, ok := w.intake.(*controlplane.Intake); ok {
		w.build.OnStart(in.Started) // "building" when the build starts, not at lease time
	}
	report := handlers.NewReport(w.manifest, w.reporting.StageReporter(), w.tracker, policy, cfg.OutputDir, cfg.WorkerID).
		Target(cfg.PythonVersion, cfg.PlatformTag).AutoFix(handlers.NewAutoFix(ctx, autoFix)).Handle
	stages := pipeline.Stages{
		Dequeue: handlers.NewDequeue(w.manifest, keys, nil).Handle,
		Plan:    handlers.NewPlan(stagePlans, w.planByID()).Handle,
		Match: handlers.NewMatch(handlers.MatchDefaults{PythonVersion: cfg.PythonVersion, PlatformTag: cfg.PlatformTag,
			Overrides: cfg.PlanOverrides}).Handle,
		Build:   w.build.Handle,
		Report:  handlers.PublishBuilt(w.index.Publisher(), report, log), // built wheels into the index first
		Requeue: handlers.NewRequeue(w.settler, policy, w.enqueuerIfReleasing(transport)).Handle,
		Poison:  handlers.NewPoison(w.rejections).Handle,
	}
	if w.router, pub, err = pipeline.NewRouter(transport, stages, log); err != nil {
		return err
	}
	w.metrics.Router(w.router)
	var release func(pipeline.Claimed)
	if w.enqueuerIfReleasing(transport) != nil {
		release = pipeline.PublishRelease{Settler: w.settler}.Release
	}
	window := 0 // the drainer's default
	if cfg.continuous() {
		// A streaming intake hands out what this worker can start soon, so
		// several workers share the work.
		window = streamWindow(cfg.BuildConcurrency)
	}
	if cfg.QueueBackend == "controlplane" {
		window = cfg.BuildConcurrency // a lease is held only while it builds (or is about to)
	}
	refill := 0
	if w.waitItems != nil {
		// serve on a file queue: a window of claimed items ahead of the
		// builds, refilled half at a time (each claim rewrites the file).
		window = max(cfg.BatchSize, 2*cfg.BuildConcurrency)
		refill = max(1, window/2)
	}
	w.drainer = pipeline.NewDrainer(w.intake, pub, w.tracker, pipeline.DrainOptions{Batch: cfg.BatchSize,
		Window: window, Refill: refill, OnSettled: opts.onSettled, Release: release,
		Continuous: (cfg.continuous() || w.waitItems != nil) && opts.continuous, WaitItems: w.waitItems,
		ClaimNeverRedelivers: cfg.QueueBackend == "file",
		BeforeRecovered:      pipeline.RecoverRefresh{Journal: w.manifest, Learn: cfg.continuous()}.Refresh,
		Gate:                 w.gate.Check}, log)
	w.life = pipeline.NewLifecycle(pipeline.LifecycleOptions{Router: w.router, Drainer: w.drainer, Tracker: w.tracker,
		Intake: w.intake, Settler: w.settler, Builds: w.build, StopBuilds: w.stopBuilds, Logger: log})
	svc := planner.ServiceOptions{Jobs: planner.NewJobs(context.WithoutCancel(ctx), 16), Written: w.plans.Invalidate}
	if w.reporting != nil {
		svc.Poster, svc.ControlPlane = poster, w.reporting.Client()
	}
	w.planSvc = planService(cfg, log, svc)
	w.http = handlers.NewHTTP(handlers.HTTPOptions{Token: cfg.WorkerToken, Drains: w.drainer, Plans: w.plans,
		Planner: w.planSvc, Ready: w.readyChecks(), Logger: log})
	status := handlers.StatusSources{WorkerID: cfg.WorkerID, Intake: cfg.QueueBackend, Transport: cfg.PipelineTransport,
		Gate: w.gate, Builds: w.running, Items: w.tracker, Drains: w.drainer, Failures: w.failures, Index: w.index}
	if w.reporting != nil {
		status.Outbox = w.reporting
	}
	handlers.AddOps(w.http, cfg.WorkerToken, handlers.OpsOptions{Metrics: w.metrics.Handler(), Status: handlers.NewStatus(status).Doc,
		Pause: w.gate, Cancel: w.running})
	if cfg.IndexServe {
		if err := handlers.AddSimple(w.http, w.index.Dir()); err != nil {
			return err
		}
	}
	w.index.Run(ctx)
	return nil
}

// settleEvery spaces the intake's settle writes: a file queue's settle
// rewrites the in-flight file, so settlements share a write 25 ms apart at
// most; a remote intake's is one cheap call, and spacing it would put a
// fixed wait in the path of every item (the group commit still batches
// what arrives during a call).
func settleEvery(cfg Config) time.Duration {
	if cfg.QueueBackend == "file" {
		return pipeline.DefaultSettleEvery
	}
	return 0
}

// streamWindow is how many items a streaming intake hands this worker ahead
// of its builds: enough that claiming and settling overlap the builds, few
// enough that several workers share the work.
func streamWindow(concurrency int) int { return max(16, 4*concurrency) }

type publisherFunc func(ctx context.Context, topic string, w *pipeline.Work) error

func (f publisherFunc) Publish(ctx context.Context, topic string, w *pipeline.Work) error {
	return f(ctx, topic, w)
}

func (w *worker) openIntake() error {
	switch w.cfg.QueueBackend {
	case "file":
		q, err := filequeue.Open(filequeue.Options{Path: w.cfg.QueueFile, Owner: w.cfg.WorkerID, Logger: w.log,
			MaxBytes: int64(w.cfg.QueueFileMaxBytes)})
		if err != nil {
			return fmt.Errorf("QUEUE_FILE=%s: %w", w.cfg.QueueFile, err)
		}
		w.intake = q
		w.closers = append(w.closers, q.Close)
		if w.opts.continuous { // serve consumes the file as items arrive
			wt := q.Watch(w.log)
			w.waitItems = wt.Wait
			w.closers = append(w.closers, wt.Close)
		}
		return nil
	case "redis":
		q, err := redisqueue.Open(context.Background(), redisqueue.Options{URL: w.cfg.RedisURL, Key: w.cfg.RedisKey,
			Owner: w.cfg.WorkerID, Logger: w.log})
		if err != nil {
			return err
		}
		w.intake = q
		w.closers = append(w.closers, q.Close)
		return nil
	case "kafka":
		q, err := kafkaqueue.Open(kafkaqueue.Options{Brokers: w.cfg.KafkaBrokers, Topic: w.cfg.KafkaTopic,
			Group: w.cfg.KafkaGroup, Logger: w.log})
		if err != nil {
			return err
		}
		w.intake = q
		w.closers = append(w.closers, q.Close)
		return nil
	case "controlplane":
		opts := controlplane.IntakeOptions{Client: w.reporting.Client(), Statuses: w.reporting.Reporter(),
			Dir: filepath.Join(w.cfg.CacheDir, "cp-leases"), Logger: w.log,
			LeaseTimeout: time.Duration(w.cfg.BuildLeaseTimeoutSec) * time.Second}
		if w.opts.continuous { // serve polls; a one-shot drain stops at the first empty pop
			opts.PollInterval, opts.PollMax = w.cfg.BuildQueuePollInterval.D(), w.cfg.BuildQueuePollMax.D()
		}
		in, err := controlplane.NewIntake(opts)
		if err != nil {
			return err
		}
		w.reporting.Reporter().SetLeases(in) // retry summaries; no renewal after a final status
		w.intake = in
		w.closers = append(w.closers, in.Close)
		return nil
	default:
		return fmt.Errorf("QUEUE_BACKEND=%s is not available in this build", w.cfg.QueueBackend)
	}
}

// openTransport connects the stages: in process (gochannel) by default, or
// over Redis Streams or Kafka, where the build stage's messages stay this
// worker's until their result is published (a dead worker's builds are
// taken over after CLAIM_IDLE).
func (w *worker) openTransport(ctx context.Context) (pipeline.Transport, error) {
	hold := []transport.Hold{{Topic: pipeline.TopicJobs, Until: pipeline.TopicResults, Slots: w.cfg.BuildConcurrency}}
	consumer := "" // the transport's default, <host>-<pid>-<random>: unique even for pid 1 in containers
	switch w.cfg.PipelineTransport {
	case "redis":
		t, closeFn, err := transport.Redis(ctx, transport.RedisOptions{URL: w.cfg.RedisURL, Prefix: w.cfg.TopicPrefix,
			Consumer: consumer, ClaimIdle: w.cfg.ClaimIdle.D(), Holds: hold, Logger: w.log})
		if err != nil {
			return t, fmt.Errorf("redis transport: %w", err)
		}
		w.closers = append(w.closers, closeFn)
		return t, nil
	case "kafka":
		t, closeFn, err := transport.Kafka(ctx, transport.KafkaOptions{Brokers: w.cfg.KafkaBrokers, Prefix: w.cfg.TopicPrefix,
			Consumer: consumer, ClaimIdle: w.cfg.ClaimIdle.D(), Holds: hold, Logger: w.log})
		if err != nil {
			return t, fmt.Errorf("kafka transport: %w", err)
		}
		w.closers = append(w.closers, closeFn)
		return t, nil
	default:
		gc := gochannel.NewGoChannel(gochannel.Config{OutputChannelBuffer: 1024, PreserveContext: true}, watermill.NopLogger{})
		return pipeline.Transport{Publisher: gc, Subscriber: gc, InProcess: true}, nil
	}
}

// enqueuerIfReleasing is the intake's Enqueue when items are released as
// soon as a durable transport stores them (DESIGN invariant 1); retries are
// then new items. Nil on the in-process transport, or for an intake that
// cannot enqueue (its items stay held until their outcome).
func (w *worker) enqueuerIfReleasing(t pipeline.Transport) handlers.Enqueuer {
	if !t.Durable {
		return nil
	}
	if e, ok := w.intake.(handlers.Enqueuer); ok {
		return e
	}
	return nil
}

// start removes leftover containers and runs the router.
func (w *worker) start(ctx context.Context) error {
	if w.runnerClean != nil {
		n, err := w.runnerClean(ctx)
		if err != nil {
			return fmt.Errorf("remove leftover containers: %w", err)
		}
		w.log.Info("removed leftover containers", "count", n)
		w.metrics.ContainersRemoved(n)
	}
	return w.life.Start(ctx)
}

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

func (w *worker) readyChecks() []handlers.ReadyCheck {
	checks := []handlers.ReadyCheck{
		{Name: "intake", Check: w.intake.Ready},
		{Name: "output_dir", Check: func(context.Context) error { return writable(w.cfg.OutputDir) }},
		{Name: "cache_dir", Check: func(context.Context) error { return writable(w.cfg.CacheDir) }},
		{Name: "router", Check: w.life.Ready},
		{Name: "manifest", Check: func(context.Context) error { return w.manifest.Err() }},
		{Name: "disk", Check: w.gate.Disk},
	}
	if w.runnerReady != nil {
		checks = append(checks, handlers.ReadyCheck{Name: "builder_platform", Check: w.runnerReady})
	}
	if w.reporting != nil {
		// A rejected token makes the worker not ready; an unreachable
		// control-plane is only reported (the outbox holds the reports).
		checks = append(checks, handlers.ReadyCheck{Name: "control_plane", Check: w.reporting.Client().Check,
			Advisory: controlplane.Unreachable})
	}
	return checks
}

// planByID serves plans by control-plane id when a control-plane is set.
func (w *worker) planByID() handlers.PlanByID {
	if w.reporting == nil {
		return nil
	}
	return controlplane.NewPlanSource(w.reporting.Client(), time.Minute)
}

func writable(dir string) error {
	f, err := os.CreateTemp(dir, ".ready-*")
	if err != nil {
		return fmt.Errorf("%s is not writable: %w", dir, err)
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}

// secrets are the values masked in logs, events and files: the tokens, the
// object store key, index passwords, and every *_TOKEN/_SECRET/_PASSWORD/_KEY
// variable of the environment (they may reach builds).
func secrets(cfg Config, environ []string) *redact.Redactor {
	list := append(redact.SecretsFromEnv(environ), cfg.WorkerToken, cfg.ControlPlaneToken, cfg.ObjectStoreSecretKey, cfg.IndexPassword)
	return redact.New(append(list, redact.URLPasswords(append([]string{cfg.IndexURL, cfg.RedisURL}, cfg.ExtraIndexURL...)...)...)...)
}
