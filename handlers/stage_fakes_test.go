package handlers

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync"

	"github.com/refinery/refinery-worker/pipeline"
)

// Small in-memory implementations of the stage interfaces, for the in-process
// stage tests (build, report, requeue, plan, poison, running).

// errStage is the failure the fakes return when told to fail.
var errStage = errors.New("stage fake failure")

// scriptedRunner returns res for every job. When block is set it waits for
// ctx to end and returns a failure whose reason is the context's cause;
// started, when set, receives each job as it starts.
type scriptedRunner struct {
	res     pipeline.Result
	block   bool
	started chan pipeline.Job
	lines   []string // written to the job log before returning
}

func (r *scriptedRunner) Run(ctx context.Context, job pipeline.Job, log io.Writer) pipeline.Result {
	for _, l := range r.lines {
		_, _ = log.Write([]byte(l + "\n"))
	}
	if r.started != nil {
		r.started <- job
	}
	if r.block {
		<-ctx.Done()
		return pipeline.Result{Status: pipeline.StatusFailed, Reason: pipeline.CancelReason(ctx), Error: "stopped"}
	}
	res := r.res
	if r.res.Metadata != nil {
		res.Metadata = map[string]any{}
		for k, v := range r.res.Metadata {
			res.Metadata[k] = v
		}
	}
	return res
}

// memJobLog keeps a job's lines in memory; it masks secret in what it is
// written and in Mask, as the real job log does with every secret.
type memJobLog struct {
	mu     sync.Mutex
	lines  []string
	secret string
	meta   map[string]any
	closed bool
}

func (l *memJobLog) mask(s string) string {
	if l.secret == "" {
		return s
	}
	return strings.ReplaceAll(s, l.secret, "[REDACTED]")
}

func (l *memJobLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, line := range strings.Split(strings.TrimRight(string(p), "\n"), "\n") {
		l.lines = append(l.lines, l.mask(line))
	}
	return len(p), nil
}

func (l *memJobLog) Close() (map[string]any, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closed = true
	return l.meta, nil
}

func (l *memJobLog) Tail(n int) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.lines[max(0, len(l.lines)-n):]...)
}

func (l *memJobLog) Path() string         { return "/out/logs/job.log" }
func (l *memJobLog) Mask(s string) string { return l.mask(s) }

// memLogs opens memJobLogs (or fails with err).
type memLogs struct {
	mu     sync.Mutex
	secret string
	meta   map[string]any
	err    error
	opened []*memJobLog
}

func (o *memLogs) OpenJobLog(_ context.Context, _ pipeline.Job) (JobLog, error) {
	if o.err != nil {
		return nil, o.err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	l := &memJobLog{secret: o.secret, meta: o.meta}
	o.opened = append(o.opened, l)
	return l, nil
}

// memPublisher records what a stage publishes.
type memPublisher struct {
	mu    sync.Mutex
	works []*pipeline.Work
	topic []string
}

func (p *memPublisher) Publish(_ context.Context, topic string, w *pipeline.Work) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.works = append(p.works, w)
	p.topic = append(p.topic, topic)
	return nil
}

// outcomeBook is a Recorder that keeps whole outcomes by claim.
type outcomeBook struct {
	err      error
	outcomes []pipeline.Outcome
}

func (b *outcomeBook) Record(_ context.Context, o pipeline.Outcome) error {
	if b.err != nil {
		return b.err
	}
	b.outcomes = append(b.outcomes, o)
	return nil
}

func (b *outcomeBook) Recorded(claim string) (pipeline.Status, bool) {
	e, ok := b.Entry(claim)
	return e.Status, ok
}

func (b *outcomeBook) Entry(claim string) (pipeline.ManifestEntry, bool) {
	for _, o := range b.outcomes {
		if o.Entry.Metadata[pipeline.MetaClaim] == claim {
			return o.Entry, true
		}
	}
	return pipeline.ManifestEntry{}, false
}

// reportLog is a Reporter that keeps the claims it was handed.
type reportLog struct {
	err    error
	claims []string
}

func (r *reportLog) Report(_ context.Context, w *pipeline.Work) error {
	if r.err != nil {
		return r.err
	}
	r.claims = append(r.claims, w.Claim)
	return nil
}

// claimGate answers BeginReport: false for the claims in returned.
type claimGate map[string]bool

func (g claimGate) BeginReport(claim string) bool { return !g[claim] }

// settleLog is a Settler that keeps what it was submitted.
type settleLog struct {
	settlements []pipeline.Settlement
	summaries   []pipeline.Summary
}

func (s *settleLog) Submit(st pipeline.Settlement, sum pipeline.Summary) {
	s.settlements = append(s.settlements, st)
	s.summaries = append(s.summaries, sum)
}

// enqueueLog is an Enqueuer that keeps the items it was given.
type enqueueLog struct {
	err   error
	items [][]byte
}

func (e *enqueueLog) Enqueue(_ context.Context, items [][]byte) error {
	if e.err != nil {
		return e.err
	}
	e.items = append(e.items, items...)
	return nil
}

// fixedPlans is a PlanSource (and PlanByID) serving fixed plans.
type fixedPlans struct {
	plan  *pipeline.Plan
	err   error
	byID  map[int64]*pipeline.Plan
	calls int
}

func (f *fixedPlans) Current(context.Context) (*pipeline.Plan, string, error) {
	f.calls++
	if f.err != nil {
		return nil, "", f.err
	}
	return f.plan, "plan.json", nil
}

func (f *fixedPlans) ByID(_ context.Context, id int64) (*pipeline.Plan, error) {
	if p, ok := f.byID[id]; ok {
		return p, nil
	}
	return nil, ErrNoPlan
}

// rejectionLog is a RejectionRecorder.
type rejectionLog struct {
	err    error
	claims []string
}

func (r *rejectionLog) RecordRejection(_ context.Context, w *pipeline.Work) error {
	if r.err != nil {
		return r.err
	}
	r.claims = append(r.claims, w.Claim)
	return nil
}
