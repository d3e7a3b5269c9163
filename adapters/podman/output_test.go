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
