package outbox

import (
	"time"

	"github.com/refinery/refinery-worker/adapters/controlplane"
	"github.com/refinery/refinery-worker/pipeline"
)

// Build statuses the control-plane's build table understands.
const (
	BuildBuilt   = "built"
	BuildFailed  = "failed"
	BuildRetry   = "retry"
	BuildPending = "pending"
)

// DefaultSkipBackoff is how long a leased build that was not attempted
// (skipped) is held back before the control-plane should offer it again, when
// ReporterOptions.SkipBackoff is not set.
const DefaultSkipBackoff = time.Hour

// buildStatus maps the outcome of a leased build to the final status sent to
// POST /api/builds/status:
//
//	outcome     build status  why
//	built       built         a wheel was built
//	reused      built         the plan says the wheel exists: nothing left to build
//	failed      failed        error = the outcome's error (or its reason)
//	unmatched   failed        no plan node for the lease: it cannot be built as asked
//	retry       (none here)   the intake reports retry with backoff_until when the
//	                          requeue stage settles the lease
//	skipped     pending       never attempted (stub runner): the row goes back to the
//	                          queue for a worker that builds, with backoff_until =
//	                          outcome time + skipBackoff, and error "skipped: ..."
//	skipped as  (none)        the request in flight it duplicates reports the row
//	a duplicate
//
// An unknown status is reported failed, so no leased row stays leased.
func buildStatus(w *pipeline.Work, e pipeline.ManifestEntry, attempt int, at time.Time, skipBackoff time.Duration) (controlplane.BuildStatus, bool) {
	if e.Status == pipeline.StatusRetry {
		return controlplane.BuildStatus{}, false
	}
	reason, _ := e.Metadata[pipeline.MetaReason].(string)
	if e.Status == pipeline.StatusSkipped && reason == pipeline.ReasonDuplicate {
		return controlplane.BuildStatus{}, false
	}
	it, ok := leasedItem(w)
	if !ok {
		return controlplane.BuildStatus{}, false
	}
	lease, ok := controlplane.LeaseOf(it)
	if !ok {
		return controlplane.BuildStatus{}, false
	}
	st := controlplane.BuildStatus{Package: it.Package, Version: it.Version, Attempts: lease.Attempts, Recipes: it.Recipes,
		HintIDs: lease.HintIDs}
	if st.Attempts == 0 {
		st.Attempts = attempt
	}
	errText, _ := e.Metadata[pipeline.MetaError].(string)
	switch e.Status {
	case pipeline.StatusBuilt, pipeline.StatusReused:
		st.Status = BuildBuilt
	case pipeline.StatusSkipped:
		st.Status = BuildPending
		st.BackoffUntil = at.Add(skipBackoff).Unix()
		st.Error = "skipped: not attempted"
		if runner, _ := e.Metadata[pipeline.MetaRunner].(string); runner != "" {
			st.Error += " (" + runner + " runner)"
		}
		if errText != "" {
			st.Error += ": " + errText
		}
	default:
		st.Status = BuildFailed
		st.Error = errText
		if st.Error == "" {
			st.Error = string(e.Status)
			if reason != "" {
				st.Error += ": " + reason
			}
		}
	}
	return st, true
}

// leasedItem is the queue item of w: its request's, or, for a recorded
// outcome re-reported after a crash (no Request), the raw item's.
func leasedItem(w *pipeline.Work) (pipeline.Item, bool) {
	switch {
	case w.Request != nil:
		return w.Request.Item, true
	case len(w.Raw) > 0:
		it, err := pipeline.DecodeItem(w.Raw)
		return it, err == nil
	}
	return pipeline.Item{}, false
}
