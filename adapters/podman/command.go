package podman

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/refinery/refinery-worker/pipeline"
	"github.com/refinery/refinery-worker/pipeline/charset"
	"github.com/refinery/refinery-worker/pipeline/pep508"
)

// Container labels every job container carries.
const (
	LabelJob     = "refinery.job"
	LabelWorker  = "refinery.worker"
	LabelAttempt = "refinery.attempt"
)

// Commander builds podman command lines for jobs. It is immutable and safe for
// concurrent use.
type Commander struct {
	opts   Options
	image  string
	runCmd []string
	owner  string // LabelOwner of this process; empty when /proc cannot tell

	// Built once by fixedArgs: the command line parts no job changes.
	workerLabel                           string
	afterLabels, afterOutput, afterJobEnv []string
	// clientEnv holds NAME=value of the variables passed by name only.
	clientEnv []string
	// env is the podman client's whole environment (ClientEnv).
	env []string
}

// NewCommander validates opts (every bad field is reported at once; an unknown
// preset is an error) and resolves the image and the container command.
func NewCommander(opts Options) (*Commander, error) {
	opts = opts.withDefaults()
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("podman options: %w", err)
	}
	image := opts.Image
	if image == "" {
		image, _ = PresetImage(opts.Preset) // checked by Validate
	}
	runCmd, _ := SplitCommand(opts.RunCmd) // checked by Validate
	if len(runCmd) == 0 {
		runCmd = []string{DefaultRunCmd}
	}
	opts.Env = maps.Clone(opts.Env)
	owner, _ := ProcessIdentity(os.Getpid())
	c := &Commander{opts: opts, image: image, runCmd: runCmd, owner: owner}
	c.fixedArgs()
	c.env = lastWins(append(os.Environ(), c.clientEnv...))
	return c, nil
}

// Options returns the effective options (defaults applied).
func (c *Commander) Options() Options {
	o := c.opts
	o.Env = maps.Clone(o.Env)
	return o
}

// Image is the builder image the containers run.
func (c *Commander) Image() string { return c.image }

// ContainerName is the deterministic container name of a job attempt:
// refinery-<worker>-<job id>-a<attempt>. The job must be valid (ValidateJob).
func (c *Commander) ContainerName(job pipeline.Job) string {
	return "refinery-" + c.opts.WorkerID + "-" + job.ID + "-a" + strconv.Itoa(job.Attempt)
}

// Command returns the full podman command line (argv[0] is the podman binary)
// that runs the job: `podman run --rm --init --pull=never --name NAME --label
// ... --timeout SECS -v JOB_DIR:/output -v CACHE_DIR:/cache -e ... [limits]
// [--network] IMAGE CMD...`. Every job field is validated first; an invalid
// job is an error and no command.
func (c *Commander) Command(job pipeline.Job) ([]string, error) {
	if err := ValidateJob(job); err != nil {
		return nil, err
	}
	args := make([]string, 0, len(c.afterLabels)+len(c.afterOutput)+len(c.afterJobEnv)+28)
	args = append(args, c.opts.Bin, "run", "--rm", "--init", "--pull=never",
		"--name", c.ContainerName(job),
		"--label", LabelJob+"="+job.ID,
		"--label", c.workerLabel,
		"--label", LabelAttempt+"="+strconv.Itoa(job.Attempt),
	)
	args = append(args, c.afterLabels...)
	args = append(args, "-v", c.JobDir(job)+":/output")
	args = append(args, c.afterOutput...)
	args = append(args,
		"-e", "JOB_NAME="+job.Name,
		"-e", "JOB_VERSION="+job.Version,
		"-e", "PYTHON_VERSION="+job.PythonVersion,
		"-e", "PYTHON_TAG="+job.PythonTag,
		"-e", "PLATFORM_TAG="+job.PlatformTag,
		"-e", "PYTHONUNBUFFERED=1",
	)
	if len(job.Recipes) > 0 {
		args = append(args, "-e", "RECIPES="+strings.Join(job.Recipes, ","))
	}
	return append(args, c.afterJobEnv...), nil
}

// JobDir is the job attempt's own build directory, mounted at /output:
// OUTPUT_DIR/.build-<container name>. Its wheels are moved into OUTPUT_DIR
// once found, so finding them never lists all of OUTPUT_DIR, and a build
// sees no other job's files.
func (c *Commander) JobDir(job pipeline.Job) string {
	return filepath.Join(c.opts.OutputDir, ".build-"+c.ContainerName(job))
}

// ClientEnv is the environment to run the podman client of Command with:
// this process's environment plus the values of the variables that the
// command line passes by name only (-e NAME), so that no secret is on it.
// It is built once, when the Commander is made (later changes to this
// process's environment are not seen), with a later value of a variable
// replacing an earlier one, as os/exec does.
func (c *Commander) ClientEnv() []string {
	return slices.Clip(c.env)
}

// lastWins keeps one entry per variable of env, the last, at the place of
// the first; entries that are not NAME=value stay as they are.
func lastWins(env []string) []string {
	at := make(map[string]int, len(env))
	out := make([]string, 0, len(env))
	for _, kv := range env {
		name, _, ok := strings.Cut(kv, "=")
		if !ok {
			out = append(out, kv)
			continue
		}
		if i, seen := at[name]; seen {
			out[i] = kv
			continue
		}
		at[name] = len(out)
		out = append(out, kv)
	}
	return out
}

