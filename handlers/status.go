package handlers

import (
	"context"
	"runtime/debug"

	"github.com/refinery/refinery-worker/pipeline"
)

// StatusDoc is GET /status.
type StatusDoc struct {
	WorkerID      string                `json:"worker_id"`
	Version       string                `json:"version"`
	Intake        string                `json:"intake"`
	Transport     string                `json:"transport"`
	Paused        string                `json:"paused,omitempty"`
	Disk          string                `json:"disk,omitempty"`
	Drain         *pipeline.DrainStatus `json:"drain,omitempty"`
	Builds        []RunningBuild        `json:"builds"`
	InFlightItems int                   `json:"in_flight_items"`
	OutboxBacklog *int                  `json:"outbox_backlog,omitempty"`
	DeadLetters   *int                  `json:"outbox_dead_letters,omitempty"`
	Index         any                   `json:"index,omitempty"`
	// RecentFailures are the last diagnosed failed builds, newest first.
	RecentFailures []FailureNote `json:"recent_failures"`
}

// RecentFailureCount is how many failed builds /status lists.
const RecentFailureCount = 20

// Gate is the intake gate as /status shows it (diskgate.Gate).
type Gate interface {
	Paused() string
	Disk(ctx context.Context) error
}

// Outbox is the control-plane outbox as /status shows it.
type Outbox interface {
	Backlog() int
	DeadLetters() int
}

// IndexStatuser is the wheel index as /status shows it.
type IndexStatuser interface {
	IndexStatus() any
}

// StatusSources are what GET /status reads. Outbox is nil without a
// control-plane; every other field is required.
type StatusSources struct {
	WorkerID, Intake, Transport string
	Gate                        Gate
	Builds                      interface{ List() []RunningBuild }
	Items                       interface{ InFlight() int }
	Drains                      interface{ Current() *pipeline.Drain }
	Failures                    interface{ List() []FailureNote }
	Index                       IndexStatuser
	Outbox                      Outbox
}

// Status assembles the /status document.
type Status struct {
	src     StatusSources
	version string
}

// NewStatus reads the program's version once.
func NewStatus(src StatusSources) *Status { return &Status{src: src, version: version()} }

// Doc is the /status document (OpsOptions.Status).
func (s *Status) Doc() any {
	src := s.src
	doc := StatusDoc{WorkerID: src.WorkerID, Version: s.version, Intake: src.Intake, Transport: src.Transport,
		Paused: src.Gate.Paused(), Builds: src.Builds.List(), InFlightItems: src.Items.InFlight(),
		Index: src.Index.IndexStatus(), RecentFailures: src.Failures.List()}
	if err := src.Gate.Disk(context.Background()); err != nil {
		doc.Disk = err.Error()
	}
	if d := src.Drains.Current(); d != nil {
		st := d.Status()
		doc.Drain = &st
	}
	if src.Outbox != nil {
		b, dl := src.Outbox.Backlog(), src.Outbox.DeadLetters()
		doc.OutboxBacklog, doc.DeadLetters = &b, &dl
	}
	return doc
}

// version is the module version and VCS revision of the running binary.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := bi.Main.Version
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" {
			v += " " + s.Value
		}
	}
	return v
}
