package outbox

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/refinery/refinery-worker/adapters/controlplane"
	"github.com/refinery/refinery-worker/adapters/regfile"
	"github.com/refinery/refinery-worker/handlers"
	"github.com/refinery/refinery-worker/pipeline"
	"github.com/refinery/refinery-worker/pipeline/redact"
)

// LeaseField is the queue item field (pipeline.Item.Extra) the control-plane
// build-queue intake sets on the items it leased with POST
// /api/build-queue/pop. Only such items get a POST /api/builds/status: a
// status for a build the control-plane did not lease corrupts its table.
const LeaseField = controlplane.LeaseField

// Record kinds.
const (
	KindManifest    = "manifest"
	KindLog         = "log"
	KindEvent       = "event"
	KindBuildStatus = "build_status"
	KindPlan        = "plan"
	KindStream      = "stream"
)

// UnspecifiedVersion stands for a missing version in the full log and the
// event of an outcome whose request named none (the control-plane requires
// one there); the manifest entry keeps the empty version.
const UnspecifiedVersion = "unspecified"

// maxLogRead bounds how much of a job log file is read for the full log (its
// tail); the control-plane keeps at most 1,000,000 bytes anyway.
const maxLogRead = 4 << 20

// ReporterOptions configures a Reporter.
type ReporterOptions struct {
	// Outbox receives the records. Required.
	Outbox *Outbox
	// Redactor masks secrets in log content, event detail and metadata
	// strings. Optional (nil masks nothing).
	Redactor *redact.Redactor
	// Now gives event timestamps of outcomes that carry no recorded_at.
	// Default time.Now.
	Now func() time.Time
	// SkipBackoff holds a leased build that was skipped (not attempted) back
	// from being offered again for this long (its backoff_until). Default
	// DefaultSkipBackoff.
	SkipBackoff time.Duration
	// Leases, when set, hears about leased builds as they are reported
	// (controlplane.Intake implements it). Optional.
	Leases LeaseNotes
}

// Reporter implements handlers.Reporter: it turns an outcome into outbox
// records (manifest entry, full log, event, and a build status for builds
// leased from the control-plane) and returns once they are durable.
type Reporter struct {
	box         *Outbox
	red         *redact.Redactor
	now         func() time.Time
	skipBackoff time.Duration
	leases      LeaseNotes

	mu      sync.Mutex
	lastRun string
}

var _ handlers.Reporter = (*Reporter)(nil)

