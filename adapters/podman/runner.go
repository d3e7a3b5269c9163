package podman

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/refinery/refinery-worker/handlers"
	"github.com/refinery/refinery-worker/pipeline"
	"github.com/refinery/refinery-worker/pipeline/retry"
)

// How long the runner waits, after the podman client exited, for the log
// streams to drain (a process the container left behind may hold a pipe).
const drainGrace = 2 * time.Second

// Runner runs jobs in podman containers. It implements handlers.Runner. It
// is safe for concurrent use; each Run owns its container.
type Runner struct {
	removed   RemovalObserver
	cmd       *Commander
	logger    *slog.Logger
	target    string
	smoke     []string // nil: no smoke test; empty: import the top-level modules
	auditor   Auditor
	binfmtDir string
	dirs      *dirPool
	devNull   *os.File // every client's stdin, opened once, not per run
	bin       string   // PODMAN_BIN looked up in PATH at NewRunner ("" when not found)
}

var _ handlers.Runner = (*Runner)(nil)

// NewRunner returns a runner for the commands cmd builds; it creates the
// output and cache directories. An invalid SmokeTest command is an error.
func NewRunner(cmd *Commander, ro RunnerOptions) (*Runner, error) {
	logger := ro.Logger
	if logger == nil {
		logger = slog.Default()
	}
	smoke, err := ro.smokeArgv()
	if err != nil {
		return nil, err
	}
	o := cmd.Options()
	for _, d := range []string{o.OutputDir, o.CacheDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("create %s: %w", d, err)
		}
	}
	binfmt := ro.BinfmtDir
	if binfmt == "" {
		binfmt = DefaultBinfmtDir
	}
	devNull, err := os.Open(os.DevNull)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", os.DevNull, err)
	}
	logger = logger.With("component", "podman")
	return &Runner{cmd: cmd, logger: logger, target: ro.Target, smoke: smoke,
		auditor: ro.Auditor, binfmtDir: binfmt, removed: ro.Removed, dirs: newDirPool(o.OutputDir, logger),
		devNull: devNull, bin: lookPath(o.Bin)}, nil
}

