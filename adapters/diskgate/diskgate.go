// Package diskgate decides whether the worker takes new items: not while an
// operator paused it, not while a directory it writes has too little free
// disk.
package diskgate

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"syscall"
	"time"
)

// Options configure a Gate.
type Options struct {
	// Dirs are checked for free space (OUTPUT_DIR, CACHE_DIR).
	Dirs []string
	// MinFree is MIN_FREE_DISK in bytes; 0 turns the disk check off.
	MinFree uint64
	// OnPause and OnDisk, when set, hear every change of pause (true:
	// paused) and every disk check (true: low); the metrics gauges.
	OnPause, OnDisk func(bool)
}

// Gate is the drainer's gate and the operator's pause switch.
type Gate struct {
	o Options
	// free reads the free bytes of a directory (statfs); now is the clock.
	free func(dir string) (uint64, error)
	now  func() time.Time

	mu      sync.Mutex
	paused  string
	checked time.Time
	diskErr error
}

// checkEvery is how long a disk check is reused.
const checkEvery = time.Second

// New makes an open gate.
func New(o Options) *Gate {
	return &Gate{o: o, free: statfsFree, now: time.Now}
}

// Pause stops the taking of new items (builds in flight go on).
func (g *Gate) Pause(reason string) {
	g.mu.Lock()
	g.paused = reason
	g.mu.Unlock()
	if g.o.OnPause != nil {
		g.o.OnPause(true)
	}
}

// Resume lets drains take items again.
func (g *Gate) Resume() {
	g.mu.Lock()
	g.paused = ""
	g.mu.Unlock()
	if g.o.OnPause != nil {
		g.o.OnPause(false)
	}
}

// Paused is the pause reason, or "".
func (g *Gate) Paused() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.paused
}

// Check is the drainer's gate: the pause reason, or the disk's error.
func (g *Gate) Check() error {
	if p := g.Paused(); p != "" {
		return errors.New(p)
	}
	return g.Disk(context.Background())
}

// Disk fails when a directory has less than MinFree free (checked at most
// once a second).
func (g *Gate) Disk(context.Context) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.o.MinFree == 0 {
		return nil
	}
	now := g.now()
	if !g.checked.IsZero() && now.Sub(g.checked) < checkEvery {
		return g.diskErr
	}
	g.checked = now
	g.diskErr = nil
	for _, d := range g.o.Dirs {
		free, err := g.free(d)
		if err != nil {
			g.diskErr = fmt.Errorf("statfs %s: %w", d, err)
			break
		}
		if free < g.o.MinFree {
			g.diskErr = fmt.Errorf("%s has %s free, below MIN_FREE_DISK (%s): not taking new items", d, human(free), human(g.o.MinFree))
			break
		}
	}
	if g.o.OnDisk != nil {
		g.o.OnDisk(g.diskErr != nil)
	}
	return g.diskErr
}

func statfsFree(dir string) (uint64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, err
	}
	return st.Bavail * uint64(st.Bsize), nil
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
