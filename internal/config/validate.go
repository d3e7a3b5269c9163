package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/refinery/refinery-worker/adapters/podman"
	"github.com/refinery/refinery-worker/adapters/wheelstore"
	"github.com/refinery/refinery-worker/pipeline"
)

var (
	pyVerRE = regexp.MustCompile(`^[0-9]{1,2}\.[0-9]{1,3}(\.[0-9]{1,3})?$`)
	// pyMinorRE picks MAJOR.MINOR out of a valid PYTHON_VERSION.
	pyMinorRE = regexp.MustCompile(`^[0-9]+\.[0-9]+`)
	// workerIDRE is what the container labels and names accept.
	workerIDRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)
)

// oneOf reports whether v is one of allowed.
func oneOf(v string, allowed ...string) bool {
	for _, a := range allowed {
		if v == a {
			return true
		}
	}
	return false
}

// validate checks every field and the combinations of fields, returning
// one "VAR: reason" line per problem.
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
	p = append(p, c.indexProblems()...)
	for _, d := range []struct{ key, v string }{{"OUTPUT_DIR", c.OutputDir}, {"CACHE_DIR", c.CacheDir}} {
		if strings.TrimSpace(d.v) == "" {
			bad(d.key, "must not be empty")
		}
	}
	if err := checkListenAddr(c.WorkerHTTPAddr); err != nil {
		bad("WORKER_HTTP_ADDR", "%q %v", c.WorkerHTTPAddr, err)
	}
	if m := c.QueueFileMaxBytes; m != 0 && (m < 1<<10 || m > 1<<40) {
		bad("QUEUE_FILE_MAX_BYTES", "%d is outside 1KiB..1TiB (0: no bound)", m)
	}
	if c.WorkerID != "" && !workerIDRE.MatchString(c.WorkerID) {
		bad("WORKER_ID", "%q must be 1 to 64 of [A-Za-z0-9_.-], starting with a letter or digit", c.WorkerID)
	}
	if !pyVerRE.MatchString(c.PythonVersion) {
		bad("PYTHON_VERSION", "%q is not MAJOR.MINOR or MAJOR.MINOR.MICRO (e.g. 3.11 or 3.11.7)", c.PythonVersion)
	}
	if !pipeline.ValidTag(c.PlatformTag) {
		bad("PLATFORM_TAG", "%q is not a platform tag ([A-Za-z0-9._-]+)", c.PlatformTag)
	}
	if err := podman.CheckSmokeTest(c.SmokeTest); err != nil {
		bad("SMOKE_TEST", "%v", err)
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
		{"RESOLVER_MAX_ATTEMPTS", c.ResolverMaxAttempts, 100, 10000000},
		{"RUNNER_TIMEOUT_SEC", c.RunnerTimeoutSec, 1, 86400},
		{"STOP_GRACE_SEC", c.StopGraceSec, 0, 300},
		{"BUILD_CONCURRENCY", c.BuildConcurrency, 1, 64},
		{"MAX_REQUEUE_ATTEMPTS", c.MaxRequeueAttempts, 0, 100},
		{"BATCH_SIZE", c.BatchSize, 1, 100000},
		{"WORKER_HEARTBEAT_INTERVAL_SEC", c.WorkerHeartbeatIntervalSec, 1, 3600},
		{"BUILD_LEASE_TIMEOUT_SEC", c.BuildLeaseTimeoutSec, 10, 86400},
		{"CONTAINER_PIDS_LIMIT", c.ContainerPidsLimit, 0, 1 << 22},
		{"MONITOR_TIMER_SLACK_US", c.MonitorTimerSlackUS, 0, 10000},
	}
	for _, r := range ranges {
		if r.v < r.l || r.v > r.h {
			bad(r.key, "%d is outside %d..%d", r.v, r.l, r.h)
		}
	}
	if _, err := podman.PresetImage(c.ContainerPreset); c.ContainerImage == "" && err != nil {
		bad("CONTAINER_PRESET", "%q is not one of %s", c.ContainerPreset, strings.Join(podman.Presets(), ", "))
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
	if d := c.BuildQueuePollInterval.D(); d < 100*time.Millisecond || d > 10*time.Minute {
		bad("BUILD_QUEUE_POLL_INTERVAL", "%s is outside 100ms..10m", c.BuildQueuePollInterval)
	} else if m := c.BuildQueuePollMax.D(); m < d || m > 10*time.Minute {
		bad("BUILD_QUEUE_POLL_MAX", "%s is outside BUILD_QUEUE_POLL_INTERVAL (%s)..10m", c.BuildQueuePollMax, c.BuildQueuePollInterval)
	}
	if c.IndexTimeout.D() < time.Second || c.IndexTimeout.D() > 10*time.Minute {
		bad("INDEX_TIMEOUT", "%s is outside 1s..10m", c.IndexTimeout)
	}
	if d := c.HintsRefreshInterval.D(); d < 10*time.Second || d > 24*time.Hour {
		bad("HINTS_REFRESH_INTERVAL", "%s is outside 10s..24h", c.HintsRefreshInterval)
	}
	if c.AutoFixMinConfidence < 0 || c.AutoFixMinConfidence > 1 {
		bad("AUTO_FIX_MIN_CONFIDENCE", "%v is outside 0..1", c.AutoFixMinConfidence)
	}
	if c.ClaimIdle.D() < time.Second {
		bad("CLAIM_IDLE", "%s is below 1s", c.ClaimIdle)
	}
	if c.StubDelayMax > 0 && c.StubDelayMin > c.StubDelayMax {
		bad("STUB_DELAY_MIN", "%s is above STUB_DELAY_MAX (%s)", c.StubDelayMin, c.StubDelayMax)
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

// checkListenAddr checks a host:port to listen on, as net.Listen would take
// it: the host may be empty, the port is a number 0..65535.
func checkListenAddr(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return errors.New("is not host:port (e.g. :9000 or 127.0.0.1:9000)")
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("has port %q, not a number 0..65535", port)
	}
	if strings.ContainsAny(host, " \t/") {
		return fmt.Errorf("has host %q, not a host name or address", host)
	}
	return nil
}

// indexProblems validates PUBLIC_URL and ARTIFACT_STORE_URL.
func (c *Config) indexProblems() []string {
	var p []string
	if c.PublicURL != "" {
		u, err := url.Parse(c.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.User != nil {
			p = append(p, fmt.Sprintf("PUBLIC_URL: %q is not an http(s)://host[:port][/path] URL without query or credentials", c.PublicURL))
		}
	}
	if c.ArtifactStoreURL != "" {
		if _, _, _, _, err := wheelstore.ParseStoreURL(c.ArtifactStoreURL); err != nil {
			p = append(p, "ARTIFACT_STORE_URL: "+err.Error())
		}
	}
	return p
}
