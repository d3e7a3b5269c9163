package config

import (
	"errors"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// problems loads environ and returns the problems reported, failing the
// test on an error that is not an *Error.
func problems(t *testing.T, environ ...string) []string {
	t.Helper()
	_, err := Load(environ)
	if err == nil {
		return nil
	}
	var ce *Error
	if !errors.As(err, &ce) {
		t.Fatalf("Load(%q) err = %v, want *Error", environ, err)
	}
	return ce.Problems
}

func TestLoadDefaults(t *testing.T) {
	cfg, err := Load(nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.QueueBackend != "file" || cfg.OutputDir != "/output" || cfg.CacheDir != "/cache" || cfg.BatchSize != 50 ||
		cfg.RunnerTimeoutSec != 900 || cfg.MaxRequeueAttempts != 3 || cfg.RequeueOnFailure || cfg.PythonVersion != "3.11" ||
		cfg.PlatformTag != "manylinux2014_s390x" || cfg.WorkerHTTPAddr != ":9000" || cfg.ShutdownGrace.D() != 30*time.Second ||
		cfg.WorkerAutorunInterval != 0 || cfg.WorkerID == "" || cfg.MemorySoftLimit != 120<<20 {
		t.Errorf("defaults differ from docs/control-plane.md: %+v", cfg)
	}
	if cfg.PythonFullVersion != "3.11" || cfg.ResolverMaxAttempts != 20000 || cfg.IndexTimeout.D() != 30*time.Second {
		t.Errorf("resolver defaults: full %q, max attempts %d, timeout %s", cfg.PythonFullVersion, cfg.ResolverMaxAttempts, cfg.IndexTimeout)
	}
	if !cfg.IndexServe || cfg.PublicURL != "" || cfg.ArtifactStoreURL != "" {
		t.Errorf("index defaults: serve %v, public URL %q, store %q", cfg.IndexServe, cfg.PublicURL, cfg.ArtifactStoreURL)
	}
}

// Load ignores the process environment: only environ counts.
func TestLoadReadsOnlyTheGivenEnvironment(t *testing.T) {
	t.Setenv("BATCH_SIZE", "7")
	cfg, err := Load(nil)
	if err != nil || cfg.BatchSize != 50 {
		t.Fatalf("BATCH_SIZE = %d, %v; want the default 50", cfg.BatchSize, err)
	}
}

// Values that pass, and what Load makes of them.
func TestLoadAccepts(t *testing.T) {
	type accept struct {
		name    string
		environ []string
		check   func(Config) bool
	}
	cases := []accept{
		{"full python version", []string{"PYTHON_VERSION=3.11.7"},
			func(c Config) bool { return c.PythonVersion == "3.11" && c.PythonFullVersion == "3.11.7" }},
		{"resolver limits", []string{"RESOLVER_MAX_ATTEMPTS=500", "INDEX_TIMEOUT=5s"},
			func(c Config) bool { return c.ResolverMaxAttempts == 500 && c.IndexTimeout.D() == 5*time.Second }},
		{"overrides normalised", []string{`PLAN_OVERRIDES_JSON={"NumPy": "1.26.4", "zope_interface": "==6.4"}`},
			func(c Config) bool {
				return c.PlanOverrides["numpy"] == "1.26.4" && c.PlanOverrides["zope-interface"] == "6.4"
			}},
		{"extra indexes split", []string{"EXTRA_INDEX_URL=https://a.example/simple, https://b.example/simple"},
			func(c Config) bool {
				return slices.Equal(c.ExtraIndexURL, URLList{"https://a.example/simple", "https://b.example/simple"})
			}},
		{"kafka brokers", []string{"QUEUE_BACKEND=kafka", "KAFKA_BROKERS=k1:9092,k2:9092"},
			func(c Config) bool { return slices.Equal(c.KafkaBrokers, []string{"k1:9092", "k2:9092"}) }},
		{"interval in seconds", []string{"WORKER_AUTORUN_INTERVAL=90"},
			func(c Config) bool { return c.WorkerAutorunInterval.D() == 90*time.Second }},
		{"byte size with unit", []string{"MIN_FREE_DISK=500MB", "QUEUE_FILE_MAX_BYTES=0"},
			func(c Config) bool { return c.MinFreeDisk == 500e6 && c.QueueFileMaxBytes == 0 }},
		{"image wins over an unknown preset", []string{"CONTAINER_IMAGE=example/img", "CONTAINER_PRESET=arch"},
			func(c Config) bool { return c.ContainerImage == "example/img" }},
		{"index publishing", []string{"PUBLIC_URL=http://worker-1:9000/x", "ARTIFACT_STORE_URL=http://127.0.0.1:9000/wheels/p"},
			func(c Config) bool { return c.PublicURL == "http://worker-1:9000/x" }},
	}
	for _, preset := range []string{"debian", "rocky", "fedora", "ubuntu"} {
		cases = append(cases, accept{"preset " + preset, []string{"CONTAINER_PRESET=" + preset}, func(c Config) bool { return c.ContainerPreset == preset }})
	}
	for _, addr := range []string{":9000", "127.0.0.1:0", "[::1]:8080", "localhost:9000"} {
		cases = append(cases, accept{"listen " + addr, []string{"WORKER_HTTP_ADDR=" + addr}, func(c Config) bool { return c.WorkerHTTPAddr == addr }})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := Load(tc.environ)
			if err != nil {
				t.Fatalf("Load(%q): %v", tc.environ, err)
			}
			if !tc.check(cfg) {
				t.Errorf("Load(%q) = %+v", tc.environ, cfg)
			}
		})
	}
}

