package handlers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/refinery/refinery-worker/pipeline"
)

// Bounds of what a failed build's diagnosis reads: the last diagnoseBytes
// of the job log file (written through the log's masking; from memory when
// the closed log still holds all of it, see WholeLog), else the job log's
// kept tail lines.
const (
	diagnoseBytes     = 1 << 20
	diagnoseTailLines = 1000
)

// HintMatcher matches a failed build's log against a hint catalog. Match
// must bound its own cost (pattern length, bytes scanned) and never fail:
// a catalog that cannot be used matches nothing.
type HintMatcher interface {
	Match(ctx context.Context, job pipeline.Job, log []string) []pipeline.HintMatch
}

// WholeLog is a JobLog that, once closed, can give every line of its file
// from memory: AllLines returns them (as the file splits at newlines,
// without trailing empty lines) and true when it holds them all and they
// come to at most limit bytes, else false.
type WholeLog interface {
	AllLines(limit int64) ([]string, bool)
}

// MatchHints sets the hint catalog matcher; call before the first build.
func (b *Build) MatchHints(m HintMatcher) { b.hints = m }

// Failures sets where each diagnosed failure is noted (/status); call
// before the first build.
func (b *Build) Failures(f *RecentFailures) { b.failures = f }

// diagnose attaches metadata[failure] to a failed result: the class, the
// decisive line (masked like the log) and the matching hints.
func (b *Build) diagnose(ctx context.Context, job pipeline.Job, jl JobLog, res *pipeline.Result) {
	if res.Status != pipeline.StatusFailed {
		return
	}
	lines, ok := allLines(jl)
	if !ok {
		var err error
		lines, err = fileTail(jl.Path(), diagnoseBytes)
		if err != nil || len(lines) == 0 {
			lines = jl.Tail(diagnoseTailLines)
		}
	}
	f := b.rules.Classify(lines, *res)
	if m, ok := jl.(TextMasker); ok {
		f.Summary = m.Mask(f.Summary)
	}
	if b.hints != nil {
		f.Hints = b.hints.Match(ctx, job, lines)
	}
	if res.Metadata == nil {
		res.Metadata = map[string]any{}
	}
	pipeline.SetFailure(res.Metadata, f)
	if b.failures != nil {
		b.failures.note(job, f)
	}
}

// allLines is the closed log's lines from memory, when it holds them all.
func allLines(jl JobLog) ([]string, bool) {
	if w, ok := jl.(WholeLog); ok {
		if lines, ok := w.AllLines(diagnoseBytes); ok && len(lines) > 0 {
			return lines, true
		}
	}
	return nil, false
}

// failureDetail is the first line of a failed outcome's detail: the class
// and the decisive line.
func failureDetail(meta map[string]any) string {
	f, ok := pipeline.FailureOf(meta)
	if !ok {
		return ""
	}
	return strings.TrimSpace("[" + string(f.Class) + "] " + f.Summary)
}

// FailureNote is one recent failure as /status shows it.
type FailureNote struct {
	Job     string                `json:"job"`
	Name    string                `json:"name"`
	Version string                `json:"version"`
	Attempt int                   `json:"attempt"`
	At      time.Time             `json:"at"`
	Class   pipeline.FailureClass `json:"class"`
	Summary string                `json:"summary"`
	HintIDs []string              `json:"hint_ids,omitempty"`
}

// RecentFailures keeps the last few diagnosed failures for /status, in a
// ring: noting one costs no copy of the others.
type RecentFailures struct {
	mu    sync.Mutex
	notes []FailureNote // at most max; notes[next] is the oldest once full
	next  int
	max   int
}

// NewRecentFailures keeps at most n failures (at least 1).
func NewRecentFailures(n int) *RecentFailures { return &RecentFailures{max: max(n, 1)} }

func (r *RecentFailures) note(job pipeline.Job, f pipeline.Failure) {
	n := FailureNote{Job: job.ID, Name: job.Display, Version: job.Version, Attempt: job.Attempt,
		At: time.Now().UTC(), Class: f.Class, Summary: f.Summary}
	for _, h := range f.Hints {
		n.HintIDs = append(n.HintIDs, h.ID)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.notes) < r.max {
		r.notes = append(r.notes, n)
		return
	}
	r.notes[r.next] = n
	r.next = (r.next + 1) % r.max
}

// List returns the kept failures, newest first.
func (r *RecentFailures) List() []FailureNote {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]FailureNote, 0, len(r.notes))
	for i := range len(r.notes) {
		out = append(out, r.notes[(r.next-1-i+2*len(r.notes))%len(r.notes)])
	}
	return out
}

// fileTail reads the last limit bytes of a closed job log file as lines; the
// first line is dropped when the cut fell inside it.
func fileTail(path string, limit int64) ([]string, error) {
	if path == "" {
		return nil, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open job log: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("stat job log: %w", err)
	}
	off := max(st.Size()-limit, 0)
	buf := make([]byte, st.Size()-off)
	if _, err := f.ReadAt(buf, off); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("read job log: %w", err)
	}
	text := strings.TrimRight(string(buf), "\n")
	lines := strings.Split(text, "\n")
	if off > 0 && len(lines) > 1 {
		lines = lines[1:]
	}
	return lines, nil
}
