package handlers

import (
	"context"
	"sort"
	"sync"
	"time"

	"github.com/refinery/refinery-worker/pipeline"
)

// Running is the registry of builds in flight, for /status and cancel.
type Running struct {
	mu     sync.Mutex
	builds map[string]*runningBuild
}

type runningBuild struct {
	work    *pipeline.Work
	started time.Time
	cancel  context.CancelCauseFunc
	log     JobLog
	requeue bool // the operator asked for a cancelled build to be requeued
}

// RunningBuild describes one build in flight.
type RunningBuild struct {
	CorrelationID string        `json:"correlation_id"`
	JobID         string        `json:"job_id"`
	Name          string        `json:"name"`
	Version       string        `json:"version"`
	Attempt       int           `json:"attempt"`
	Started       time.Time     `json:"started"`
	Running       time.Duration `json:"running_ns"`
	LastLine      string        `json:"last_line,omitempty"`
}

// NewRunning makes an empty registry.
func NewRunning() *Running { return &Running{builds: map[string]*runningBuild{}} }

func (r *Running) add(w *pipeline.Work, cancel context.CancelCauseFunc, log JobLog) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.builds[w.CorrelationID] = &runningBuild{work: w, started: time.Now(), cancel: cancel, log: log}
}

func (r *Running) remove(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.builds, id)
}

// Cancel stops the build with this correlation id or job id (reason
// cancelled); requeue asks for its item to go back to the queue. False when
// no such build runs.
func (r *Running) Cancel(id string, requeue bool) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for cid, b := range r.builds {
		if cid == id || b.work.Job.ID == id {
			b.requeue = requeue
			b.cancel(pipeline.ErrCancelled)
			return true
		}
	}
	return false
}

func (r *Running) requeueRequested(id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	b, ok := r.builds[id]
	return ok && b.requeue
}

// List returns the builds in flight, oldest first.
func (r *Running) List() []RunningBuild {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]RunningBuild, 0, len(r.builds))
	for id, b := range r.builds {
		rb := RunningBuild{CorrelationID: id, JobID: b.work.Job.ID, Name: b.work.Job.Name, Version: b.work.Job.Version,
			Attempt: b.work.Job.Attempt, Started: b.started, Running: time.Since(b.started)}
		if t := b.log.Tail(1); len(t) == 1 {
			rb.LastLine = t[0]
		}
		out = append(out, rb)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Started.Before(out[j].Started) })
	return out
}

// Len is the number of builds in flight.
func (r *Running) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.builds)
}
