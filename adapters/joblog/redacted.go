package joblog

import (
	"context"
	"sync"

	"github.com/refinery/refinery-worker/handlers"
	"github.com/refinery/refinery-worker/pipeline"
	"github.com/refinery/refinery-worker/pipeline/redact"
)

// RedactingOpener masks secrets in every job log before it reaches the
// inner opener's file and live sinks, including a secret split across two
// writes.
type RedactingOpener struct {
	Inner    handlers.LogOpener
	Redactor *redact.Redactor
}

// OpenJobLog opens the inner log behind a redacting writer.
func (o RedactingOpener) OpenJobLog(ctx context.Context, job pipeline.Job) (handlers.JobLog, error) {
	inner, err := o.Inner.OpenJobLog(ctx, job)
	if err != nil {
		return nil, err
	}
	return &redactedLog{JobLog: inner, r: o.Redactor, w: redact.NewWriter(inner, o.Redactor)}, nil
}

// redactedLog serialises writes (a runner may write from more than one
// goroutine; the Writer holds back a partial secret between writes).
type redactedLog struct {
	handlers.JobLog
	r  *redact.Redactor
	mu sync.Mutex
	w  *redact.Writer
}

func (l *redactedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, err := l.w.Write(p); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Mask masks the secrets in s (handlers.TextMasker).
func (l *redactedLog) Mask(s string) string { return l.r.String(s) }

// AllLines passes on the inner log's lines, which were masked as they were
// written (handlers.WholeLog).
func (l *redactedLog) AllLines(limit int64) ([]string, bool) {
	if w, ok := l.JobLog.(handlers.WholeLog); ok {
		return w.AllLines(limit)
	}
	return nil, false
}

func (l *redactedLog) Close() (map[string]any, error) {
	l.mu.Lock()
	err := l.w.Flush()
	l.mu.Unlock()
	meta, cerr := l.JobLog.Close()
	if err == nil {
		err = cerr
	}
	return meta, err
}

// NewMaskedOpener is NewOpener behind a RedactingOpener when red has
// secrets to mask (and the plain Opener when it has none).
func NewMaskedOpener(dir string, red *redact.Redactor, opts ...Option) handlers.LogOpener {
	o := NewOpener(dir, opts...)
	if red == nil || red.Len() == 0 {
		return o
	}
	return RedactingOpener{Inner: o, Redactor: red}
}
