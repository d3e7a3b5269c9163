package handlers

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/refinery/refinery-worker/pipeline"
	"github.com/refinery/refinery-worker/pipeline/retry"
)

// Recorder keeps the local record of outcomes (manifest.json). Record must be
// durable against a crash of the worker when it returns.
type Recorder interface {
	Record(ctx context.Context, o pipeline.Outcome) error
	// Recorded reports whether an outcome for this intake claim is already
	// recorded, and its status.
	Recorded(claim string) (pipeline.Status, bool)
	// Entry returns the recorded entry of a claim (whole for recent ones).
	Entry(claim string) (pipeline.ManifestEntry, bool)
}

// Reporter hands an outcome to the control-plane delivery path. It must make
// the report durable (an outbox) before it returns; delivery happens later.
type Reporter interface {
	Report(ctx context.Context, w *pipeline.Work) error
}

// Claims lets the report stage skip items that were given back to the queue
// at shutdown while their result was on its way.
type Claims interface {
	BeginReport(claim string) bool
}

// RequeuePolicy decides whether a failed job goes back to the queue, and when.
type RequeuePolicy struct {
	Enabled     bool          // REQUEUE_ON_FAILURE
	MaxAttempts int           // MAX_REQUEUE_ATTEMPTS: requeue while attempts < this
	Base, Max   time.Duration // first delay, doubled per attempt, capped
}

// WillRequeue reports whether this result sends its item back.
func (p RequeuePolicy) WillRequeue(w *pipeline.Work) bool {
	if !p.Enabled || w.Result == nil || w.Request == nil || w.Result.Status != pipeline.StatusFailed {
		return false
	}
	if w.Result.Reason == pipeline.ReasonShutdown {
		return false
	}
	if w.Result.Reason == pipeline.ReasonCancelled && w.Result.Metadata[MetaRequeueRequested] != true {
		return false // cancelled: requeued only when the operator asked
	}
	return w.Request.Item.Attempts < p.MaxAttempts
}

// Delay is the backoff before attempt number attempts+1: Base·2^attempts,
// capped at Max, with jitter in [50%, 100%] (retry.Policy.Delay; the item is
// scheduled with not_before, no worker sleeps for it).
func (p RequeuePolicy) Delay(attempts int) time.Duration {
	if p.Max <= 0 {
		return 0 // no room for a delay
	}
	return retry.Policy{Initial: p.Base, Max: p.Max, Jitter: 0.5}.Delay(attempts + 1)
}

// Report records each outcome locally (manifest.json) and hands it to the
// control-plane reporter (an outbox), then passes it on to requeue.
type Report struct {
	recorder  Recorder
	reporter  Reporter // nil: no control-plane
	claims    Claims
	policy    RequeuePolicy
	autoFix   *AutoFix // nil: AUTO_FIX off
	outputDir string
	workerID  string
	now       func() time.Time
	// the target's, for entries without tags (Target)
	pythonVersion, platformTag string
}

// NewReport builds the report stage. reporter may be nil.
func NewReport(recorder Recorder, reporter Reporter, claims Claims, policy RequeuePolicy, outputDir, workerID string) *Report {
	return &Report{recorder: recorder, reporter: reporter, claims: claims, policy: policy, outputDir: outputDir,
		workerID: workerID, now: time.Now}
}

// Handle is the stage.
func (r *Report) Handle(ctx context.Context, w *pipeline.Work) (string, error) {
	if w.ReplayOf != "" && !strings.Contains(w.Claim, "~replay-") {
		// A replayed stage produces a new outcome: its own claim, so it is
		// recorded and reported as such.
		w.Claim += "~replay-" + w.ReplayOf
		w.Outcome = nil
	}
	if !r.claims.BeginReport(w.Claim) {
		return "", nil // returned to the queue at shutdown: not an outcome
	}
	if w.Outcome != nil && w.Outcome.Redelivered {
		// Recorded before a crash; the control-plane may not have it yet. The
		// reporter's idempotency keys make a second report harmless.
		if r.reporter != nil && w.Outcome.Entry.Metadata != nil {
			if err := r.reporter.Report(ctx, w); err != nil {
				return "", fmt.Errorf("report recorded outcome %s: %w", w.CorrelationID, err)
			}
		}
		return pipeline.TopicReported, nil
	}
	w.Outcome = r.outcome(w)
	if err := r.recorder.Record(ctx, *w.Outcome); err != nil {
		return "", fmt.Errorf("record outcome %s: %w", w.CorrelationID, err)
	}
	if r.reporter != nil {
		if err := r.reporter.Report(ctx, w); err != nil {
			return "", fmt.Errorf("report outcome %s: %w", w.CorrelationID, err)
		}
	}
	return pipeline.TopicReported, nil
}

