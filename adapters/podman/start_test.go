package podman

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeBin writes a podman stand-in: `ps` prints ps (or fails when ps is
// "FAIL"), `rm` succeeds, `image inspect` prints arch.
func fakeBin(t *testing.T, ps, arch string) string {
	t.Helper()
	psCmd := fmt.Sprintf("printf '%s'", ps)
	if ps == "FAIL" {
		psCmd = "echo 'cannot connect' >&2; exit 125"
	}
	script := fmt.Sprintf("#!/bin/sh\ncase \"$1\" in\nps) %s ;;\nrm) exit 0 ;;\nimage) echo %s ;;\nesac\n", psCmd, arch)
	path := filepath.Join(t.TempDir(), "podman")
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

func fakeCommander(t testing.TB, bin string) *Commander {
	t.Helper()
	o := baseOptions()
	o.Bin, o.OutputDir, o.CacheDir = bin, t.TempDir(), t.TempDir()
	c, err := NewCommander(o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestStartRunnerChecksTheImagePlatform(t *testing.T) {
	host := OCIArch(hostMachine())
	for _, tc := range []struct {
		name, target, arch, wantErr string
	}{
		{"image fits", "linux_" + hostMachine(), host, ""},
		{"image for another machine", "linux_" + hostMachine(), "riscv64", "PLATFORM_TAG linux_" + hostMachine() + ": builder image"},
		{"target without a machine", "any", "riscv64", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := StartRunner(fakeCommander(t, fakeBin(t, "", tc.arch)), RunnerOptions{Target: tc.target, Logger: slog.New(slog.DiscardHandler)})
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("StartRunner = %v, want error %q", err, tc.wantErr)
			}
			if r != nil {
				if err := r.Ready(context.Background()); err != nil {
					t.Errorf("Ready = %v", err)
				}
			}
		})
	}
}

type removedCount []int

func (r *removedCount) ContainersRemoved(n int) { *r = append(*r, n) }

func TestPrepareRemovesLeftovers(t *testing.T) {
	for _, tc := range []struct {
		name, ps    string
		wantRemoved []int
		wantErr     string
	}{
		{"two left behind", "c1 \\nc2 \\n", []int{2}, ""},
		{"none", "", []int{0}, ""},
		{"podman fails", "FAIL", nil, "remove leftover containers: list leftover containers: podman ps: exit 125: cannot connect"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var removed removedCount
			r, err := NewRunner(fakeCommander(t, fakeBin(t, tc.ps, "x")), RunnerOptions{Removed: &removed, Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				t.Fatal(err)
			}
			err = r.Prepare(context.Background())
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || err.Error() != tc.wantErr) {
				t.Fatalf("Prepare = %v, want error %q", err, tc.wantErr)
			}
			if fmt.Sprint(removed) != fmt.Sprint(tc.wantRemoved) {
				t.Errorf("removed %v, want %v", removed, tc.wantRemoved)
			}
		})
	}
}
