package main

import (
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/refinery/refinery-worker/pipeline"
)

var pyVerRE = regexp.MustCompile(`^[0-9]{1,2}\.[0-9]{1,3}(\.[0-9]{1,3})?$`)

// pyMinorRE picks MAJOR.MINOR out of a valid PYTHON_VERSION.
var pyMinorRE = regexp.MustCompile(`^[0-9]+\.[0-9]+`)

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
		bad("PYTHON_VERSION", "%q is not MAJOR.MINOR or MAJOR.MINOR.MICRO (e.g. 3.11 or 3.11.7)", c.PythonVersion)
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
		{"RESOLVER_MAX_ATTEMPTS", c.ResolverMaxAttempts, 100, 10000000},
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
	if c.IndexTimeout.D() < time.Second || c.IndexTimeout.D() > 10*time.Minute {
		bad("INDEX_TIMEOUT", "%s is outside 1s..10m", c.IndexTimeout)
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
