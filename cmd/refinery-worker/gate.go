package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"syscall"
	"time"
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