// Each bad value is refused with the variable named, and the reason as
// the documentation and operators see it.
func TestLoadRejects(t *testing.T) {
	cases := []struct {
		env  string
		want string // the whole problem line, or its start ending in ": "
	}{
		{"QUEUE_BACKEND=carrier-pigeon", `QUEUE_BACKEND: "carrier-pigeon" is not one of file, redis, kafka, controlplane`},
		{"PIPELINE_TRANSPORT=pigeon", `PIPELINE_TRANSPORT: "pigeon" is not one of memory, redis, kafka`},
		{"QUEUE_FILE= ", "QUEUE_FILE: must not be empty with QUEUE_BACKEND=file"},
		{"BATCH_SIZE=0", "BATCH_SIZE: 0 is outside 1..100000"},
		{"BATCH_SIZE=lots", `BATCH_SIZE: "lots" is not a valid int`},
		{"MAX_REQUEUE_ATTEMPTS=-1", "MAX_REQUEUE_ATTEMPTS: -1 is outside 0..100"},
		{"REQUEUE_ON_FAILURE=maybe", `REQUEUE_ON_FAILURE: "maybe" is not a valid bool`},
		{"RUNNER_TIMEOUT_SEC=0", "RUNNER_TIMEOUT_SEC: 0 is outside 1..86400"},
		{"MONITOR_TIMER_SLACK_US=20000", "MONITOR_TIMER_SLACK_US: 20000 is outside 0..10000"},
		{"RESOLVER_MAX_ATTEMPTS=5", "RESOLVER_MAX_ATTEMPTS: 5 is outside 100..10000000"},
		{"INDEX_TIMEOUT=1h", "INDEX_TIMEOUT: 1h0m0s is outside 1s..10m"},
		{"SHUTDOWN_GRACE=never", `SHUTDOWN_GRACE: "never" is neither a Go duration (90s, 5m) nor seconds`},
		{"WORKER_AUTORUN_INTERVAL=soon", "WORKER_AUTORUN_INTERVAL: "},
		{"MIN_FREE_DISK=5XB", `MIN_FREE_DISK: "5XB" has an unknown unit "XB"`},
		{"MEMORY_SOFT_LIMIT=lots", `MEMORY_SOFT_LIMIT: "lots" is not a size (bytes, or 500MB, 1GiB)`},
		{"QUEUE_FILE_MAX_BYTES=10", "QUEUE_FILE_MAX_BYTES: 10 is outside 1KiB..1TiB (0: no bound)"},
		{"PLATFORM_TAG=x --privileged", `PLATFORM_TAG: "x --privileged" is not a platform tag ([A-Za-z0-9._-]+)`},
		{"PYTHON_VERSION=3.11.7.1", `PYTHON_VERSION: "3.11.7.1" is not MAJOR.MINOR or MAJOR.MINOR.MICRO (e.g. 3.11 or 3.11.7)`},
		{"PLAN_OVERRIDES_JSON={bad", "PLAN_OVERRIDES_JSON: "},
		{`PLAN_OVERRIDES_JSON={"ov-pkg":"1.0","Ov.Pkg":"2.0"}`, "PLAN_OVERRIDES_JSON: ov-pkg is named twice under different spellings: give each project once"},
		{"CONTAINER_PRESET=arch", `CONTAINER_PRESET: "arch" is not one of debian, fedora, rocky, ubuntu`},
		{"CONTAINER_MEMORY=lots", `CONTAINER_MEMORY: "lots" is not a size such as 4g`},
		{"CONTAINER_CPUS=0", `CONTAINER_CPUS: "0" is not a positive number`},
		{"CONTAINER_NETWORK=a b", `CONTAINER_NETWORK: "a b" is not a network name`},
		{"SMOKE_TEST=pytest | tee log", "SMOKE_TEST: "},
		{"CONTROL_PLANE_URL=ftp://x", `CONTROL_PLANE_URL: "ftp://x" is not an http(s) URL`},
		{"QUEUE_BACKEND=controlplane", "CONTROL_PLANE_URL: required with QUEUE_BACKEND=controlplane"},
		{"QUEUE_BACKEND=kafka", "KAFKA_BROKERS: required with kafka (comma-separated host:port)"},
		{"PIPELINE_TRANSPORT=redis", ""}, // the default REDIS_URL is fine
		{"INDEX_URL=https://u:pw@[bad", "INDEX_URL: "},
		{"EXTRA_INDEX_URL=ftp://u:pw@x/simple", `EXTRA_INDEX_URL: "ftp://u:%5BREDACTED%5D@x/simple" is not an http(s) URL`},
		{"REQUEUE_BACKOFF_MAX=1s", "REQUEUE_BACKOFF_MAX: 1s is below REQUEUE_BACKOFF 30s"},
		{"BUILD_QUEUE_POLL_INTERVAL=10ms", "BUILD_QUEUE_POLL_INTERVAL: 10ms is outside 100ms..10m"},
		{"BUILD_QUEUE_POLL_MAX=1s", "BUILD_QUEUE_POLL_MAX: 1s is outside BUILD_QUEUE_POLL_INTERVAL (5s)..10m"},
		{"HINTS_REFRESH_INTERVAL=1s", "HINTS_REFRESH_INTERVAL: 1s is outside 10s..24h"},
		{"AUTO_FIX_MIN_CONFIDENCE=1.5", "AUTO_FIX_MIN_CONFIDENCE: 1.5 is outside 0..1"},
		{"CLAIM_IDLE=10ms", "CLAIM_IDLE: 10ms is below 1s"},
		{"STUB_FAIL_RATIO=2", "STUB_FAIL_RATIO: 2 is outside 0..1"},
		{"LOG_FORMAT=xml", `LOG_FORMAT: "xml" is not json or text`},
		{"LOG_LEVEL=loud", `LOG_LEVEL: "loud" is not debug, info, warn or error`},
		{"OBJECT_STORE_ENDPOINT=s3.example", "OBJECT_STORE_BUCKET: required when OBJECT_STORE_ENDPOINT is set"},
		{"WORKER_ID=-x", `WORKER_ID: "-x" must be 1 to 64 of [A-Za-z0-9_.-], starting with a letter or digit`},
		{"OUTPUT_DIR= ", "OUTPUT_DIR: must not be empty"},
		{"PUBLIC_URL=ftp://x", `PUBLIC_URL: "ftp://x" is not an http(s)://host[:port][/path] URL without query or credentials`},
		{"PUBLIC_URL=http://u:p@host", "PUBLIC_URL: "},
		{"ARTIFACT_STORE_URL=http://127.0.0.1:9000", "ARTIFACT_STORE_URL: the path must name a bucket"},
		{"INDEX_SERVE=maybe", `INDEX_SERVE: "maybe" is not a valid bool`},
		{"WORKER_HTTP_ADDR=9000", `WORKER_HTTP_ADDR: "9000" is not host:port (e.g. :9000 or 127.0.0.1:9000)`},
		{"WORKER_HTTP_ADDR=host:port", `WORKER_HTTP_ADDR: "host:port" has port "port", not a number 0..65535`},
		{"WORKER_HTTP_ADDR=:99999", `WORKER_HTTP_ADDR: ":99999" has port "99999", not a number 0..65535`},
		{"WORKER_HTTP_ADDR=a b:1", `WORKER_HTTP_ADDR: "a b:1" has host "a b", not a host name or address`},
	}
	for _, tc := range cases {
		t.Run(tc.env, func(t *testing.T) {
			got := problems(t, tc.env)
			if tc.want == "" {
				if got != nil {
					t.Fatalf("problems %q, want none", got)
				}
				return
			}
			if len(got) != 1 {
				t.Fatalf("problems %q, want exactly one", got)
			}
			if p := got[0]; p != tc.want && !(strings.HasSuffix(tc.want, ": ") && strings.HasPrefix(p, tc.want)) {
				t.Errorf("problem %q, want %q", p, tc.want)
			}
		})
	}
}