// Run builds the job in a container, streaming its output to log while it
// runs. On the runner's timeout, or when ctx is done (its cause: shutdown or
// cancel), it stops the container itself (podman stop -t grace, then
// podman rm -f) and returns failed with reason timeout, shutdown or cancelled.
// The container's /output is the job's own build dir (Commander.JobDir);
// after exit 0 the wheels for the job are looked up there, verified and
// moved into OUTPUT_DIR; none is a failure with reason no_wheel. Each wheel is then
// audited against the job's platform tag (deliver): built only when it fits,
// after retagging or repair if that is what it takes, else failed with reason
// platform_mismatch. A wheel that fits is smoke tested in a fresh container
// of the image without network; a failure is reason smoke_test.
func (r *Runner) Run(ctx context.Context, job pipeline.Job, log io.Writer) pipeline.Result {
	start := time.Now()
	out := &syncWriter{w: log}
	name := r.cmd.ContainerName(job)
	res := pipeline.Result{Metadata: map[string]any{
		pipeline.MetaRunner: "podman", "container": name, "image": r.cmd.Image(),
	}}
	finish := func(st pipeline.Status, reason, msg string) pipeline.Result {
		res.Status, res.Reason, res.Error = st, reason, msg
		res.Duration = time.Since(start)
		res.Metadata[pipeline.MetaExitCode] = res.ExitCode
		if err := out.Err(); err != nil {
			res.Metadata["log_error"] = err.Error()
		}
		if st != pipeline.StatusBuilt {
			res.LogTail = out.Tail()
		}
		return res
	}

	argv, err := r.cmd.Command(job)
	if err != nil {
		res.ExitCode = -1
		fmt.Fprintf(out, "refinery: no container command for this job: %v\n", err)
		return finish(pipeline.StatusFailed, pipeline.ReasonRunner, err.Error())
	}
	jobDir := r.cmd.JobDir(job)
	if err := r.dirs.make(jobDir); err != nil {
		res.ExitCode = -1
		fmt.Fprintf(out, "refinery: %v\n", err)
		return finish(pipeline.StatusFailed, pipeline.ReasonRunner, fmt.Sprintf("create the job's build dir: %v", err))
	}
	emptied := false // every entry of the build dir was a wheel moved out
	defer func() {
		done := removeJobDir
		if emptied {
			done = r.dirs.release
		}
		if err := done(jobDir); err != nil {
			r.logger.Warn("remove the job's build dir", "dir", jobDir, "err", err)
		}
	}()
	runCtx, cancel := context.WithTimeout(ctx, r.cmd.opts.Timeout)
	defer cancel()

	code, stopReason, owner, err := r.runReplacingLeftover(runCtx, ctx, name, argv, out)
	res.ExitCode = code
	switch {
	case err != nil:
		return finish(pipeline.StatusFailed, pipeline.ReasonRunner, err.Error())
	case stopReason != "":
		msg := fmt.Sprintf("container stopped (%s) after %s, exit code %d", stopReason, time.Since(start).Round(time.Millisecond), code)
		fmt.Fprintf(out, "refinery: %s\n", msg)
		return finish(pipeline.StatusFailed, stopReason, msg)
	case owner != "":
		msg := fmt.Sprintf("container %s is running for another live worker process (%s)", name, owner)
		fmt.Fprintf(out, "refinery: %s\n", msg)
		return finish(pipeline.StatusFailed, pipeline.ReasonRunner, msg)
	case code == 125:
		return finish(pipeline.StatusFailed, pipeline.ReasonRunner, "podman could not run the container (exit code 125)")
	case code != 0:
		return finish(pipeline.StatusFailed, pipeline.ReasonExit, fmt.Sprintf("build exited with code %d", code))
	}

	wheels, others, err := findWheels(jobDir, job, start)
	if err == nil {
		err = moveWheels(jobDir, r.cmd.opts.OutputDir, wheels)
		emptied = err == nil && others == 0
	}
	if err != nil {
		fmt.Fprintf(out, "refinery: %v\n", err)
		return finish(pipeline.StatusFailed, pipeline.ReasonNoWheel, err.Error())
	}
	if len(wheels) == 0 {
		msg := fmt.Sprintf("exit code 0 but no wheel for %s %s in the output dir", job.Name, job.Version)
		fmt.Fprintf(out, "refinery: %s\n", msg)
		return finish(pipeline.StatusFailed, pipeline.ReasonNoWheel, msg)
	}
	wheels, audits, f := r.deliver(runCtx, job, wheels, out)
	switch len(audits) {
	case 0:
	case 1:
		res.Metadata[MetaAudit] = audits[0]
	default:
		res.Metadata[MetaAudit] = audits
	}
	if f != nil {
		return finish(pipeline.StatusFailed, f.reason, f.msg)
	}
	for _, w := range wheels {
		msg, err := r.smokeTest(runCtx, job, w.File, out)
		if err != nil {
			fmt.Fprintf(out, "refinery: %v\n", err)
			return finish(pipeline.StatusFailed, pipeline.ReasonRunner, err.Error())
		}
		if msg != "" {
			fmt.Fprintf(out, "refinery: %s\n", msg)
			for _, w := range wheels {
				r.reject(w.File, out)
			}
			return finish(pipeline.StatusFailed, pipeline.ReasonSmokeTest, msg)
		}
	}
	res.Wheels = wheels
	files := make([]string, len(wheels))
	for i, w := range wheels {
		files[i] = w.File
		fmt.Fprintf(out, "refinery: wheel %s (%d bytes, sha256 %s, tags %s)\n", w.File, w.Size, w.SHA256, strings.Join(w.Tags, ","))
	}
	res.Metadata[pipeline.MetaWheels] = files
	return finish(pipeline.StatusBuilt, "", "")
}

func tailMentions(lines []string, s string) bool {
	for _, l := range lines {
		if strings.Contains(l, s) {
			return true
		}
	}
	return false
}

