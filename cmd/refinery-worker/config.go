package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/caarlos0/env/v11"

	"github.com/refinery/refinery-worker/pipeline"
	"github.com/refinery/refinery-worker/pipeline/pep440"
)

// Config is the worker's whole configuration, read from the environment
// (contract/formats.md "Environment variables"). Each field documents its
// default and constraints; Validate checks them all and reports every bad
// variable at once.
type Config struct {
	// QueueBackend selects the intake: file (default) | redis | kafka | controlplane.
	QueueBackend string `env:"QUEUE_BACKEND" envDefault:"file"`
	// QueueFile is the control-plane's file queue (a JSON array). Default
	// /tmp/refinery/retry_queue.json.
	QueueFile string `env:"QUEUE_FILE" envDefault:"/tmp/refinery/retry_queue.json"`
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
	PythonVersion string `env:"PYTHON_VERSION" envDefault:"3.11"`
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
	WorkerRunCmd string `env:"WORKER_RUN_CMD"`
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

	// StubDelayMax makes each stub job wait a uniform 0..max (benchmarks and
	// the chaos suite); StubFailRatio in [0,1] fails that share of stub jobs.
	// Both default to off and are ignored by the podman runner.
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
	// WorkerAutorunInterval drains periodically: a Go duration or plain seconds; 0/empty = off.
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
	// LogFormat is json (default) | text; LogLevel debug|info (default)|warn|error.
	LogFormat string `env:"LOG_FORMAT" envDefault:"json"`
	LogLevel  string `env:"LOG_LEVEL" envDefault:"info"`

	// ControlPlaneURL enables reporting to the control-plane (http/https).
	ControlPlaneURL string `env:"CONTROL_PLANE_URL"`
	// ControlPlaneToken is sent as X-Worker-Token.
	ControlPlaneToken string `env:"CONTROL_PLANE_TOKEN" secret:"true"`
	// WorkerHeartbeatIntervalSec is the heartbeat period (1..3600). Default 15.
	WorkerHeartbeatIntervalSec int `env:"WORKER_HEARTBEAT_INTERVAL_SEC" envDefault:"15"`

	// Object store (S3-compatible) for pending inputs.
	ObjectStoreEndpoint  string `env:"OBJECT_STORE_ENDPOINT"`
	ObjectStoreBucket    string `env:"OBJECT_STORE_BUCKET"`
	ObjectStoreAccessKey string `env:"OBJECT_STORE_ACCESS_KEY"`
	ObjectStoreSecretKey string `env:"OBJECT_STORE_SECRET_KEY" secret:"true"`
	ObjectStoreUseSSL    bool   `env:"OBJECT_STORE_USE_SSL" envDefault:"false"`
}

// Interval is a duration given as a Go duration ("90s", "5m") or as plain
// seconds ("90"). Empty and "0" mean zero (off).
type Interval time.Duration

// D returns the interval as a time.Duration.
func (i Interval) D() time.Duration { return time.Duration(i) }

// String prints the interval as a Go duration.
func (i Interval) String() string { return time.Duration(i).String() }

// ParseInterval parses a Go duration or plain (possibly fractional) seconds.
func ParseInterval(s string) (Interval, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		if f < 0 {
			return 0, fmt.Errorf("%q is negative", s)
		}
		return Interval(time.Duration(f * float64(time.Second))), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is neither a Go duration (90s, 5m) nor seconds", s)
	}
	if d < 0 {
		return 0, fmt.Errorf("%q is negative", s)
	}
	return Interval(d), nil
}

// ByteSize is a size in bytes, given plain or with a unit (k, M, G, T with
// an optional B or iB; decimal for kB/MB/GB, binary for KiB/MiB/GiB).
type ByteSize int64