// Every bad variable is reported at once, sorted, each once: a value that
// does not parse is not reported again as a zero value out of range.
func TestLoadListsEveryBadVariableOnce(t *testing.T) {
	environ := []string{
		"QUEUE_BACKEND=carrier-pigeon", "BATCH_SIZE=abc", "MAX_REQUEUE_ATTEMPTS=-1", "REQUEUE_ON_FAILURE=maybe",
		"WORKER_AUTORUN_INTERVAL=soon", "PLATFORM_TAG=x --privileged", "PLAN_OVERRIDES_JSON={bad", "CONTAINER_PRESET=arch",
		"CONTROL_PLANE_URL=ftp://x", "RUNNER_TIMEOUT_SEC=0", "MEMORY_SOFT_LIMIT=lots", "SMOKE_TEST=pytest | tee log",
		"WORKER_HTTP_ADDR=notanaddr", "MAX_DEPS=x",
	}
	got := problems(t, environ...)
	var keys []string
	for _, p := range got {
		key, _, _ := strings.Cut(p, ": ")
		keys = append(keys, key)
		if strings.Contains(p, "0 is outside") && key != "RUNNER_TIMEOUT_SEC" {
			t.Errorf("misleading problem for a value that did not parse: %q", p)
		}
	}
	var want []string
	for _, e := range environ {
		key, _, _ := strings.Cut(e, "=")
		want = append(want, key)
	}
	slices.Sort(want)
	if !slices.Equal(keys, want) {
		t.Errorf("problems name %q, want each of %q once, sorted", keys, want)
	}
	_, err := Load(environ)
	if !strings.HasPrefix(err.Error(), "invalid configuration:\n  BATCH_SIZE: ") || strings.Count(err.Error(), "\n  ") != len(want) {
		t.Errorf("error text:\n%s", err)
	}
}

