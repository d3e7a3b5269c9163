package handlers

import (
	"context"
	"io"

	"github.com/refinery/refinery-worker/pipeline"
)

// Runner runs one job to completion. It writes the job's output to log while
// the job runs (not after), honours ctx (its cause says shutdown or cancel, see
// pipeline.CancelReason) and always returns a Result: failures are a Result
// with Status failed and a Reason, never a panic. A runner that did not really
// build must not return StatusBuilt.
type Runner interface {
	Run(ctx context.Context, job pipeline.Job, log io.Writer) pipeline.Result
}

// JobLog is where one job's log goes: the local file under OUTPUT_DIR/logs and
// whatever live sinks are attached (the control-plane stream).
type JobLog interface {
	io.Writer
	// Close flushes and closes every sink; it returns what the sinks want
	// recorded in the manifest metadata (lines streamed, bytes cut, ...).
	Close() (map[string]any, error)
	// Tail returns up to n last lines written.
	Tail(n int) []string
	// Path is the local file the log is kept in.
	Path() string
}

// LogOpener opens the log of a job.
type LogOpener interface {
	OpenJobLog(ctx context.Context, job pipeline.Job) (JobLog, error)
}
