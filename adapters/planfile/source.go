// Package planfile reads plan.json from OUTPUT_DIR, then CACHE_DIR
// (docs/control-plane.md), caches it and reloads it when the file changes.
package planfile

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/refinery/refinery-worker/handlers"
	"github.com/refinery/refinery-worker/pipeline"
)

// Source implements handlers.PlanSource over a list of candidate paths.
type Source struct {
	paths []string
	// checkEvery bounds how often the files are stat'ed (default 100ms).
	checkEvery time.Duration

	mu      sync.Mutex
	checked time.Time
	path    string
	stamp   stamp
	plan    *pipeline.Plan
	err     error
}

type stamp struct {
	size  int64
	mtime time.Time
	ino   uint64
}

// New looks for plan.json at each path in order (OUTPUT_DIR/plan.json, then
// CACHE_DIR/plan.json).
func New(paths ...string) *Source { return &Source{paths: paths, checkEvery: 100 * time.Millisecond} }

// Current returns the plan, reloading it when the file that serves it
// changed. No file at any path is handlers.ErrNoPlan; a file that does not
// parse is an error naming it.
func (s *Source) Current(_ context.Context) (*pipeline.Plan, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	if !s.checked.IsZero() && now.Sub(s.checked) < s.checkEvery {
		return s.plan, s.path, s.err
	}
	s.checked = now
	for _, p := range s.paths {
		fi, err := os.Stat(p)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			s.set(nil, p, stamp{}, fmt.Errorf("stat plan %s: %w", p, err))
			return s.plan, s.path, s.err
		}
		st := stampOf(fi)
		if p == s.path && st == s.stamp && s.plan != nil {
			return s.plan, s.path, nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			s.set(nil, p, st, fmt.Errorf("read plan %s: %w", p, err))
			return s.plan, s.path, s.err
		}
		plan, err := pipeline.DecodePlan(b)
		if err != nil {
			s.set(nil, p, st, fmt.Errorf("read plan %s: %w", p, err))
			return s.plan, s.path, s.err
		}
		s.set(plan, p, st, nil)
		return s.plan, s.path, nil
	}
	s.set(nil, "", stamp{}, fmt.Errorf("%w at %v", handlers.ErrNoPlan, s.paths))
	return nil, "", s.err
}

// Invalidate forces the next Current to look at the files again (after this
// worker wrote a new plan).
func (s *Source) Invalidate() {
	s.mu.Lock()
	s.checked = time.Time{}
	s.mu.Unlock()
}

func (s *Source) set(p *pipeline.Plan, path string, st stamp, err error) {
	s.plan, s.path, s.stamp, s.err = p, path, st, err
}
