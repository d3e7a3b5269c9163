package handlers

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestDirWritable(t *testing.T) {
	dir := t.TempDir()
	if err := DirWritable(dir)(context.Background()); err != nil {
		t.Fatalf("writable temp dir: %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("the check left %v behind", entries)
	}
	missing := filepath.Join(dir, "gone")
	if err := DirWritable(missing)(context.Background()); err == nil || !strings.Contains(err.Error(), missing+" is not writable") {
		t.Errorf("missing dir: %v", err)
	}
}

type enqueuingIntake struct{}

func (enqueuingIntake) Enqueue(context.Context, [][]byte) error { return nil }

func TestEnqueuerIfReleasing(t *testing.T) {
	for _, tc := range []struct {
		name    string
		durable bool
		intake  any
		want    bool
	}{
		{"durable, can enqueue", true, enqueuingIntake{}, true},
		{"in process", false, enqueuingIntake{}, false},
		{"durable, cannot enqueue", true, struct{}{}, false},
	} {
		if got := EnqueuerIfReleasing(tc.durable, tc.intake) != nil; got != tc.want {
			t.Errorf("%s: enqueuer %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestWorkerReadyChecks(t *testing.T) {
	ok := func(context.Context) error { return nil }
	down := errors.New("down")
	tests := []struct {
		name         string
		builder, cp  bool
		want         []string
		advisoryDown bool
	}{
		{"stub runner, no control-plane", false, false, []string{"intake", "output_dir", "cache_dir", "router", "manifest", "disk"}, false},
		{"podman runner", true, false, []string{"intake", "output_dir", "cache_dir", "router", "manifest", "disk", "builder_platform"}, false},
		{"with a control-plane", true, true, []string{"intake", "output_dir", "cache_dir", "router", "manifest", "disk", "builder_platform", "control_plane"}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := ReadySources{Intake: ok, Router: ok, Manifest: ok, Disk: ok, OutputDir: t.TempDir(), CacheDir: t.TempDir()}
			if tc.builder {
				s.Builder = ok
			}
			if tc.cp {
				s.ControlPlane, s.Unreachable = ok, func(err error) bool { return errors.Is(err, down) }
			}
			var names []string
			for _, c := range WorkerReadyChecks(s) {
				names = append(names, c.Name)
				if err := c.Check(context.Background()); err != nil {
					t.Errorf("%s: %v", c.Name, err)
				}
				if c.Name == "control_plane" && (c.Advisory == nil || !c.Advisory(down) || c.Advisory(errors.New("401"))) {
					t.Errorf("control_plane: an unreachable control-plane must be advisory, a refusal not")
				}
			}
			if !slices.Equal(names, tc.want) {
				t.Errorf("checks %v, want %v", names, tc.want)
			}
		})
	}
}
