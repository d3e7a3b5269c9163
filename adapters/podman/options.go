// Package podman runs build jobs in rootful Podman containers and owns each
// container's whole life: a deterministic name and labels per job attempt,
// stop and removal on timeout, cancel or shutdown (killing the podman client
// alone leaves the container running), removal of leftovers of an earlier run
// at start, live byte-level log streaming, and verification of the wheels a
// build wrote.
//
// Job fields never pass through a shell: the podman command is an argument
// slice, built only from values that are validated again here (defence in
// depth behind the dequeue stage).
package podman

import (
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Defaults of Options.
const (
	DefaultBin       = "podman"
	DefaultTimeout   = 900 * time.Second
	DefaultStopGrace = 10 * time.Second
	DefaultWorkerID  = "refinery-worker"
	// DefaultRunCmd is what the container runs when Options.RunCmd is empty:
	// the entrypoint every builder image ships (builder/refinery-build).
	DefaultRunCmd = "refinery-build"
	// LocalImage is the builder image `task image:local` makes from Debian
	// bookworm without a registry (use it as CONTAINER_IMAGE here).
	LocalImage = "localhost/refinery-builder-debian:latest"
	// backstopSlack is added to Timeout+StopGrace for podman's own --timeout,
	// which only matters when the worker died and cannot stop the container.
	backstopSlack = 30 * time.Second
)

// presets maps CONTAINER_PRESET to builder image names (builder/Containerfile.<preset>).
var presets = map[string]string{
	"debian": LocalImage,
	"rocky":  "localhost/refinery-builder-rocky:latest",
	"fedora": "localhost/refinery-builder-fedora:latest",
	"ubuntu": "localhost/refinery-builder-ubuntu:latest",
}

// Presets lists the known CONTAINER_PRESET values, sorted.
func Presets() []string {
	out := make([]string, 0, len(presets))
	for k := range presets {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// PresetImage maps a CONTAINER_PRESET (debian, rocky, fedora, ubuntu) to its builder
// image, localhost/refinery-builder-<preset>:latest. An unknown preset is an
// error naming it and the known ones.
func PresetImage(preset string) (string, error) {
	img, ok := presets[preset]
	if !ok {
		return "", fmt.Errorf("unknown container preset %q (known: %s)", preset, strings.Join(Presets(), ", "))
	}
	return img, nil
}

// Options configure the podman command and runner. The zero value of a field
// means its default; Validate reports every bad field at once.
type Options struct {
	// Bin is the podman binary (PODMAN_BIN). Default "podman". The runner is
	// used only when PODMAN_BIN is set; the stub prints commands with Bin too.
	Bin string
	// Image is the builder image (CONTAINER_IMAGE). When empty, Preset decides.
	Image string
	// Preset (CONTAINER_PRESET: debian, rocky, fedora, ubuntu) picks the image when
	// Image is empty. Both empty is an error, and so is an unknown preset
	// even when Image is set. See PresetImage.
	Preset string
	// RunCmd (WORKER_RUN_CMD) replaces the container's command; it is split
	// with POSIX shell quoting rules (SplitCommand), never run by a host shell.
	// Default "refinery-build".
	RunCmd string
	// Memory limit (CONTAINER_MEMORY), podman syntax: a number with an optional
	// b/k/m/g unit, e.g. "2g". Empty: no limit.
	Memory string
	// CPUs (CONTAINER_CPUS), e.g. "1.5". Empty: no limit.
	CPUs string
	// PidsLimit (CONTAINER_PIDS_LIMIT): 0 means podman's default.
	PidsLimit int
	// Network (CONTAINER_NETWORK): none, host, private, slirp4netns, or a
	// network name. Empty: podman's default (a bridge on a private range).
	Network string
	// Timeout (RUNNER_TIMEOUT_SEC) bounds one build. Default 900s. Podman's
	// own --timeout is set to Timeout+StopGrace+30s as a backstop that still
	// fires when the worker died.
	Timeout time.Duration
	// StopGrace is the -t of `podman stop` when a build is stopped. Default 10s.
	StopGrace time.Duration
	// OutputDir (OUTPUT_DIR) is mounted at /output; CacheDir (CACHE_DIR) at
	// /cache. Host paths; made absolute; they must not contain ':' or ','.
	OutputDir string
	CacheDir  string
	// IndexURL and ExtraIndexURL (INDEX_URL, EXTRA_INDEX_URL) are passed to the
	// container when set: http(s) URLs without quotes; ExtraIndexURL may list
	// several, separated by spaces (as pip's PIP_EXTRA_INDEX_URL does).
	IndexURL      string
	ExtraIndexURL string
	// WorkerID labels (refinery.worker) and names the containers of this
	// worker; Cleanup removes containers carrying it. [A-Za-z0-9_.-], at most
	// 64 characters. Default "refinery-worker".
	WorkerID string
	// Arch is podman's --arch for every container (amd64, s390x, ...): the
	// image's architecture, so that podman does not warn that it differs
	// from the host's. Empty: no --arch (the host's).
	Arch string
	// Env is extra environment for every container (name → value). Names are
	// [A-Z_][A-Z0-9_]*; the job's own variables cannot be overridden.
	Env map[string]string
}

var (
	memoryRE   = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?[bkmgBKMG]?$`)
	cpusRE     = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?$`)
	networkRE  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.:=,-]{0,127}$`)
	imageRE    = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_./:@-]{0,254}$`)
	workerIDRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)
	envNameRE  = regexp.MustCompile(`^[A-Z_][A-Z0-9_]{0,63}$`)
	archRE     = regexp.MustCompile(`^[a-z0-9_]{1,16}$`)
	urlRE      = regexp.MustCompile(`^https?://[A-Za-z0-9._~:/?#\[\]@!$&'()*+,;=%-]+$`)
)

