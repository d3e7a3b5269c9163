package handlers

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/refinery/refinery-worker/pipeline"
	"github.com/refinery/refinery-worker/pipeline/diagnose"
	"github.com/refinery/refinery-worker/pipeline/retry"
)

// Runner runs one job to completion. It writes the job's output to log while
// the job runs (not after), honours ctx (its cause says shutdown or cancel, see
// pipeline.CancelReason) and always returns a Result: failures are a Result
// with Status failed and a Reason, never a panic. A runner that did not really
// build must not return StatusBuilt.
type Runner interface {
	Run(ctx context.Context, job pipeline.Job, log io.Writer) pipeline.Result
}

// JobLog is where one job's log goes: the local file under OUTPUT_DIR/logs and
// whatever live sinks are attached (the control-plane stream).
type JobLog interface {
	io.Writer
	// Close flushes and closes every sink; it returns what the sinks want
	// recorded in the manifest metadata (lines streamed, bytes cut, ...).
	Close() (map[string]any, error)
	// Tail returns up to n last lines written.
	Tail(n int) []string
	// Path is the local file the log is kept in.
	Path() string
}

// TextMasker is a JobLog that masks secrets in what it is written; Mask
// applies the same to a text that leaves the process another way (the
// result's error and metadata).
type TextMasker interface {
	Mask(s string) string
}

// maskResult masks the runner's texts: the error and string metadata.
func maskResult(res *pipeline.Result, m TextMasker) {
	res.Error = m.Mask(res.Error)
	for k, v := range res.Metadata {
		if s, ok := v.(string); ok {
			res.Metadata[k] = m.Mask(s)
		}
	}
}

// LogOpener opens the log of a job.
type LogOpener interface {
	OpenJobLog(ctx context.Context, job pipeline.Job) (JobLog, error)
}

// MetaRequeueRequested marks a cancelled build whose item the operator wants
// back in the queue.
const MetaRequeueRequested = "requeue_requested"

// BuildObserver sees every finished build (metrics).
type BuildObserver interface {
	ObserveBuild(r pipeline.Result)
}

// WorkPublisher publishes a Work to a logical topic.
type WorkPublisher interface {
	Publish(ctx context.Context, topic string, w *pipeline.Work) error
}

// Build runs jobs on a Runner with at most `slots` builds at once. The
// handler hands the job to a build goroutine and returns at once, so the
// transport keeps delivering while builds run; the goroutine publishes the
// result. Builds run on the worker's context, not the message's (Router.Close
// cancels handler contexts, docs/architecture.md), so a build outlives its caller.
type Build struct {
	runner  Runner
	logs    LogOpener
	pub     WorkPublisher
	running *Running
	base    context.Context
	slots   chan struct{}
	mu      sync.Mutex // guards closed against wg.Add racing Wait
	closed  bool
	wg      sync.WaitGroup
	log     *slog.Logger
	// observer, when set, sees each finished build.
	observer BuildObserver
	// onStart, when set, is called as each build starts.
	onStart func(context.Context, *pipeline.Work)
	// rules classify failed builds; hints, when set, match them against the
	// hint catalog; failures, when set, keeps the last ones for /status.
	rules    *diagnose.Rules
	hints    HintMatcher
	failures *RecentFailures
}

// Observe sets the build observer (metrics); call before the first build.
func (b *Build) Observe(o BuildObserver) { b.observer = o }

// OnStart sets a function called as each build starts, right before the
// runner runs it (the control-plane's "building" status); call before the
// first build.
func (b *Build) OnStart(f func(context.Context, *pipeline.Work)) { b.onStart = f }

// NewBuild builds the build stage. base is the worker's build context: cancel
// it with cause pipeline.ErrShutdown to stop every build.
func NewBuild(base context.Context, runner Runner, logs LogOpener, pub WorkPublisher, running *Running, slots int, log *slog.Logger) *Build {
	return &Build{runner: runner, logs: logs, pub: pub, running: running, base: base,
		slots: make(chan struct{}, max(1, slots)), log: log, rules: diagnose.NewRules()}
}

