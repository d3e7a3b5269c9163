package pipeline

import (
	"encoding/json"
	"time"
)

// Work is the envelope that travels through every topic. The dequeue stage
// fills Request (or Rejection); plan fills Plan; match fills Job or a terminal
// Result; build fills Result; report fills Outcome. One Work per intake item.
type Work struct {
	// CorrelationID follows the item from intake to report.
	CorrelationID string `json:"correlation_id"`
	// Claim identifies the intake's hold on the item (a lease id, a stream
	// id); it is how the item is released, and how a redelivery is recognised.
	Claim string `json:"claim"`
	// Raw is the item exactly as the intake read it.
	Raw json.RawMessage `json:"raw"`
	// ClaimedAt is when the intake handed the item out.
	ClaimedAt time.Time `json:"claimed_at"`

	// ReplayOf is set on a message re-published by a stage-level replay
	// (the replay's metadata): its outcome is recorded as a new entry and it
	// settles nothing at the intake.
	ReplayOf string `json:"replay_of,omitempty"`

	Request   *Request   `json:"request,omitempty"`
	Rejection *Rejection `json:"rejection,omitempty"`
	Plan      *PlanRef   `json:"plan,omitempty"`
	Job       *Job       `json:"job,omitempty"`
	Result    *Result    `json:"result,omitempty"`
	Outcome   *Outcome   `json:"outcome,omitempty"`
}

// Request is a validated, normalised queue item.
type Request struct {
	Item Item `json:"item"` // as read, unknown fields included (for requeue)
	// Name is the PEP 503 normalised package name.
	Name string `json:"name"`
	// Version is the PEP 440 normalised version, or "" for "whatever the plan has".
	Version       string   `json:"version,omitempty"`
	PythonVersion string   `json:"python_version,omitempty"`
	PythonTag     string   `json:"python_tag,omitempty"`
	PlatformTag   string   `json:"platform_tag,omitempty"`
	Recipes       []string `json:"recipes,omitempty"`
}

// Rejection says why an intake item was not accepted.
type Rejection struct {
	Field  string    `json:"field,omitempty"`
	Reason string    `json:"reason"`
	At     time.Time `json:"at"`
}

// PlanRef is the part of the plan snapshot a request needs: which plan, and
// the nodes whose name matches the request.
type PlanRef struct {
	RunID  string     `json:"run_id"`
	Source string     `json:"source"` // file the plan was read from
	Nodes  []PlanNode `json:"nodes,omitempty"`
}

// Job is one build to run: everything a Runner needs, all fields validated.
type Job struct {
	// ID is deterministic for (name, version, tags, recipes); with Attempt it
	// names the container.
	ID            string   `json:"id"`
	Name          string   `json:"name"`    // PEP 503 normalised
	Display       string   `json:"display"` // the name as the plan spells it
	Version       string   `json:"version"`
	PythonVersion string   `json:"python_version"`
	PythonTag     string   `json:"python_tag"`
	PlatformTag   string   `json:"platform_tag"`
	Recipes       []string `json:"recipes,omitempty"`
	// Attempt is 1 for the first try (queue attempts + 1).
	Attempt int    `json:"attempt"`
	RunID   string `json:"run_id,omitempty"`
	// LogPath is where the full job log is kept (under OUTPUT_DIR/logs).
	LogPath string `json:"log_path,omitempty"`
	// HintIDs are the ids of the plan node's hints (the event's
	// matched_hint_ids).
	HintIDs []string `json:"hint_ids,omitempty"`
}

// Result is how a job (or a request that never became a job) ended.
type Result struct {
	Status   Status        `json:"status"`
	Reason   string        `json:"reason,omitempty"`
	Error    string        `json:"error,omitempty"`
	ExitCode int           `json:"exit_code"`
	Duration time.Duration `json:"duration"`
	Wheels   []Wheel       `json:"wheels,omitempty"`
	// LogTail holds the last lines of the job log, for the event detail.
	LogTail []string `json:"log_tail,omitempty"`
	// Metadata is merged into the manifest entry's metadata.
	Metadata map[string]any `json:"metadata,omitempty"`
}

// Wheel is one wheel file a build produced.
type Wheel struct {
	File   string   `json:"file"`
	Size   int64    `json:"size"`
	SHA256 string   `json:"sha256"`
	Tags   []string `json:"tags,omitempty"`
}

// Outcome is the terminal record of one intake item: the manifest entry plus
// what reporters need besides it.
type Outcome struct {
	Entry  ManifestEntry `json:"entry"`
	Detail string        `json:"detail,omitempty"`
	// Failure is the first line of Detail for a diagnosed failure: the
	// class and the decisive line ("[missing_header] ..."), else empty.
	Failure string `json:"failure,omitempty"`
	LogPath string `json:"log_path,omitempty"`
	// Redelivered is true when the intake handed out an item whose outcome
	// was already recorded (a crash between record and release): it is
	// settled without being built or recorded again.
	Redelivered bool `json:"redelivered,omitempty"`
}

// ManifestEntry is one element of manifest.json (docs/control-plane.md).
type ManifestEntry struct {
	Name        string         `json:"name"`
	Version     string         `json:"version"`
	Status      Status         `json:"status"`
	PythonTag   string         `json:"python_tag,omitempty"`
	PlatformTag string         `json:"platform_tag,omitempty"`
	Wheel       string         `json:"wheel,omitempty"`
	Metadata    map[string]any `json:"metadata,omitempty"`
}

// Manifest metadata keys the worker always writes.
const (
	MetaDurationMS    = "duration_ms"
	MetaAttempt       = "attempt"
	MetaRecipes       = "recipes"
	MetaError         = "error"
	MetaReason        = "reason"
	MetaRunner        = "runner"
	MetaClaim         = "claim"
	MetaCorrelationID = "correlation_id"
	MetaRunID         = "run_id"
	MetaWheels        = "wheels"
	MetaExitCode      = "exit_code"
	MetaLog           = "log"
	MetaRecordedAt    = "recorded_at"
	// MetaHintIDs holds the ids of the matched plan node's hints, when it has
	// any.
	MetaHintIDs = "hint_ids"
)