func (r *Report) outcome(w *pipeline.Work) *pipeline.Outcome {
	res := w.Result
	if res == nil {
		res = &pipeline.Result{Status: pipeline.StatusFailed, Reason: "internal", Error: "no result reached the report stage"}
	}
	// Sized for what is added below (about a dozen keys), so it does not grow
	// twice while being filled.
	e := pipeline.ManifestEntry{Status: res.Status, Metadata: make(map[string]any, len(res.Metadata)+16)}
	meta := e.Metadata
	for k, v := range res.Metadata {
		meta[k] = v
	}
	if req := w.Request; req != nil {
		e.Name, e.Version, e.PythonTag, e.PlatformTag = req.Item.Package, req.Version, req.PythonTag, req.PlatformTag
		meta[pipeline.MetaAttempt] = req.Item.Attempts + 1
		if len(req.Recipes) > 0 {
			meta[pipeline.MetaRecipes] = req.Recipes
		}
	}
	if j := w.Job; j != nil {
		e.Name, e.Version, e.PythonTag, e.PlatformTag = j.Display, j.Version, j.PythonTag, j.PlatformTag
		meta[pipeline.MetaAttempt] = j.Attempt
		if len(j.Recipes) > 0 {
			meta[pipeline.MetaRecipes] = j.Recipes
		}
		if w.Request != nil && w.Request.Item.Package != j.Display {
			meta["requested_name"] = w.Request.Item.Package
		}
		if j.LogPath != "" {
			meta[pipeline.MetaLog] = r.relative(j.LogPath)
		}
		if len(j.HintIDs) > 0 {
			meta[pipeline.MetaHintIDs] = j.HintIDs
		}
	}
	r.targetTags(w, &e)
	if w.Plan != nil && w.Plan.Source == PlanNone {
		meta["plan"] = PlanNone
	}
	if w.Request != nil {
		if ids := autoFixHintsOf(w.Request.Item); len(ids) > 0 {
			meta[pipeline.MetaAutoFixHints] = ids
		}
	}
	if p, ok := r.autoFix.plan(w); ok {
		// Auto-fix: one retry with the matched hints' recipes.
		e.Status = pipeline.StatusRetry
		meta[MetaAutoFixNext] = p
	} else if r.policy.WillRequeue(w) {
		e.Status = pipeline.StatusRetry
	}
	meta[pipeline.MetaDurationMS] = res.Duration.Milliseconds()
	meta[pipeline.MetaClaim] = w.Claim
	meta[pipeline.MetaCorrelationID] = w.CorrelationID
	meta[pipeline.MetaRecordedAt] = r.now().UTC().Format(time.RFC3339Nano)
	if r.workerID != "" {
		meta["worker_id"] = r.workerID
	}
	if w.Plan != nil && w.Plan.RunID != "" {
		meta[pipeline.MetaRunID] = w.Plan.RunID
	}
	if res.Error != "" {
		meta[pipeline.MetaError] = res.Error
	}
	if res.Reason != "" {
		meta[pipeline.MetaReason] = res.Reason
	}
	if res.ExitCode != 0 || res.Status == pipeline.StatusBuilt || res.Status == pipeline.StatusFailed {
		meta[pipeline.MetaExitCode] = res.ExitCode
	}
	if len(res.Wheels) > 0 {
		e.Wheel = res.Wheels[0].File
		// The delivered wheel's tag (after retagging), never the plan's.
		if p := pipeline.WheelPlatformTag(e.Wheel); p != "" {
			e.PlatformTag = p
		}
		meta[pipeline.MetaWheels] = res.Wheels
	}
	if len(res.LogTail) > 0 && res.Status == pipeline.StatusFailed {
		meta["log_tail"] = res.LogTail
	}
	detail := res.Error
	if len(res.LogTail) > 0 && res.Status == pipeline.StatusFailed {
		detail = strings.TrimSpace(detail + "\n" + strings.Join(res.LogTail, "\n"))
	}
	var fd string
	if res.Status == pipeline.StatusFailed {
		fd = failureDetail(res.Metadata)
	}
	if fd != "" {
		// The diagnosis first: an operator reads why before the raw tail.
		detail = strings.TrimSpace(fd + "\n" + detail)
	}
	o := &pipeline.Outcome{Entry: e, Detail: detail, Failure: fd}
	if w.Job != nil {
		o.LogPath = w.Job.LogPath
	}
	return o
}

// AutoFix turns on auto-fix (AUTO_FIX); call before the first report.
func (r *Report) AutoFix(a *AutoFix) *Report {
	r.autoFix = a
	return r
}

// Target sets the target's tags for entries that neither the request nor
// the plan gives tags (PYTHON_VERSION as cpXY, PLATFORM_TAG).
func (r *Report) Target(pythonVersion, platformTag string) *Report {
	r.pythonVersion, r.platformTag = pythonVersion, platformTag
	return r
}

// targetTags fills the tags an entry lacks: the request's python_version as
// cpXY, else the target's.
func (r *Report) targetTags(w *pipeline.Work, e *pipeline.ManifestEntry) {
	if e.PythonTag == "" {
		pv := r.pythonVersion
		if w.Request != nil && w.Request.PythonVersion != "" {
			pv = w.Request.PythonVersion
		}
		e.PythonTag = pythonTag(pv)
	}
	if e.PlatformTag == "" {
		e.PlatformTag = r.platformTag
	}
}

func (r *Report) relative(p string) string {
	if rel, err := filepath.Rel(r.outputDir, p); err == nil && !strings.HasPrefix(rel, "..") {
		return rel
	}
	return p
}
