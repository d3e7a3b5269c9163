package main

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"syscall"
	"time"

	"github.com/refinery/refinery-worker/handlers"
	"github.com/refinery/refinery-worker/pipeline"
)

// gate decides whether the worker takes new items: not while an operator
// paused it, not while the disk under OUTPUT_DIR or CACHE_DIR is low.
type gate struct {
	dirs    []string
	minFree uint64
	onPause func(bool)
	onDisk  func(bool)

	mu      sync.Mutex
	paused  string
	checked time.Time
	diskErr error
}

// Pause stops the taking of new items (builds in flight go on).
func (g *gate) Pause(reason string) {
	g.mu.Lock()
	g.paused = reason
	g.mu.Unlock()
	g.onPause(true)
}

// Resume lets drains take items again.
func (g *gate) Resume() {
	g.mu.Lock()
	g.paused = ""
	g.mu.Unlock()
	g.onPause(false)
}

// Paused is the pause reason, or "".
func (g *gate) Paused() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.paused
}

// Check is the drainer's gate.
func (g *gate) Check() error {
	if p := g.Paused(); p != "" {
		return errors.New(p)
	}
	return g.Disk(context.Background())
}

// Disk fails when a directory has less than MIN_FREE_DISK free (checked at
// most once a second).
func (g *gate) Disk(context.Context) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.minFree == 0 {
		return nil
	}
	if time.Since(g.checked) < time.Second {
		return g.diskErr
	}
	g.checked = time.Now()
	g.diskErr = nil
	for _, d := range g.dirs {
		var st syscall.Statfs_t
		if err := syscall.Statfs(d, &st); err != nil {
			g.diskErr = fmt.Errorf("statfs %s: %w", d, err)
			break
		}
		if free := st.Bavail * uint64(st.Bsize); free < g.minFree {
			g.diskErr = fmt.Errorf("%s has %s free, below MIN_FREE_DISK (%s): not taking new items", d, human(free), human(g.minFree))
			break
		}
	}
	g.onDisk(g.diskErr != nil)
	return g.diskErr
}

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
	Index         *indexStatus            `json:"index,omitempty"`
	// RecentFailures are the last diagnosed failed builds, newest first.
	RecentFailures []handlers.FailureNote `json:"recent_failures"`
}

// recentFailures is how many failed builds /status lists.
const recentFailures = 20

func (w *worker) status() any {
	doc := statusDoc{WorkerID: w.cfg.WorkerID, Version: version(), Intake: w.cfg.QueueBackend,
		Transport: w.cfg.PipelineTransport, Paused: w.gate.Paused(), Builds: w.running.List(),
		InFlightItems: w.tracker.InFlight(), Index: w.index.status(), RecentFailures: w.failures.List()}
	if err := w.gate.Disk(context.Background()); err != nil {
		doc.Disk = err.Error()
	}
	if d := w.drainer.Current(); d != nil {
		st := d.Status()
		doc.Drain = &st
	}
	if w.outboxBacklog != nil {
		b, dl := w.outboxBacklog(), w.outboxDead()
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

// human prints a byte count with a binary unit.
func human(n uint64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