// remove force-removes a container; a container that is already gone is fine.
func (r *Runner) remove(ctx context.Context, name string) {
	rmCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	err := r.podman(rmCtx, "rm", "-f", "-t", "0", "--ignore", name)
	if err != nil {
		r.logger.Warn("podman rm", "container", name, "err", err)
	}
}

// podman runs a short management command and returns its stdout.
func (r *Runner) podman(ctx context.Context, args ...string) error {
	_, err := r.podmanOutput(ctx, args...)
	return err
}

func (r *Runner) podmanOutput(ctx context.Context, args ...string) ([]byte, error) {
	c := exec.CommandContext(ctx, r.cmd.opts.Bin, args...)
	var stderr strings.Builder
	c.Stderr = &stderr
	b, err := c.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return b, fmt.Errorf("podman %s: exit %d: %s", args[0], ee.ExitCode(), strings.TrimSpace(stderr.String()))
		}
		return b, fmt.Errorf("podman %s: %w", args[0], err)
	}
	return b, nil
}

// Cleanup removes the containers (running or not) labelled with this
// worker's id and left by an earlier run of the worker, and says how many it
// removed. A container whose owner (LabelOwner) is another process still
// running on this host is that worker's build and is kept. Call it at start,
// before the first build.
func (r *Runner) Cleanup(ctx context.Context) (int, error) {
	label := LabelWorker + "=" + r.cmd.opts.WorkerID
	b, err := r.podmanOutput(ctx, "ps", "-a", "--filter", "label="+label,
		"--format", `{{.ID}} {{index .Labels "`+LabelOwner+`"}}`)
	if err != nil {
		return 0, fmt.Errorf("list leftover containers: %w", err)
	}
	var ids []string
	kept := 0
	for line := range strings.Lines(string(b)) {
		id, owner, _ := strings.Cut(strings.TrimSpace(line), " ")
		switch {
		case id == "":
		case r.cmd.removable(strings.TrimSpace(owner)):
			ids = append(ids, id)
		default:
			kept++
		}
	}
	if kept > 0 {
		r.logger.Info("kept containers of a live worker process with the same worker label", "count", kept, "label", label)
	}
	if len(ids) == 0 {
		return 0, nil
	}
	args := append([]string{"rm", "-f", "-t", "0", "--ignore"}, ids...)
	if err := r.podman(ctx, args...); err != nil {
		return 0, fmt.Errorf("remove %d leftover containers: %w", len(ids), err)
	}
	r.logger.Info("removed leftover containers", "count", len(ids), "label", label)
	return len(ids), nil
}

// ownerOf is the LabelOwner of a container ("" when it has none or is gone).
func (r *Runner) ownerOf(ctx context.Context, name string) string {
	b, err := r.podmanOutput(ctx, "container", "inspect", "--format", `{{index .Config.Labels "`+LabelOwner+`"}}`, name)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// errLeftover is the attempt that met a container of this very job attempt
// left by a crash (podman exit 125, "already in use"); it was removed.
var errLeftover = errors.New("leftover container removed")

// runReplacingLeftover runs the container; when a container of this very job
// attempt survived a crash it is removed and the run is made once more: 2
// attempts, no wait. A leftover that belongs to another live worker process
// is not removed: its owner is returned and the run ends there.
func (r *Runner) runReplacingLeftover(runCtx, ctx context.Context, name string, argv []string, out *syncWriter) (code int, stopReason, owner string, err error) {
	first := true
	_ = retry.Do(runCtx, retry.Policy{MaxAttempts: 2}, func(runCtx context.Context) error {
		fmt.Fprintf(out, "refinery: %s\n", Join(argv))
		code, stopReason, err = r.runContainer(runCtx, name, argv, out)
		leftover := first && err == nil && stopReason == "" && code == 125 && tailMentions(out.Tail(), "already in use")
		first = false
		if !leftover {
			return nil
		}
		if o := r.ownerOf(context.WithoutCancel(ctx), name); !r.cmd.removable(o) {
			owner = o
			return nil
		}
		fmt.Fprintf(out, "refinery: removing leftover container %s and retrying\n", name)
		r.remove(context.WithoutCancel(ctx), name)
		return errLeftover
	}, nil)
	return code, stopReason, owner, err
}
