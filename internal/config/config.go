// Package config reads the worker's configuration from the environment and
// checks it (docs/control-plane.md "Environment variables"): Load parses
// every variable, validates the values and their combinations, and reports
// every bad variable at once.
package config

import (
	"io"
	"log/slog"
	"os"
)

// Config is the worker's whole configuration, read from the environment
// (docs/control-plane.md "Environment variables"). Each field documents its
// default and constraints; Load checks them all and reports every bad
// variable at once.
type Config struct {
	// QueueBackend selects the intake: file (default) | redis | kafka | controlplane.
	QueueBackend string `env:"QUEUE_BACKEND" envDefault:"file"`
	// QueueFile is the control-plane's file queue (a JSON array). Default
	// /tmp/refinery/retry_queue.json.
	QueueFile string `env:"QUEUE_FILE" envDefault:"/tmp/refinery/retry_queue.json"`
	// QueueFileMaxBytes bounds the queue file the worker reads (parsed, a
	// file takes several times its size in memory): a larger one is neither
	// read nor changed, /ready and drains say so, and enqueue refuses items
	// that would pass it. Bytes, or with a unit. Default 64MiB; 0 (no bound)
	// or 1KiB..1TiB.
	QueueFileMaxBytes ByteSize `env:"QUEUE_FILE_MAX_BYTES" envDefault:"64MiB"`
	// RedisURL is the Redis server of the redis intake/transport (redis:// or rediss://).
	RedisURL string `env:"REDIS_URL" envDefault:"redis://127.0.0.1:6379/0" secretURL:"true"`
	// RedisKey is the list the control-plane pushes to. Default refinery:queue.
	RedisKey string `env:"REDIS_KEY" envDefault:"refinery:queue"`
	// KafkaBrokers is a comma-separated host:port list; required for kafka.
	KafkaBrokers []string `env:"KAFKA_BROKERS" envSeparator:","`
	// KafkaTopic is the queue topic. Default refinery.queue.
	KafkaTopic string `env:"KAFKA_TOPIC" envDefault:"refinery.queue"`
	// KafkaGroup is the consumer group. Default refinery-worker.
	KafkaGroup string `env:"KAFKA_GROUP" envDefault:"refinery-worker"`
	// PipelineTransport carries messages between stages: memory (default) | redis | kafka.
	PipelineTransport string `env:"PIPELINE_TRANSPORT" envDefault:"memory"`
	// ClaimIdle: a message a dead worker held this long is taken over by
	// another (durable transports). Default 60s; at least 1s.
	ClaimIdle Interval `env:"CLAIM_IDLE" envDefault:"60s"`
	// TopicPrefix is prepended to every stage topic on durable transports. Default "refinery.".
	TopicPrefix string `env:"TOPIC_PREFIX" envDefault:"refinery."`

	// OutputDir receives manifest.json, logs/ and wheels (/output in the container). Default /output.
	OutputDir string `env:"OUTPUT_DIR" envDefault:"/output"`
	// CacheDir holds the outbox, caches and a fallback plan.json (/cache in the container). Default /cache.
	CacheDir string `env:"CACHE_DIR" envDefault:"/cache"`
	// PythonVersion is the target interpreter, MAJOR.MINOR. Default 3.11.
	// PYTHON_VERSION may also be MAJOR.MINOR.MICRO (e.g. 3.11.7): the
	// full version then goes to PythonFullVersion and this field keeps
	// MAJOR.MINOR.
	PythonVersion string `env:"PYTHON_VERSION" envDefault:"3.11"`
	// PythonFullVersion is PYTHON_VERSION as given (MAJOR.MINOR[.MICRO]);
	// the planner evaluates python_full_version markers with it (a
	// MAJOR.MINOR value counts as MAJOR.MINOR.0). Set by Load.
	PythonFullVersion string
	// PlatformTag is the target wheel platform tag. Default manylinux2014_s390x.
	PlatformTag string `env:"PLATFORM_TAG" envDefault:"manylinux2014_s390x"`

	// IndexURL is the package index (PEP 503/691 simple API). Default https://pypi.org/simple.
	IndexURL string `env:"INDEX_URL" envDefault:"https://pypi.org/simple" secretURL:"true"`
	// ExtraIndexURL lists further indexes, separated by spaces or commas.
	ExtraIndexURL URLList `env:"EXTRA_INDEX_URL" secretURL:"true"`
	// IndexUsername and IndexPassword are basic-auth credentials for the indexes.
	IndexUsername string `env:"INDEX_USERNAME"`
	IndexPassword string `env:"INDEX_PASSWORD" secret:"true"`
	// UpgradeStrategy is pinned (default) | eager.
	UpgradeStrategy string `env:"UPGRADE_STRATEGY" envDefault:"pinned"`
	// PlanOverrides is PLAN_OVERRIDES_JSON: {"name": "version" | "==version"}.
	PlanOverrides Overrides `env:"PLAN_OVERRIDES_JSON"`
	// MaxDeps bounds resolution (1..100000). Default 1000.
	MaxDeps int `env:"MAX_DEPS" envDefault:"1000"`
	// ResolverMaxAttempts is how many candidate versions the resolver may
	// try and abandon before it gives up, naming the packages it fought
	// over (100..10000000). Default 20000.
	ResolverMaxAttempts int `env:"RESOLVER_MAX_ATTEMPTS" envDefault:"20000"`
	// IndexTimeout bounds each wait on a package index: connecting, the
	// response headers and every read of a body, as pip's --timeout
	// (1s..10m). Default 30s.
	IndexTimeout Interval `env:"INDEX_TIMEOUT" envDefault:"30s"`
	// RequirementsPath is the requirements.txt the planner reads by default.
	RequirementsPath string `env:"REQUIREMENTS_PATH"`
	// PlanPollInterval polls the control-plane's pending inputs; 0 = off (default).
	PlanPollInterval Interval `env:"PLAN_POLL_INTERVAL"`

	// PodmanBin is the podman binary; unset means the stub runner (no containers).
	PodmanBin string `env:"PODMAN_BIN"`
	// ContainerImage is the builder image; it wins over ContainerPreset.
	ContainerImage string `env:"CONTAINER_IMAGE"`
	// ContainerPreset is rocky (default) | fedora | ubuntu | debian, mapped to
	// localhost/refinery-builder-<preset>:latest.
	ContainerPreset string `env:"CONTAINER_PRESET" envDefault:"rocky"`
	// WorkerRunCmd is the container command, split with shell quoting rules
	// (never run by a shell on the host). Default refinery-build.
	WorkerRunCmd string `env:"WORKER_RUN_CMD" envDefault:"refinery-build"`
	// SmokeTest is what proves each built wheel loads on the target, in a
	// fresh container of the builder image without network after an offline
	// `pip install --no-index --no-deps`: off | import (default: import the
	// wheel's top-level modules) | a command, split like WORKER_RUN_CMD (no
	// host shell), with {wheel} in an argument and $WHEEL naming the wheel.
	SmokeTest string `env:"SMOKE_TEST" envDefault:"import"`
	// ContainerMemory (e.g. 4g), ContainerCPUs (e.g. 2), ContainerPidsLimit
	// (>0) and ContainerNetwork (podman --network value) are passed when set.
	ContainerMemory    string `env:"CONTAINER_MEMORY"`
	ContainerCPUs      string `env:"CONTAINER_CPUS"`
	ContainerPidsLimit int    `env:"CONTAINER_PIDS_LIMIT"`
	ContainerNetwork   string `env:"CONTAINER_NETWORK"`
	// RunnerTimeoutSec bounds one build (1..86400). Default 900.
	RunnerTimeoutSec int `env:"RUNNER_TIMEOUT_SEC" envDefault:"900"`
	// StopGraceSec is podman stop's grace before SIGKILL (0..300). Default 10.
	StopGraceSec int `env:"STOP_GRACE_SEC" envDefault:"10"`
	// BuildConcurrency is how many builds run at once (1..64). Default 1.
	BuildConcurrency int `env:"BUILD_CONCURRENCY" envDefault:"1"`

	// StubDelayMin and StubDelayMax make each stub job wait a uniform
	// min..max (benchmarks, the chaos suite, and tests that need a build in
	// flight); min defaults to 0 and may not exceed max when max is set (min
	// alone is a fixed wait). StubFailRatio in [0,1] fails that share of stub
	// jobs. All default to off and are ignored by the podman runner.
	StubDelayMin  Interval `env:"STUB_DELAY_MIN"`
	StubDelayMax  Interval `env:"STUB_DELAY_MAX"`
	StubFailRatio float64  `env:"STUB_FAIL_RATIO" envDefault:"0"`

	// RequeueOnFailure sends failed jobs back to the queue. Default false.
	RequeueOnFailure bool `env:"REQUEUE_ON_FAILURE" envDefault:"false"`
	// MaxRequeueAttempts caps attempts of a requeued item (0..100). Default 3.
	MaxRequeueAttempts int `env:"MAX_REQUEUE_ATTEMPTS" envDefault:"3"`
	// RequeueBackoff is the first retry delay; it doubles per attempt with
	// jitter up to RequeueBackoffMax. Defaults 30s and 1h.
	RequeueBackoff    Interval `env:"REQUEUE_BACKOFF" envDefault:"30s"`
	RequeueBackoffMax Interval `env:"REQUEUE_BACKOFF_MAX" envDefault:"1h"`
	// BatchSize is how many items one drain takes (1..100000). Default 50.
	BatchSize int `env:"BATCH_SIZE" envDefault:"50"`

	// WorkerHTTPAddr is the control endpoint's listen address. Default :9000.
	WorkerHTTPAddr string `env:"WORKER_HTTP_ADDR" envDefault:":9000"`
	// WorkerToken protects /trigger, POST /plan and the operations endpoints when set.
	WorkerToken string `env:"WORKER_TOKEN" secret:"true"`
	// WorkerAutorunInterval asks for a drain periodically: a Go duration or
	// plain seconds; 0/empty = off (default). serve consumes every intake
	// continuously without it (a file queue is watched); it only restarts
	// the consuming drain should that have ended. Kept for old settings.
	WorkerAutorunInterval Interval `env:"WORKER_AUTORUN_INTERVAL"`
	// ShutdownGrace lets in-flight work finish after SIGTERM. Default 30s.
	ShutdownGrace Interval `env:"SHUTDOWN_GRACE" envDefault:"30s"`
	// WorkerID names this worker (logs, heartbeats, queue leases). Default
	// <hostname>-<pid>. Containers are labelled with ContainerOwner().
	WorkerID string `env:"WORKER_ID"`
	// workerIDSet is true when WORKER_ID was given explicitly.
	workerIDSet bool
	// MinFreeDisk: below this much free space under OUTPUT_DIR or CACHE_DIR
	// the worker stops taking new items and /ready fails (builds in flight go
	// on). Bytes, or with a unit: 500MB, 1GiB. Default 1GiB; 0 disables.
	MinFreeDisk ByteSize `env:"MIN_FREE_DISK" envDefault:"1GiB"`
	// MemorySoftLimit is the Go runtime's soft memory limit for serve and
	// drain (the collector works harder as the heap nears it), raised to twice
	// the live heap when the live heap passes 3/4 of it (a very large plan).
	// While it applies and GOGC is unset, the GC percent is 400 (fewer
	// collections; the limit bounds the heap). Bytes, or with a unit.
	// Default 120MiB (a 100,000-item drain stays under 150 MB of RSS); 0
	// disables; GOMEMLIMIT, when set, wins.
	MemorySoftLimit ByteSize `env:"MEMORY_SOFT_LIMIT" envDefault:"120MiB"`
	// MonitorTimerSlackUS is the timer slack, in µs, that serve and drain
	// give the Go runtime's monitor thread (sysmon) only: it then polls about
	// once per slack instead of every 20 µs while builds wait for their
	// podman clients, which on a VM cost up to ~80 µs of CPU per item
	// (adapters/gomonitor, docs/performance.md). The default, 10 ms, is the
	// monitor's own longest sleep: it keeps the pace it has when idle.
	// Setting it needs CAP_SYS_NICE (root has it); without, the kernel's
	// default stays and the start says so in the log. 0..10000. Default
	// 10000; 0 leaves it.
	MonitorTimerSlackUS int `env:"MONITOR_TIMER_SLACK_US" envDefault:"10000"`
	// LogFormat is json (default) | text; LogLevel debug|info (default)|warn|error.
	LogFormat string `env:"LOG_FORMAT" envDefault:"json"`
	LogLevel  string `env:"LOG_LEVEL" envDefault:"info"`

	// ControlPlaneURL enables reporting to the control-plane (http/https).
	ControlPlaneURL string `env:"CONTROL_PLANE_URL"`
	// ControlPlaneToken is sent as X-Worker-Token.
	ControlPlaneToken string `env:"CONTROL_PLANE_TOKEN" secret:"true"`
	// WorkerHeartbeatIntervalSec is the heartbeat period (1..3600). Default 15.
	WorkerHeartbeatIntervalSec int `env:"WORKER_HEARTBEAT_INTERVAL_SEC" envDefault:"15"`
	// BuildQueuePollInterval: with QUEUE_BACKEND=controlplane, serve leases
	// builds continuously; after a pop that found nothing it waits this long
	// before the next (100ms..10m). Default 5s.
	BuildQueuePollInterval Interval `env:"BUILD_QUEUE_POLL_INTERVAL" envDefault:"5s"`
	// BuildQueuePollMax caps the wait, which doubles per further empty pop
	// (BUILD_QUEUE_POLL_INTERVAL..10m). Default 30s.
	BuildQueuePollMax Interval `env:"BUILD_QUEUE_POLL_MAX" envDefault:"30s"`
	// BuildLeaseTimeoutSec is the control-plane's lease timeout as this
	// worker assumes it (the newer control-plane's BUILD_LEASE_TIMEOUT_SEC):
	// a leased build still waiting to start after half of it is reported
	// building (10..86400). Default 600.
	BuildLeaseTimeoutSec int `env:"BUILD_LEASE_TIMEOUT_SEC" envDefault:"600"`

	// HintsFile is a hint catalog (YAML or JSON: a list of {id, pattern,
	// recipes, applies_to, confidence}, or {"items": [...]}) read when there
	// is no CONTROL_PLANE_URL; with one, the catalog comes from its GET
	// /api/hints and this is ignored. Default empty: no catalog.
	HintsFile string `env:"HINTS_FILE"`
	// HintsRefreshInterval re-reads the hint catalog (control-plane or
	// HINTS_FILE); a failed refresh keeps the last good copy. Default 5m;
	// 10s..24h.
	HintsRefreshInterval Interval `env:"HINTS_REFRESH_INTERVAL" envDefault:"5m"`
	// AutoFix retries a failed build once, at once, with the recipes its
	// matched hints give for the build image's package manager (read from
	// the image's /etc/os-release), counted as an attempt. Needs podman and
	// a hint catalog. Default false.
	AutoFix bool `env:"AUTO_FIX" envDefault:"false"`
	// AutoFixMinConfidence is the least confidence a matched hint needs for
	// auto-fix (0..1). Default 0.7.
	AutoFixMinConfidence float64 `env:"AUTO_FIX_MIN_CONFIDENCE" envDefault:"0.7"`

	// Object store (S3-compatible) for pending inputs.
	ObjectStoreEndpoint  string `env:"OBJECT_STORE_ENDPOINT"`
	ObjectStoreBucket    string `env:"OBJECT_STORE_BUCKET"`
	ObjectStoreAccessKey string `env:"OBJECT_STORE_ACCESS_KEY"`
	ObjectStoreSecretKey string `env:"OBJECT_STORE_SECRET_KEY" secret:"true"`
	ObjectStoreUseSSL    bool   `env:"OBJECT_STORE_USE_SSL" envDefault:"false"`

	// IndexServe serves the wheel index (OUTPUT_DIR/simple) under /simple/
	// on WORKER_HTTP_ADDR. Default true; false publishes without serving.
	IndexServe bool `env:"INDEX_SERVE" envDefault:"true"`
	// PublicURL is this worker's base URL as pip reaches it (http/https, no
	// query), e.g. http://worker-1:9000. Without ARTIFACT_STORE_URL, a
	// built wheel's wheel_url points into its /simple/. Default empty: no URL.
	PublicURL string `env:"PUBLIC_URL"`
	// ArtifactStoreURL uploads every published wheel and its metadata file
	// to an S3-compatible store: http(s)://host[:port]/bucket[/prefix]
	// (path-style). Default empty: no uploads.
	ArtifactStoreURL string `env:"ARTIFACT_STORE_URL" secretURL:"true"`
	// ArtifactStoreAccessKey and ArtifactStoreSecretKey are the store's
	// credentials (default empty: anonymous).
	ArtifactStoreAccessKey string `env:"ARTIFACT_STORE_ACCESS_KEY" secret:"true"`
	ArtifactStoreSecretKey string `env:"ARTIFACT_STORE_SECRET_KEY" secret:"true"`
	// ArtifactStoreRegion is sent to stores that require one. Default empty.
	ArtifactStoreRegion string `env:"ARTIFACT_STORE_REGION"`
}

// Continuous reports whether the intake streams (Redis list, Kafka topic, the
// control-plane's build queue, polled): serve consumes as items arrive
// instead of draining on trigger.
func (c Config) Continuous() bool {
	return c.QueueBackend == "redis" || c.QueueBackend == "kafka" || c.QueueBackend == "controlplane"
}

// ContainerOwner is the refinery.worker label of this worker's containers. It
// must survive a restart, so that the next start removes what a killed run
// left: WORKER_ID when set, else the host name. Several workers on one host
// may share it: each container also names its owner process
// (podman.LabelOwner), and a start keeps the containers of owners alive.
func (c Config) ContainerOwner() string {
	if c.workerIDSet {
		return c.WorkerID
	}
	host, _ := os.Hostname()
	return host
}

// Logger is the worker's logger on w: LOG_FORMAT (json with worker_id on
// every line, or text) at LOG_LEVEL.
func (c Config) Logger(w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.LogLevel)) // validated by Load
	opts := &slog.HandlerOptions{Level: level}
	if c.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts)).With("worker_id", c.WorkerID)
}