// ParseByteSize parses "1073741824", "1GiB", "500MB", "2G".
func ParseByteSize(s string) (ByteSize, error) {
	s = strings.TrimSpace(s)
	i := strings.IndexFunc(s, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	num, unit := s, ""
	if i >= 0 {
		num, unit = s[:i], strings.TrimSpace(s[i:])
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || f < 0 {
		return 0, fmt.Errorf("%q is not a size (bytes, or 500MB, 1GiB)", s)
	}
	mult := map[string]float64{"": 1, "B": 1, "k": 1e3, "kB": 1e3, "K": 1 << 10, "KiB": 1 << 10, "M": 1 << 20, "MB": 1e6, "MiB": 1 << 20,
		"G": 1 << 30, "GB": 1e9, "GiB": 1 << 30, "T": 1 << 40, "TB": 1e12, "TiB": 1 << 40}[unit]
	if mult == 0 {
		return 0, fmt.Errorf("%q has an unknown unit %q", s, unit)
	}
	return ByteSize(f * mult), nil
}

// URLList is a list of URLs separated by spaces or commas.
type URLList []string

func parseURLList(s string) (URLList, error) {
	return URLList(strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' })), nil
}

// Overrides is PLAN_OVERRIDES_JSON: normalised package name → version.
type Overrides map[string]string

func parseOverrides(s string) (Overrides, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var raw map[string]string
	if err := json.Unmarshal([]byte(s), &raw); err != nil {
		return nil, fmt.Errorf("must be a JSON object of name to version strings: %v", err)
	}
	out := make(Overrides, len(raw))
	for name, v := range raw {
		n := pipeline.NormalizeName(name)
		if !pipeline.ValidName(name) {
			return nil, fmt.Errorf("%q is not a valid package name", name)
		}
		v = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), "=="))
		if _, err := pep440.Parse(v); err != nil {
			return nil, fmt.Errorf("version %q for %q is not a PEP 440 version", v, name)
		}
		out[n] = v
	}
	return out, nil
}

// LoadConfig reads the configuration from environ (KEY=VALUE strings) and
// validates it. The error lists every bad variable, one per line.
func LoadConfig(environ []string) (Config, error) {
	var cfg Config
	opts := env.Options{
		Environment: env.ToMap(environ),
		FuncMap: map[reflect.Type]env.ParserFunc{
			reflect.TypeOf(Interval(0)): func(v string) (any, error) { return ParseInterval(v) },
			reflect.TypeOf(Overrides{}): func(v string) (any, error) { return parseOverrides(v) },
			reflect.TypeOf(URLList{}):   func(v string) (any, error) { return parseURLList(v) },
			reflect.TypeOf(ByteSize(0)): func(v string) (any, error) { return ParseByteSize(v) },
		},
	}
	var problems []string
	if err := env.ParseWithOptions(&cfg, opts); err != nil {
		problems = append(problems, envErrors(err)...)
	}
	problems = append(problems, cfg.validate()...)
	if len(problems) > 0 {
		sort.Strings(problems)
		return cfg, &ConfigError{Problems: problems}
	}
	cfg.workerIDSet = cfg.WorkerID != ""
	if cfg.WorkerID == "" {
		host, _ := os.Hostname()
		cfg.WorkerID = fmt.Sprintf("%s-%d", host, os.Getpid())
	}
	return cfg, nil
}

// continuous reports whether the intake streams (Redis list, Kafka topic):
// the worker consumes as items arrive instead of draining on trigger.
func (c Config) continuous() bool { return c.QueueBackend == "redis" || c.QueueBackend == "kafka" }

// ContainerOwner is the refinery.worker label of this worker's containers. It
// must survive a restart, so that the next start removes what a killed run
// left: WORKER_ID when set, else the host name (run several workers on one
// host with distinct WORKER_IDs, or they remove each other's containers at
// start).
func (c Config) ContainerOwner() string {
	if c.workerIDSet {
		return c.WorkerID
	}
	host, _ := os.Hostname()
	return host
}

// ConfigError lists every invalid variable.
type ConfigError struct{ Problems []string }

func (e *ConfigError) Error() string {
	return "invalid configuration:\n  " + strings.Join(e.Problems, "\n  ")
}

// envErrors turns caarlos0/env's errors into "VAR: reason" lines.
func envErrors(err error) []string {
	keys := envKeys()
	var agg env.AggregateError
	errs := []error{err}
	if errors.As(err, &agg) {
		errs = agg.Errors
	}
	var out []string
	for _, e := range errs {
		var pe env.ParseError
		if errors.As(e, &pe) {
			cause := pe.Err
			var ne *strconv.NumError
			if errors.As(cause, &ne) {
				cause = fmt.Errorf("%q is not a valid %s", ne.Num, pe.Type)
			}
			out = append(out, fmt.Sprintf("%s: %v", keys[pe.Name], cause))
			continue
		}
		out = append(out, e.Error())
	}
	return out
}