// reservedEnv are set by the runner for each job.
var reservedEnv = []string{"JOB_NAME", "JOB_VERSION", "PYTHON_VERSION", "PYTHON_TAG", "PLATFORM_TAG",
	"RECIPES", "INDEX_URL", "EXTRA_INDEX_URL", "PYTHONUNBUFFERED"}

// withDefaults fills defaults and makes the directories absolute.
func (o Options) withDefaults() Options {
	if o.Bin == "" {
		o.Bin = DefaultBin
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	if o.StopGrace == 0 {
		o.StopGrace = DefaultStopGrace
	}
	if o.WorkerID == "" {
		o.WorkerID = DefaultWorkerID
	}
	for _, d := range []*string{&o.OutputDir, &o.CacheDir} {
		if *d != "" {
			if abs, err := filepath.Abs(*d); err == nil {
				*d = abs
			}
		}
	}
	return o
}

// Validate checks the options (after defaults) and returns one error listing
// every bad field, or nil.
func (o Options) Validate() error {
	o = o.withDefaults()
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...)))
	}
	if o.Image != "" && !imageRE.MatchString(o.Image) {
		bad("image", "%q is not an image reference", o.Image)
	}
	if o.Image == "" && o.Preset == "" {
		bad("image", "neither an image nor a preset is set")
	}
	if o.Preset != "" {
		if _, err := PresetImage(o.Preset); err != nil {
			bad("preset", "%v", err)
		}
	}
	if _, err := SplitCommand(o.RunCmd); err != nil {
		bad("run command", "%v", err)
	}
	if o.Memory != "" && !memoryRE.MatchString(o.Memory) {
		bad("memory", "%q is not a size like 2g", o.Memory)
	}
	if o.CPUs != "" {
		f, err := strconv.ParseFloat(o.CPUs, 64)
		if !cpusRE.MatchString(o.CPUs) || err != nil || f <= 0 || f > 1024 {
			bad("cpus", "%q is not a positive number of CPUs", o.CPUs)
		}
	}
	if o.PidsLimit < 0 {
		bad("pids limit", "%d is negative", o.PidsLimit)
	}
	if o.Network != "" && !networkRE.MatchString(o.Network) {
		bad("network", "%q is not a network mode or name", o.Network)
	}
	if o.Timeout < time.Second || o.Timeout > 7*24*time.Hour {
		bad("timeout", "%s is outside 1s..168h", o.Timeout)
	}
	if o.StopGrace < 0 || o.StopGrace > time.Hour {
		bad("stop grace", "%s is outside 0..1h", o.StopGrace)
	}
	for name, d := range map[string]string{"output dir": o.OutputDir, "cache dir": o.CacheDir} {
		if d == "" || strings.ContainsAny(d, ":,\n") {
			bad(name, "%q must be a path without ':' or ','", d)
		}
	}
	if o.IndexURL != "" && !urlRE.MatchString(o.IndexURL) {
		bad("index url", "%q is not an http(s) URL", o.IndexURL)
	}
	if o.ExtraIndexURL != "" && strings.TrimSpace(o.ExtraIndexURL) == "" {
		bad("extra index url", "%q is blank", o.ExtraIndexURL)
	}
	for _, u := range strings.Fields(o.ExtraIndexURL) {
		if !urlRE.MatchString(u) {
			bad("extra index url", "%q is not an http(s) URL", u)
		}
	}
	if o.Arch != "" && !archRE.MatchString(o.Arch) {
		bad("arch", "%q is not an architecture like s390x", o.Arch)
	}
	if !workerIDRE.MatchString(o.WorkerID) {
		bad("worker id", "%q must match %s", o.WorkerID, workerIDRE)
	}
	for k, v := range o.Env {
		if !envNameRE.MatchString(k) || slices.Contains(reservedEnv, k) {
			bad("env", "%q is not an allowed variable name", k)
		}
		if strings.ContainsAny(v, "\x00\n") {
			bad("env", "value of %s contains a NUL or newline", k)
		}
	}
	slices.SortFunc(errs, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
	return errors.Join(errs...)
}

// seconds rounds d up to whole seconds (podman's -t and --timeout unit).
func seconds(d time.Duration) int64 {
	return int64(math.Ceil(d.Seconds()))
}
