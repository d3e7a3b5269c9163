package main

import (
	"context"
	"runtime/debug"

	"github.com/refinery/refinery-worker/adapters/wheelstore"
	"github.com/refinery/refinery-worker/handlers"
	"github.com/refinery/refinery-worker/pipeline"
)

// statusDoc is GET /status.
type statusDoc struct {
	WorkerID      string                  `json:"worker_id"`
	Version       string                  `json:"version"`
	Intake        string                  `json:"intake"`
	Transport     string                  `json:"transport"`
	Paused        string                  `json:"paused,omitempty"`
	Disk          string                  `json:"disk,omitempty"`
	Drain         *pipeline.DrainStatus   `json:"drain,omitempty"`
	Builds        []handlers.RunningBuild `json:"builds"`
	InFlightItems int                     `json:"in_flight_items"`
	OutboxBacklog *int                    `json:"outbox_backlog,omitempty"`
	DeadLetters   *int                    `json:"outbox_dead_letters,omitempty"`
	Index         *wheelstore.IndexStatus `json:"index,omitempty"`
	// RecentFailures are the last diagnosed failed builds, newest first.
	RecentFailures []handlers.FailureNote `json:"recent_failures"`
}

// recentFailures is how many failed builds /status lists.
const recentFailures = 20

func (w *worker) status() any {
	doc := statusDoc{WorkerID: w.cfg.WorkerID, Version: version(), Intake: w.cfg.QueueBackend,
		Transport: w.cfg.PipelineTransport, Paused: w.gate.Paused(), Builds: w.running.List(),
		InFlightItems: w.tracker.InFlight(), Index: w.index.Status(), RecentFailures: w.failures.List()}
	if err := w.gate.Disk(context.Background()); err != nil {
		doc.Disk = err.Error()
	}
	if d := w.drainer.Current(); d != nil {
		st := d.Status()
		doc.Drain = &st
	}
	if w.reporting != nil {
		b, dl := w.reporting.Backlog(), w.reporting.DeadLetters()
		doc.OutboxBacklog, doc.DeadLetters = &b, &dl
	}
	return doc
}

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