// NewReporter returns a Reporter.
func NewReporter(opts ReporterOptions) (*Reporter, error) {
	if opts.Outbox == nil {
		return nil, errors.New("outbox reporter: outbox is required")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.SkipBackoff <= 0 {
		opts.SkipBackoff = DefaultSkipBackoff
	}
	return &Reporter{box: opts.Outbox, red: opts.Redactor, now: opts.Now, skipBackoff: opts.SkipBackoff,
		leases: opts.Leases}, nil
}

// Report writes the records of w.Outcome to the outbox. The idempotency keys
// are derived from the claim (or correlation id), the attempt and the status,
// so reporting the same outcome again (a redelivery after a crash) adds
// nothing new and is de-duplicated by the control-plane.
func (r *Reporter) Report(ctx context.Context, w *pipeline.Work) error {
	if w == nil || w.Outcome == nil {
		return errors.New("report: work has no outcome")
	}
	o := w.Outcome
	e := o.Entry
	e.Metadata = r.redactMap(e.Metadata)
	attempt, runID, durMS := facts(w)
	if runID != "" {
		r.mu.Lock()
		r.lastRun = runID
		r.mu.Unlock()
	}
	// The claim groups the records with the build statuses the intake sends
	// for the same lease (building, retry), so they arrive in order.
	group := w.Claim
	if group == "" {
		group = w.CorrelationID
	}
	base := keyBase(w, attempt)
	at := r.outcomeTime(e)
	if _, ok := controlplane.RecordedAt(e); !ok {
		// The manifest's created_at comes from recorded_at.
		md := make(map[string]any, len(e.Metadata)+1)
		for k, v := range e.Metadata {
			md[k] = v
		}
		md[pipeline.MetaRecordedAt] = at.UTC().Format(time.RFC3339Nano)
		e.Metadata = md
	}

	manifest, err := controlplane.EncodeManifest([]pipeline.ManifestEntry{e})
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	content, err := r.readLog(o, w)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	// The control-plane rejects a log or an event without a version (400);
	// a request that never got one (no plan, unmatched) is still reported.
	version := e.Version
	if version == "" {
		version = UnspecifiedVersion
	}
	logBody, _, err := controlplane.EncodeFullLog(controlplane.FullLog{Name: e.Name, Version: version,
		Status: string(e.Status), DurationMS: durMS, Content: content}, 0)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	meta := map[string]any{}
	for k, v := range e.Metadata {
		meta[k] = v
	}
	meta[pipeline.MetaDurationMS] = durMS
	meta[pipeline.MetaAttempt] = attempt
	meta[pipeline.MetaCorrelationID] = w.CorrelationID
	if runID != "" {
		meta[pipeline.MetaRunID] = runID
	}
	// A failure's detail is its one-line summary, after its class when it
	// was diagnosed ("[missing_header] x.c:1:10: fatal error: ..."); the log
	// keeps the tail.
	detail, summary := r.red.String(o.Detail), ""
	if isFailure(e.Status) {
		if summary = failureSummary(e.Metadata); summary == "" {
			summary = firstLine(detail)
		}
		detail = summary
		if f, ok := pipeline.FailureOf(e.Metadata); ok && f.Class != "" && summary != "" {
			detail = "[" + string(f.Class) + "] " + summary
		}
	}
	hints := mergeIDs(pipeline.MatchedHintIDs(e.Metadata), matchedHintIDs(w, e))
	ev := controlplane.Event{Name: e.Name, Version: version, PythonTag: e.PythonTag, PlatformTag: e.PlatformTag,
		Status: string(e.Status), Detail: detail, Timestamp: at.Unix(), Metadata: meta,
		MatchedHintIDs: hints, RunID: runID}
	if durKnown(w) {
		ev.DurationMS = &durMS
	}
	evBody, err := controlplane.EncodeJSON(ev)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	recs := []Record{
		{Key: base + "-" + KindManifest, Group: group, Kind: KindManifest, Path: "/api/manifest", Body: manifest},
		{Key: base + "-" + KindLog, Group: group, Kind: KindLog, Path: "/api/logs", Body: logBody},
		{Key: base + "-" + KindEvent, Group: group, Kind: KindEvent, Path: "/api/history", Body: evBody},
	}
	if e.Status == pipeline.StatusRetry && r.leases != nil && w.Claim != "" {
		if it, ok := leasedItem(w); ok {
			if _, leased := controlplane.LeaseOf(it); leased {
				r.leases.NoteFailure(w.Claim, summary, hints)
			}
		}
	}
	if st, ok := buildStatus(w, e, attempt, at, r.skipBackoff); ok {
		if st.Status == BuildFailed {
			st.FailureSummary, st.HintIDs = summary, mergeIDs(hints, st.HintIDs)
		}
		if r.leases != nil && w.Claim != "" {
			r.leases.Reported(w.Claim) // no "building" may follow the final status
		}
		b, err := controlplane.EncodeJSON(st)
		if err != nil {
			return fmt.Errorf("report: %w", err)
		}
		recs = append(recs, Record{Key: base + "-" + KindBuildStatus, Group: group, Kind: KindBuildStatus,
			Path: "/api/builds/status", Body: b})
	}
	return r.box.Add(ctx, recs...)
}

// ReportBuildStatus queues a build status (for example "building" when a
// leased build starts) in the group of the job, so it is delivered before the
// job's final reports. key must be unique per status change.
func (r *Reporter) ReportBuildStatus(ctx context.Context, group, key string, st controlplane.BuildStatus) error {
	st.Error = r.red.String(st.Error)
	b, err := controlplane.EncodeJSON(st)
	if err != nil {
		return fmt.Errorf("report build status: %w", err)
	}
	return r.box.Add(ctx, Record{Key: key, Group: group, Kind: KindBuildStatus, Path: "/api/builds/status", Body: b})
}

// ResendStream queues the NDJSON lines (with their original seq) a live log
// stream could not deliver, as one POST to the same stream; the control-plane
// stores them as it would have live. It implements logstream.Resender.
func (r *Reporter) ResendStream(ctx context.Context, name, version, runID string, attempt int, body []byte) error {
	if len(body) == 0 {
		return nil
	}
	id := name + "\x00" + version + "\x00" + runID + "\x00" + strconv.Itoa(attempt)
	h := sha256.New()
	h.Write([]byte(id + "\x00"))
	h.Write(body)
	key := "stream-" + hex.EncodeToString(h.Sum(nil)[:12])
	g := sha256.Sum256([]byte(id))
	return r.box.Add(ctx, Record{Key: key, Group: "stream:" + hex.EncodeToString(g[:12]), Kind: KindStream,
		Path: controlplane.StreamPath(name, version, runID, attempt), ContentType: "application/x-ndjson", Body: body})
}

// ReportPlan queues POST /api/plan (always with a dag key). key must be unique
// per plan (for example "plan-" + run id).
func (r *Reporter) ReportPlan(ctx context.Context, key string, up controlplane.PlanUpload) error {
	b, err := controlplane.EncodePlan(up)
	if err != nil {
		return fmt.Errorf("report plan: %w", err)
	}
	return r.box.Add(ctx, Record{Key: key, Group: "plan:" + key, Kind: KindPlan, Path: "/api/plan", Body: b})
}

// readLog returns the (masked) tail of the job log, or a one-line note when
// there is no log file (an outcome that never ran).
func (r *Reporter) readLog(o *pipeline.Outcome, w *pipeline.Work) (string, error) {
	path := o.LogPath
	if path == "" && w.Job != nil {
		path = w.Job.LogPath
	}
	if path == "" {
		return fmt.Sprintf("[refinery-worker: no job log: %s %s]\n", o.Entry.Status, r.red.String(o.Detail)), nil
	}
	f, err := regfile.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Sprintf("[refinery-worker: job log %s is missing]\n", path), nil
	}
	if err != nil {
		return "", fmt.Errorf("open job log: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return "", fmt.Errorf("stat job log: %w", err)
	}
	prefix := ""
	if skip := st.Size() - maxLogRead; skip > 0 {
		if _, err := f.Seek(skip, io.SeekStart); err != nil {
			return "", fmt.Errorf("seek job log: %w", err)
		}
		prefix = fmt.Sprintf("[refinery-worker: first %d bytes of the job log not read]\n", skip)
	}
	b, err := io.ReadAll(f)
	if err != nil {
		return "", fmt.Errorf("read job log: %w", err)
	}
	return prefix + string(r.red.Bytes(b)), nil
}

// redactMap returns a copy of m with secrets masked in every string.
func (r *Reporter) redactMap(m map[string]any) map[string]any {
	if m == nil || r.red.Len() == 0 {
		return m
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = r.redactValue(v)
	}
	return out
}

func (r *Reporter) redactValue(v any) any {
	switch x := v.(type) {
	case string:
		return r.red.String(x)
	case []string:
		out := make([]string, len(x))
		for i, s := range x {
			out[i] = r.red.String(s)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = r.redactValue(e)
		}
		return out
	case map[string]any:
		return r.redactMap(x)
	}
	return v
}