func TestContainerOwner(t *testing.T) {
	host, err := os.Hostname()
	if err != nil {
		t.Skip("no host name:", err)
	}
	named, err := Load([]string{"WORKER_ID=w-1"})
	if err != nil {
		t.Fatal(err)
	}
	if named.WorkerID != "w-1" || named.ContainerOwner() != "w-1" {
		t.Errorf("WORKER_ID=w-1: id %q, owner %q", named.WorkerID, named.ContainerOwner())
	}
	// Unset, the worker ID names the process but the owner survives a restart.
	def, err := Load(nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := host + "-" + strconv.Itoa(os.Getpid()); def.WorkerID != want {
		t.Errorf("default WorkerID %q, want %q", def.WorkerID, want)
	}
	if def.ContainerOwner() != host {
		t.Errorf("default owner %q, want the host name %q", def.ContainerOwner(), host)
	}
}

func TestContinuous(t *testing.T) {
	for _, tc := range []struct {
		environ []string
		want    bool
	}{
		{nil, false},
		{[]string{"QUEUE_BACKEND=redis"}, true},
		{[]string{"QUEUE_BACKEND=kafka", "KAFKA_BROKERS=k:9092"}, true},
		{[]string{"QUEUE_BACKEND=controlplane", "CONTROL_PLANE_URL=http://cp:8000"}, true},
		{[]string{"WORKER_AUTORUN_INTERVAL=5s"}, false},
	} {
		cfg, err := Load(tc.environ)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Continuous() != tc.want {
			t.Errorf("%q: Continuous() = %v, want %v", tc.environ, cfg.Continuous(), tc.want)
		}
	}
}

// STUB_DELAY_MIN alone is a fixed wait; with STUB_DELAY_MAX it may not
// exceed it.
func TestStubDelayBounds(t *testing.T) {
	for _, tc := range []struct {
		environ []string
		want    []string
	}{
		{[]string{"STUB_DELAY_MIN=10m"}, nil},
		{[]string{"STUB_DELAY_MIN=1s", "STUB_DELAY_MAX=1s"}, nil},
		{[]string{"STUB_DELAY_MIN=10m", "STUB_DELAY_MAX=5m"}, []string{"STUB_DELAY_MIN: 10m0s is above STUB_DELAY_MAX (5m0s)"}},
	} {
		t.Run(strings.Join(tc.environ, " "), func(t *testing.T) {
			if got := problems(t, tc.environ...); !slices.Equal(got, tc.want) {
				t.Errorf("problems %q, want %q", got, tc.want)
			}
		})
	}
}