// fixedArgs builds the parts of every command line that do not depend on
// the job, once: what follows the labels (owner label, timeout, mounts) and
// what follows the job's environment (the worker's environment, limits,
// network, image, container command).
func (c *Commander) fixedArgs() {
	o := c.opts
	c.workerLabel = LabelWorker + "=" + o.WorkerID
	if c.owner != "" {
		c.afterLabels = append(c.afterLabels, "--label", LabelOwner+"="+c.owner)
	}
	c.afterLabels = append(c.afterLabels,
		"--timeout", strconv.FormatInt(seconds(o.Timeout+o.StopGrace+backstopSlack), 10),
	)
	c.afterOutput = append(c.afterOutput, "-v", o.CacheDir+":/cache")
	// The worker-wide variables may carry credentials (an index URL with a
	// password): the command line names them only (-e NAME), and podman
	// takes their values from its own environment (ClientEnv), which other
	// local users cannot read the way they read command lines.
	env := func(k, v string) {
		c.afterJobEnv = append(c.afterJobEnv, "-e", k)
		c.clientEnv = append(c.clientEnv, k+"="+v)
	}
	if o.IndexURL != "" {
		env("INDEX_URL", o.IndexURL)
	}
	if o.ExtraIndexURL != "" {
		env("EXTRA_INDEX_URL", o.ExtraIndexURL)
	}
	for _, k := range slices.Sorted(maps.Keys(o.Env)) {
		env(k, o.Env[k])
	}
	if o.Memory != "" {
		c.afterJobEnv = append(c.afterJobEnv, "--memory", o.Memory)
	}
	if o.CPUs != "" {
		c.afterJobEnv = append(c.afterJobEnv, "--cpus", o.CPUs)
	}
	if o.PidsLimit > 0 {
		c.afterJobEnv = append(c.afterJobEnv, "--pids-limit", strconv.Itoa(o.PidsLimit))
	}
	if o.Network != "" {
		c.afterJobEnv = append(c.afterJobEnv, "--network", o.Network)
	}
	c.afterJobEnv = append(c.afterJobEnv, c.archArgs()...)
	c.afterJobEnv = append(c.afterJobEnv, c.image)
	c.afterJobEnv = append(c.afterJobEnv, c.runCmd...)
}

var (
	// Recipe values: no comma (RECIPES is comma-separated), no whitespace,
	// quotes or shell metacharacters, no leading '-' (option injection).
	recipeValueRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._+:@=<>!~-]{0,127}$`)
	envValueRE    = regexp.MustCompile(`^[A-Za-z0-9._+:@=/%-]{0,256}$`)
	forbiddenEnv  = []string{"PATH", "HOME", "PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "BASH_ENV",
		"ENV", "IFS", "SHELL", "OUTPUT", "CACHE"}
)

// ValidateJob checks every job field that reaches a command line, whatever the
// dequeue stage already checked: id and name charset, version (PEP 440
// charset), python version, tags, recipes. The error names the field.
func ValidateJob(job pipeline.Job) error {
	for _, f := range []struct {
		field, v string
		ok       bool
	}{
		// id: ^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$
		{"id", job.ID, charset.Spans(job.ID, 1, 128, charset.Alnum(""), charset.Alnum("_.-"), charset.Alnum("_.-"))},
		// name: ^[A-Za-z0-9]([A-Za-z0-9._-]{0,126}[A-Za-z0-9])?$, a PEP 508 name
		{"name", job.Name, pep508.ValidName(job.Name)},
		// version: ^[0-9][A-Za-z0-9.+!_-]{0,63}$
		{"version", job.Version, charset.Spans(job.Version, 1, 64, charset.Digits(""), charset.Alnum(".+!_-"), charset.Alnum(".+!_-"))},
		{"python_version", job.PythonVersion, job.PythonVersion == "" || pipeline.ValidPythonVersion(job.PythonVersion)},
		{"python_tag", job.PythonTag, job.PythonTag == "" || pipeline.ValidTag(job.PythonTag)},
		{"platform_tag", job.PlatformTag, job.PlatformTag == "" || pipeline.ValidTag(job.PlatformTag)},
	} {
		if !f.ok {
			return fmt.Errorf("job %s %s is not allowed in a container command", f.field, quote(f.v))
		}
	}
	if job.Attempt < 0 || job.Attempt > pipeline.MaxAttempts+1 {
		return fmt.Errorf("job attempt %d is out of range", job.Attempt)
	}
	for i, r := range job.Recipes {
		if err := validateRecipe(r); err != nil {
			return fmt.Errorf("job recipes[%d]: %w", i, err)
		}
	}
	return nil
}

func validateRecipe(r string) error {
	mgr, val, _ := strings.Cut(r, ":")
	switch mgr {
	case "dnf", "apt", "pip":
		if !recipeValueRE.MatchString(val) {
			return fmt.Errorf("recipe %s has a value outside [A-Za-z0-9._+:@=<>!~-]", quote(r))
		}
	case "env":
		key, value, ok := strings.Cut(val, "=")
		switch {
		case !ok || !envNameRE.MatchString(key):
			return fmt.Errorf("recipe %s is not env:KEY=VALUE", quote(r))
		case slices.Contains(forbiddenEnv, key) || slices.Contains(reservedEnv, key) ||
			strings.HasPrefix(key, "LD_") || strings.HasPrefix(key, "DYLD_") || strings.HasPrefix(key, "JOB_"):
			return fmt.Errorf("recipe %s sets %s, which is not allowed", quote(r), key)
		case !envValueRE.MatchString(value):
			return fmt.Errorf("recipe %s has a value outside [A-Za-z0-9._+:@=/%%-]", quote(r))
		}
	default:
		return fmt.Errorf("recipe %s has no known manager (dnf, apt, pip, env)", quote(r))
	}
	return nil
}

// quote shows a hostile value safely in an error: quoted and cut.
func quote(s string) string {
	if len(s) > 64 {
		s = s[:64] + "…"
	}
	return strconv.Quote(s)
}
