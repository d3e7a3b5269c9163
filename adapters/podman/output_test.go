package podman

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/refinery/refinery-worker/pipeline"
)

// The client's stdout and stderr reach the log in the order it wrote them,
// each line whole, as a terminal would show them.
func TestClientOutputKeepsItsOrder(t *testing.T) {
	var script strings.Builder
	script.WriteString("#!/bin/sh\n[ \"$1\" = run ] || exit 0\n")
	var want strings.Builder
	for i := range 50 {
		stream := []string{"out", "err"}[i%2]
		redirect := map[string]string{"out": "", "err": " >&2"}[stream]
		line := stream + " line " + string(rune('a'+i%26))
		script.WriteString("echo '" + line + "'" + redirect + "\n")
		want.WriteString(line + "\n")
	}
	script.WriteString("exit 3\n")
	bin := filepath.Join(t.TempDir(), "podman")
	if err := os.WriteFile(bin, []byte(script.String()), 0o755); err != nil {
		t.Fatal(err)
	}
	r, err := NewRunner(fakeCommander(t, bin), RunnerOptions{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	var log strings.Builder
	res := r.Run(context.Background(), newJob("ordered", "1.0"), &log)
	if res.Reason != pipeline.ReasonExit || res.ExitCode != 3 {
		t.Fatalf("result %+v", res)
	}
	got := log.String()
	if i := strings.Index(got, "out line a\n"); i < 0 || !strings.HasPrefix(got[i:], want.String()) {
		t.Errorf("log:\n%s\nwant, in this order:\n%s", got, want.String())
	}
}

// PODMAN_BIN may be a name looked up in PATH; a client that cannot be
// started fails the job with reason runner and an error naming it.
func TestClientLookupAndStartFailure(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "podman-in-path"), []byte("#!/bin/sh\n[ \"$1\" = run ] && echo from-path\nexit 4\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+":"+os.Getenv("PATH"))
	for _, tc := range []struct {
		bin, reason, inError, inLog string
		code                        int
	}{
		{bin: "podman-in-path", reason: pipeline.ReasonExit, inLog: "from-path\n", code: 4},
		{bin: "no-such-podman-anywhere", reason: pipeline.ReasonRunner, inError: "no-such-podman-anywhere", code: -1},
		{bin: filepath.Join(dir, "missing"), reason: pipeline.ReasonRunner, inError: filepath.Join(dir, "missing"), code: -1},
	} {
		t.Run(tc.bin, func(t *testing.T) {
			r, err := NewRunner(fakeCommander(t, tc.bin), RunnerOptions{Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				t.Fatal(err)
			}
			var log strings.Builder
			res := r.Run(context.Background(), newJob("lookup", "1.0"), &log)
			if res.Reason != tc.reason || res.ExitCode != tc.code || !strings.Contains(res.Error, tc.inError) || !strings.Contains(log.String(), tc.inLog) {
				t.Errorf("result %+v, log %q", res, log.String())
			}
		})
	}
}
