package planner

import (
	"context"
	"sync"

	"github.com/refinery/refinery-worker/pipeline"
)

// Jobs runs plans in the background, on a context of their own, so that
// POST /plan can answer with the plan when it is ready within the
// control-plane's budget and with 202 and a job id otherwise:
//
//	job := jobs.Start(func(ctx context.Context) (*pipeline.Plan, error) { return p.Plan(ctx, path) })
//	wait, cancel := context.WithTimeout(r.Context(), 25*time.Second)
//	defer cancel()
//	plan, err := job.Wait(wait)
//	if wait.Err() != nil && !job.Finished() { /* 202 {"job": job.ID} */ }
//
// and GET /plan/jobs/{id} answers from jobs.Get(id). Finished jobs beyond
// the newest keep are forgotten.
type Jobs struct {
	base  context.Context
	keep  int
	newID func() string

	mu    sync.Mutex
	jobs  map[string]*Job
	order []string
}

// Job is one background plan.
type Job struct {
	ID    string
	done  chan struct{}
	plan  *pipeline.Plan
	err   error
	ended bool // guarded by the table's mutex
}

// NewJobs returns a job table; base bounds every job (cancel it on
// shutdown), keep is how many finished jobs stay fetchable (16 when <= 0).
func NewJobs(base context.Context, keep int) *Jobs {
	if keep <= 0 {
		keep = 16
	}
	return &Jobs{base: base, keep: keep, newID: randomRunID, jobs: map[string]*Job{}}
}

// Start runs fn in a new goroutine on the table's base context.
func (j *Jobs) Start(fn func(ctx context.Context) (*pipeline.Plan, error)) *Job {
	job := &Job{ID: j.newID(), done: make(chan struct{})}
	j.mu.Lock()
	j.jobs[job.ID] = job
	j.order = append(j.order, job.ID)
	j.mu.Unlock()
	go func() {
		plan, err := fn(j.base)
		j.mu.Lock()
		job.plan, job.err, job.ended = plan, err, true
		j.pruneLocked()
		j.mu.Unlock()
		close(job.done) // after pruning: a waiter sees the table settled
	}()
	return job
}

// Get returns a job by id.
func (j *Jobs) Get(id string) (*Job, bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	job, ok := j.jobs[id]
	return job, ok
}

// pruneLocked forgets the oldest finished jobs beyond keep.
func (j *Jobs) pruneLocked() {
	finished := 0
	for _, id := range j.order {
		if j.jobs[id].ended {
			finished++
		}
	}
	kept := j.order[:0]
	for _, id := range j.order {
		if finished > j.keep && j.jobs[id].ended {
			delete(j.jobs, id)
			finished--
			continue
		}
		kept = append(kept, id)
	}
	j.order = kept
}

// Finished reports whether the job has ended.
func (job *Job) Finished() bool {
	select {
	case <-job.done:
		return true
	default:
		return false
	}
}

// Done is closed when the job ends.
func (job *Job) Done() <-chan struct{} { return job.done }

// Wait returns the job's plan and error once it ends, or ctx's error if
// ctx ends first (the job goes on).
func (job *Job) Wait(ctx context.Context) (*pipeline.Plan, error) {
	select {
	case <-job.done:
		return job.plan, job.err
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
}
