package handlers

import (
	"context"
	"fmt"
	"os"
)

// DirWritable is a /ready check that dir takes a new file.
func DirWritable(dir string) func(context.Context) error {
	return func(context.Context) error { return writable(dir) }
}

func writable(dir string) error {
	f, err := os.CreateTemp(dir, ".ready-*")
	if err != nil {
		return fmt.Errorf("%s is not writable: %w", dir, err)
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}

// ReadySources are the parts of a worker /ready asks.
type ReadySources struct {
	Intake, Router, Manifest, Disk func(context.Context) error
	OutputDir, CacheDir            string
	// Builder checks the builder image is for the target machine; nil for
	// a runner without one (the stub).
	Builder func(context.Context) error
	// ControlPlane checks the control-plane's URL and token; nil without a
	// control-plane. An error Unreachable reports is advisory: the outbox
	// holds the reports meanwhile.
	ControlPlane func(context.Context) error
	Unreachable  func(error) bool
}

// WorkerReadyChecks are /ready's checks of a worker, in the order shown.
func WorkerReadyChecks(s ReadySources) []ReadyCheck {
	checks := []ReadyCheck{
		{Name: "intake", Check: s.Intake},
		{Name: "output_dir", Check: DirWritable(s.OutputDir)},
		{Name: "cache_dir", Check: DirWritable(s.CacheDir)},
		{Name: "router", Check: s.Router},
		{Name: "manifest", Check: s.Manifest},
		{Name: "disk", Check: s.Disk},
	}
	if s.Builder != nil {
		checks = append(checks, ReadyCheck{Name: "builder_platform", Check: s.Builder})
	}
	if s.ControlPlane != nil {
		checks = append(checks, ReadyCheck{Name: "control_plane", Check: s.ControlPlane, Advisory: s.Unreachable})
	}
	return checks
}
