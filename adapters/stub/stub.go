// Package stub is the Runner used when PODMAN_BIN is unset: it writes the
// podman command it would have run to the job log and reports the job
// skipped. It never claims a build. For benchmarks and chaos tests it can
// pretend to take time and to fail a share of jobs (both off by default).
package stub

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/refinery/refinery-worker/adapters/podman"
	"github.com/refinery/refinery-worker/handlers"
	"github.com/refinery/refinery-worker/pipeline"
)

// Commander builds the podman command line of a job (*podman.Commander).
type Commander interface {
	Command(job pipeline.Job) ([]string, error)
}

// DelayFunc draws how long one job pretends to run; r is the runner's own
// random source.
type DelayFunc func(r *rand.Rand) time.Duration

// Fixed always waits d.
func Fixed(d time.Duration) DelayFunc { return func(*rand.Rand) time.Duration { return d } }

// Uniform waits between lo and hi, uniformly.
func Uniform(lo, hi time.Duration) DelayFunc {
	return func(r *rand.Rand) time.Duration {
		if hi <= lo {
			return lo
		}
		return lo + time.Duration(r.Int64N(int64(hi-lo)))
	}
}

// Exponential waits an exponentially distributed time with the given mean,
// capped at 20 times the mean (a long-tailed build-time model).
func Exponential(mean time.Duration) DelayFunc {
	return func(r *rand.Rand) time.Duration {
		return min(time.Duration(r.ExpFloat64()*float64(mean)), 20*mean)
	}
}

// Options are the stub's test and chaos knobs; the zero value is the plain
// stub (no delay, no failures).
type Options struct {
	// Delay, when set, makes each job wait (honouring its context).
	Delay DelayFunc
	// FailRatio in [0, 1] is the share of jobs that end failed (reason exit,
	// exit code 1, metadata injected_failure) instead of skipped.
	FailRatio float64
	// Seed seeds the random source (0: a fixed default, so runs repeat).
	Seed uint64
}

// Runner is the stub runner. It implements handlers.Runner.
type Runner struct {
	cmd  Commander
	opts Options

	mu  sync.Mutex
	rnd *rand.Rand
}

var _ handlers.Runner = (*Runner)(nil)

// New returns a stub runner printing commands built by cmd.
func New(cmd Commander, opts Options) *Runner {
	return &Runner{cmd: cmd, opts: opts, rnd: rand.New(rand.NewPCG(opts.Seed, 0x5ef1_e2c0))}
}

// draw returns the delay and whether to fail this job.
func (r *Runner) draw() (time.Duration, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var d time.Duration
	if r.opts.Delay != nil {
		d = max(r.opts.Delay(r.rnd), 0)
	}
	return d, r.opts.FailRatio > 0 && r.rnd.Float64() < r.opts.FailRatio
}

// Run writes the command the podman runner would run and returns skipped
// with metadata runner=stub (or failed, when a knob says so).
func (r *Runner) Run(ctx context.Context, job pipeline.Job, log io.Writer) pipeline.Result {
	start := time.Now()
	meta := map[string]any{pipeline.MetaRunner: "stub"}
	res := func(st pipeline.Status, reason, msg string, code int) pipeline.Result {
		return pipeline.Result{Status: st, Reason: reason, Error: msg, ExitCode: code,
			Duration: time.Since(start), Metadata: meta}
	}
	argv, err := r.cmd.Command(job)
	if err != nil {
		fmt.Fprintf(log, "stub runner: no command for this job: %v\n", err)
		return res(pipeline.StatusFailed, pipeline.ReasonRunner, err.Error(), -1)
	}
	fmt.Fprintf(log, "stub runner (PODMAN_BIN is unset), would run:\n%s\n", podman.Join(argv))

	delay, fail := r.draw()
	if delay > 0 {
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			reason := pipeline.CancelReason(ctx)
			fmt.Fprintf(log, "stub runner: stopped (%s)\n", reason)
			return res(pipeline.StatusFailed, reason, context.Cause(ctx).Error(), -1)
		}
	}
	if fail {
		meta["injected_failure"] = true
		fmt.Fprintln(log, "stub runner: injected failure")
		return res(pipeline.StatusFailed, pipeline.ReasonExit, "stub: injected failure", 1)
	}
	return res(pipeline.StatusSkipped, "", "", 0)
}
