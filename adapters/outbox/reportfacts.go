package outbox

// What a report says about a Work beyond its manifest entry: the outcome's
// time, the attempt, run id and duration, the hints it matched, and the
// idempotency key of its records.

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strconv"
	"time"

	"github.com/refinery/refinery-worker/adapters/controlplane"
	"github.com/refinery/refinery-worker/pipeline"
)

// outcomeTime is when the outcome was recorded (metadata recorded_at), so a
// report delivered late, or re-reported after a crash, carries the time of
// the outcome rather than the time of its delivery; now when there is none.
func (r *Reporter) outcomeTime(e pipeline.ManifestEntry) time.Time {
	if t, ok := controlplane.RecordedAt(e); ok {
		return t
	}
	return r.now()
}

// matchedHintIDs are the ids of the plan node's hints (metadata hint_ids)
// followed by those of the control-plane lease not already named, then
// those the failure diagnosis matched and an auto-fix retry ran with.
func matchedHintIDs(w *pipeline.Work, e pipeline.ManifestEntry) []string {
	ids := controlplane.StringList(e.Metadata[pipeline.MetaHintIDs])
	for _, id := range pipeline.MatchedHintIDs(e.Metadata) {
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	if it, ok := leasedItem(w); ok {
		if lease, ok := controlplane.LeaseOf(it); ok {
			for _, id := range lease.HintIDs {
				if !slices.Contains(ids, id) {
					ids = append(ids, id)
				}
			}
		}
	}
	return ids
}

// facts finds the attempt, run id and duration of w from the most specific
// place that has them.
func facts(w *pipeline.Work) (attempt int, runID string, durMS int64) {
	md := w.Outcome.Entry.Metadata
	switch {
	case w.Job != nil && w.Job.Attempt > 0:
		attempt = w.Job.Attempt
	case w.Request != nil:
		attempt = w.Request.Item.Attempts + 1
	default:
		attempt = 1
	}
	if v, ok := md[pipeline.MetaAttempt]; ok {
		if n, ok := toInt(v); ok && n > 0 {
			attempt = int(n)
		}
	}
	runID, _ = md[pipeline.MetaRunID].(string)
	if runID == "" && w.Job != nil {
		runID = w.Job.RunID
	}
	if runID == "" && w.Plan != nil {
		runID = w.Plan.RunID
	}
	if runID == "" && w.Request != nil {
		runID = w.Request.Item.RunID
	}
	if n, ok := toInt(md[pipeline.MetaDurationMS]); ok {
		durMS = n
	} else if w.Result != nil {
		durMS = w.Result.Duration.Milliseconds()
	}
	return attempt, runID, durMS
}

// durKnown reports whether the outcome's duration is known (metadata
// duration_ms or a build result), so that an unknown one is omitted.
func durKnown(w *pipeline.Work) bool {
	_, ok := toInt(w.Outcome.Entry.Metadata[pipeline.MetaDurationMS])
	return ok || w.Result != nil
}

// toInt reads a whole number from metadata, whether it came from Go (int,
// int64) or from JSON (float64, json.Number).
func toInt(v any) (int64, bool) {
	switch n := v.(type) {
	case int:
		return int64(n), true
	case int64:
		return n, true
	case float64:
		return int64(n), true
	case interface{ Int64() (int64, error) }: // json.Number
		i, err := n.Int64()
		return i, err == nil
	}
	return 0, false
}

// keyBase is the stem of the idempotency keys of a Work's records: the claim
// (else the correlation id), the attempt and the status, hashed.
func keyBase(w *pipeline.Work, attempt int) string {
	id := w.Claim
	if id == "" {
		id = w.CorrelationID
	}
	h := sha256.Sum256([]byte(id + "\x00" + strconv.Itoa(attempt) + "\x00" + string(w.Outcome.Entry.Status)))
	return hex.EncodeToString(h[:12])
}