// Handle is the stage: it waits for a free slot and starts the build.
func (b *Build) Handle(ctx context.Context, w *pipeline.Work) (string, error) {
	select {
	case b.slots <- struct{}{}:
	case <-b.base.Done():
		// Shutting down: the item goes back to the queue unbuilt.
		b.log.Info("not starting a build during shutdown", "correlation_id", w.CorrelationID)
		return "", nil
	case <-ctx.Done():
		return "", fmt.Errorf("build %s: %w", w.CorrelationID, ctx.Err())
	}
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		<-b.slots
		return "", nil
	}
	b.wg.Add(1)
	b.mu.Unlock()
	go func() {
		pipeline.ReserveStack(uint(len(w.CorrelationID)))
		defer b.wg.Done()
		defer func() { <-b.slots }()
		b.run(w)
	}()
	return "", nil
}

// Wait stops new builds from starting and blocks until every started build
// has finished.
func (b *Build) Wait() {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	b.wg.Wait()
}

func (b *Build) run(w *pipeline.Work) {
	if w.ReplayOf != "" && !strings.Contains(w.Job.ID, "-r") {
		// A replayed build is a new run: its own container name and log file.
		w.Job.ID += "-r" + alnum(w.CorrelationID+w.ReplayOf, 8)
	}
	job := *w.Job
	ctx, cancel := context.WithCancelCause(b.base)
	defer cancel(nil)
	start := time.Now()
	jl, err := b.logs.OpenJobLog(ctx, job)
	if err != nil {
		w.Result = &pipeline.Result{Status: pipeline.StatusFailed, Reason: pipeline.ReasonRunner, Error: err.Error()}
	} else {
		job.LogPath = jl.Path()
		w.Job.LogPath = jl.Path()
		b.running.add(w, cancel, jl)
		if b.onStart != nil {
			b.onStart(ctx, w)
		}
		res := b.runner.Run(ctx, job, jl)
		requeue := b.running.requeueRequested(w.CorrelationID)
		b.running.remove(w.CorrelationID)
		meta, cerr := jl.Close()
		if cerr != nil {
			b.log.Warn("close job log", "job", job.ID, "err", cerr)
		}
		if res.Duration == 0 {
			res.Duration = time.Since(start)
		}
		// The tail comes from the job log, which holds what the log's
		// writers let through (secrets masked), never from the runner's own
		// copy of the raw output.
		res.LogTail = nil
		if res.Status != pipeline.StatusBuilt {
			res.LogTail = jl.Tail(20)
		}
		if m, ok := jl.(TextMasker); ok {
			maskResult(&res, m)
		}
		if res.Metadata == nil {
			res.Metadata = map[string]any{}
		}
		b.diagnose(ctx, job, jl, &res)
		for k, v := range meta {
			res.Metadata[k] = v
		}
		if requeue && res.Reason == pipeline.ReasonCancelled {
			res.Metadata[MetaRequeueRequested] = true
		}
		w.Result = &res
		if b.observer != nil {
			b.observer.ObserveBuild(res)
		}
	}
	if w.Result.Reason == pipeline.ReasonShutdown {
		// The item goes back to the queue unchanged at shutdown; nothing to report.
		b.log.Info("build stopped by shutdown", "job", job.ID, "correlation_id", w.CorrelationID)
		return
	}
	// The result is published until it is stored (the build cannot be redone
	// cheaply): attempts without bound, 1s doubling to 30s between them, until
	// the worker's build context ends. The publish itself does not follow the
	// job's context, which a cancelled build has ended.
	pctx := context.WithoutCancel(ctx)
	perr := retry.Do(b.base, retry.Policy{Initial: time.Second, Max: 30 * time.Second}, func(context.Context) error {
		return b.pub.Publish(pctx, pipeline.TopicResults, w)
	}, func(r retry.Retry) {
		b.log.Error("publish build result", "job", job.ID, "correlation_id", w.CorrelationID, "attempt", r.Attempt, "wait", r.Wait, "err", r.Err)
	})
	if perr != nil {
		b.log.Error("build result not published: the worker is stopping", "job", job.ID, "correlation_id", w.CorrelationID, "err", perr)
	}
}

// alnum keeps the first n ASCII letters and digits of s.
func alnum(s string, n int) string {
	var out []byte
	for i := 0; i < len(s) && len(out) < n; i++ {
		if c := s[i]; c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' {
			out = append(out, c)
		}
	}
	return string(out)
}
