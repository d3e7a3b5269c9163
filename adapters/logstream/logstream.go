// Package logstream streams a build's log lines live to the control-plane
// (POST /api/logs/stream/{name}/{version}?run_id=&attempt=, NDJSON lines
// {"seq","content","timestamp"}) as a joblog line sink.
//
// The build never waits on the network: Line queues the encoded line in a
// bounded memory buffer and, once that is full, appends it to a spill file;
// a sender goroutine per stream drains memory first, then the spill file, in
// seq order. Each batch is flushed to the request body at once, so a line is
// visible at the control-plane as soon as the connection carries it.
//
// Acknowledgement: the reference control-plane stores each line as it arrives
// but answers 200 only when the body ends, so a line is known to be stored
// only when its request ended with 200. The sender therefore ends the request
// body every RotateLines lines, RotateBytes bytes or RotateInterval, and opens
// a new one. When a request breaks, the lines sent on it since the last 200
// are sent again on the next request (the same seq numbers), so nothing is
// lost; a control-plane that de-duplicates by seq (the in-repo fake does)
// stores each line once, the reference may store a re-sent line twice.
//
// When a stream closes before its lines are acknowledged (the control-plane
// was down while the job ran and ended), the lines it still holds go to the
// Resender (the outbox) as one NDJSON body with their original seq, delivered
// once the control-plane is back; the manifest metadata says how many.
package logstream

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/refinery/refinery-worker/pipeline"
	"github.com/refinery/refinery-worker/pipeline/redact"
)

// StreamOpener starts one streaming request; *controlplane.Client implements it.
type StreamOpener interface {
	OpenLogStream(ctx context.Context, name, version, runID string, attempt int, body io.Reader) (*http.Response, error)
}

// Options configures a Streamer.
type Options struct {
	// Client opens the streaming requests. Required.
	Client StreamOpener
	// SpillDir holds the overflow files of streams whose memory buffer is
	// full (CACHE_DIR/logstream). Required; created if missing. A stream's
	// file is removed when the stream is closed.
	SpillDir string
	// BufferBytes bounds the encoded lines a stream keeps in memory before it
	// spills to its file. Default 4 MiB.
	BufferBytes int
	// RotateLines, RotateBytes and RotateInterval end a request (to get the
	// control-plane's 200, which acknowledges its lines) after that many
	// lines, bytes, or that much time. They bound what is re-sent after a
	// break. Defaults 2000 lines, 1 MiB, 10s.
	RotateLines    int
	RotateBytes    int
	RotateInterval time.Duration
	// AnswerTimeout bounds the wait for the answer once a request body has
	// ended; past it the request counts as broken. Default 30s.
	AnswerTimeout time.Duration
	// MinBackoff and MaxBackoff space reconnects. Defaults 200ms and 5s.
	MinBackoff, MaxBackoff time.Duration
	// CloseTimeout bounds how long Close waits for the remaining lines to be
	// delivered before it gives up and counts them unsent. Default 15s.
	CloseTimeout time.Duration
	// Resender, when set, takes the lines a stream could not get
	// acknowledged by the time it closed (an outage) and delivers them later,
	// durably, with their original seq (the outbox). Without it such lines
	// are only counted unsent.
	Resender Resender
	// MaxResendBytes bounds the encoded lines handed to the Resender per
	// stream (the first ones missed); the rest are counted in the metadata as
	// not resent. Default 8 MiB.
	MaxResendBytes int
	// Redactor masks secrets in every line. Optional.
	Redactor *redact.Redactor
	// Logger receives reconnects and give-ups. Default slog.Default().
	Logger *slog.Logger
}

// Resender queues the NDJSON body of lines a stream missed for a later
// delivery to the same stream (name, version, run id, attempt).
type Resender interface {
	ResendStream(ctx context.Context, name, version, runID string, attempt int, body []byte) error
}

// Streamer makes one Stream per job.
type Streamer struct {
	opts Options
	log  *slog.Logger
}

// New checks opts and returns a Streamer.
func New(opts Options) (*Streamer, error) {
	if opts.Client == nil {
		return nil, errors.New("logstream: client is required")
	}
	if opts.SpillDir == "" {
		return nil, errors.New("logstream: spill dir is required")
	}
	if err := os.MkdirAll(opts.SpillDir, 0o700); err != nil {
		return nil, err
	}
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	defD := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&opts.BufferBytes, 4<<20)
	def(&opts.MaxResendBytes, 8<<20)
	def(&opts.RotateLines, 2000)
	def(&opts.RotateBytes, 1<<20)
	defD(&opts.RotateInterval, 10*time.Second)
	defD(&opts.MinBackoff, 200*time.Millisecond)
	defD(&opts.MaxBackoff, 5*time.Second)
	defD(&opts.CloseTimeout, 15*time.Second)
	defD(&opts.AnswerTimeout, 30*time.Second)
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Streamer{opts: opts, log: opts.Logger}, nil
}

// Sink starts the stream of one job attempt. It has the shape of a joblog
// SinkFactory except for the named return type; wire it as
//
//	func(ctx context.Context, j pipeline.Job) joblog.LineSink { return s.Sink(ctx, j) }
//
// The stream outlives ctx's cancellation (it ends at Close), keeping only its values.
func (s *Streamer) Sink(ctx context.Context, job pipeline.Job) *Stream {
	name := job.Display
	if name == "" {
		name = job.Name
	}
	st := newStream(s, context.WithoutCancel(ctx), name, job.Version, job.RunID, job.Attempt)
	go st.run()
	return st
}