// envKeys maps Config field names to their variables.
func envKeys() map[string]string {
	t := reflect.TypeOf(Config{})
	m := make(map[string]string, t.NumField())
	for i := range t.NumField() {
		f := t.Field(i)
		m[f.Name] = strings.Split(f.Tag.Get("env"), ",")[0]
	}
	return m
}

var pyVerRE = regexp.MustCompile(`^[0-9]{1,2}\.[0-9]{1,3}$`)

func oneOf(v string, allowed ...string) bool {
	for _, a := range allowed {
		if v == a {
			return true
		}
	}
	return false
}

func (c *Config) validate() []string {
	var p []string
	bad := func(key, format string, args ...any) { p = append(p, key+": "+fmt.Sprintf(format, args...)) }
	if !oneOf(c.QueueBackend, "file", "redis", "kafka", "controlplane") {
		bad("QUEUE_BACKEND", "%q is not one of file, redis, kafka, controlplane", c.QueueBackend)
	}
	if !oneOf(c.PipelineTransport, "memory", "redis", "kafka") {
		bad("PIPELINE_TRANSPORT", "%q is not one of memory, redis, kafka", c.PipelineTransport)
	}
	if c.QueueBackend == "file" && strings.TrimSpace(c.QueueFile) == "" {
		bad("QUEUE_FILE", "must not be empty with QUEUE_BACKEND=file")
	}
	if c.QueueBackend == "redis" || c.PipelineTransport == "redis" {
		if u, err := url.Parse(c.RedisURL); err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") {
			bad("REDIS_URL", "%q is not a redis:// or rediss:// URL", redactURL(c.RedisURL))
		}
	}
	if (c.QueueBackend == "kafka" || c.PipelineTransport == "kafka") && len(c.KafkaBrokers) == 0 {
		bad("KAFKA_BROKERS", "required with kafka (comma-separated host:port)")
	}
	if c.QueueBackend == "controlplane" && c.ControlPlaneURL == "" {
		bad("CONTROL_PLANE_URL", "required with QUEUE_BACKEND=controlplane")
	}
	for _, d := range []struct{ key, v string }{{"OUTPUT_DIR", c.OutputDir}, {"CACHE_DIR", c.CacheDir}} {
		if strings.TrimSpace(d.v) == "" {
			bad(d.key, "must not be empty")
		}
	}
	if !pyVerRE.MatchString(c.PythonVersion) {
		bad("PYTHON_VERSION", "%q is not MAJOR.MINOR (e.g. 3.11)", c.PythonVersion)
	}
	if !pipeline.ValidTag(c.PlatformTag) {
		bad("PLATFORM_TAG", "%q is not a platform tag ([A-Za-z0-9._-]+)", c.PlatformTag)
	}
	for _, u := range append([]string{c.IndexURL}, c.ExtraIndexURL...) {
		if pu, err := url.Parse(u); err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
			key := "INDEX_URL"
			if u != c.IndexURL {
				key = "EXTRA_INDEX_URL"
			}
			bad(key, "%q is not an http(s) URL", redactURL(u))
		}
	}
	if !oneOf(c.UpgradeStrategy, "pinned", "eager") {
		bad("UPGRADE_STRATEGY", "%q is not pinned or eager", c.UpgradeStrategy)
	}
	ranges := []struct {
		key     string
		v, l, h int
	}{
		{"MAX_DEPS", c.MaxDeps, 1, 100000},
		{"RUNNER_TIMEOUT_SEC", c.RunnerTimeoutSec, 1, 86400},
		{"STOP_GRACE_SEC", c.StopGraceSec, 0, 300},
		{"BUILD_CONCURRENCY", c.BuildConcurrency, 1, 64},
		{"MAX_REQUEUE_ATTEMPTS", c.MaxRequeueAttempts, 0, 100},
		{"BATCH_SIZE", c.BatchSize, 1, 100000},
		{"WORKER_HEARTBEAT_INTERVAL_SEC", c.WorkerHeartbeatIntervalSec, 1, 3600},
		{"CONTAINER_PIDS_LIMIT", c.ContainerPidsLimit, 0, 1 << 22},
	}
	for _, r := range ranges {
		if r.v < r.l || r.v > r.h {
			bad(r.key, "%d is outside %d..%d", r.v, r.l, r.h)
		}
	}
	if c.ContainerImage == "" && !oneOf(c.ContainerPreset, "rocky", "fedora", "ubuntu", "debian") {
		bad("CONTAINER_PRESET", "%q is not one of rocky, fedora, ubuntu, debian", c.ContainerPreset)
	}
	if c.ContainerNetwork != "" && !pipeline.ValidTag(c.ContainerNetwork) {
		bad("CONTAINER_NETWORK", "%q is not a network name", c.ContainerNetwork)
	}
	if c.ContainerMemory != "" && !regexp.MustCompile(`^[0-9]+[bkmgBKMG]?$`).MatchString(c.ContainerMemory) {
		bad("CONTAINER_MEMORY", "%q is not a size such as 4g", c.ContainerMemory)
	}
	if c.ContainerCPUs != "" {
		if f, err := strconv.ParseFloat(c.ContainerCPUs, 64); err != nil || f <= 0 {
			bad("CONTAINER_CPUS", "%q is not a positive number", c.ContainerCPUs)
		}
	}
	if c.ControlPlaneURL != "" {
		if u, err := url.Parse(c.ControlPlaneURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("CONTROL_PLANE_URL", "%q is not an http(s) URL", redactURL(c.ControlPlaneURL))
		}
	}
	if c.RequeueBackoffMax < c.RequeueBackoff {
		bad("REQUEUE_BACKOFF_MAX", "%s is below REQUEUE_BACKOFF %s", c.RequeueBackoffMax, c.RequeueBackoff)
	}
	if c.ClaimIdle.D() < time.Second {
		bad("CLAIM_IDLE", "%s is below 1s", c.ClaimIdle)
	}
	if c.StubFailRatio < 0 || c.StubFailRatio > 1 {
		bad("STUB_FAIL_RATIO", "%v is outside 0..1", c.StubFailRatio)
	}
	if !oneOf(c.LogFormat, "json", "text") {
		bad("LOG_FORMAT", "%q is not json or text", c.LogFormat)
	}
	if !oneOf(c.LogLevel, "debug", "info", "warn", "error") {
		bad("LOG_LEVEL", "%q is not debug, info, warn or error", c.LogLevel)
	}
	if c.ObjectStoreEndpoint != "" && c.ObjectStoreBucket == "" {
		bad("OBJECT_STORE_BUCKET", "required when OBJECT_STORE_ENDPOINT is set")
	}
	return p
}

// redactURL hides a password in a URL.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "[REDACTED]")
	}
	return u.String()
}

// Redacted returns the configuration as VAR → printable value, with secrets
// replaced by [REDACTED] (set) or "" (unset), and passwords cut from URLs.
func (c Config) Redacted() map[string]string {
	out := map[string]string{}
	v := reflect.ValueOf(c)
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		key := strings.Split(f.Tag.Get("env"), ",")[0]
		if key == "" {
			continue
		}
		val := fmt.Sprint(v.Field(i).Interface())
		switch fv := v.Field(i).Interface().(type) {
		case URLList:
			parts := make([]string, len(fv))
			for j, s := range fv {
				parts[j] = s
				if f.Tag.Get("secretURL") == "true" {
					parts[j] = redactURL(s)
				}
			}
			val = strings.Join(parts, ",")
		case []string:
			val = strings.Join(fv, ",")
		case Overrides:
			b, _ := json.Marshal(fv)
			val = string(b)
			if len(fv) == 0 {
				val = ""
			}
		case string:
			if f.Tag.Get("secretURL") == "true" {
				val = redactURL(fv)
			}
		}
		if f.Tag.Get("secret") == "true" && val != "" {
			val = "[REDACTED]"
		}
		out[key] = val
	}
	return out
}
