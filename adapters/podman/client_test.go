package podman

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/refinery/refinery-worker/pipeline"
)

// A process the client started and left running still holds the client's
// stdout and stderr: the run ends once the client has exited (the output
// is given drainGrace to finish), not when the build's timeout cuts it.
// Everything written before the client exited is in the log.
func TestClientGoneWhileAnotherProcessHoldsItsOutput(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bin, pidFile := filepath.Join(dir, "podman"), filepath.Join(dir, "holder.pid")
	script := fmt.Sprintf("#!/bin/sh\necho out-before-exit\necho err-before-exit >&2\nsleep 600 &\necho $! > %s\nexit 0\n", pidFile)
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if b, err := os.ReadFile(pidFile); err == nil {
			if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	})
	cmd := fakeCommander(t, bin)
	cmd.opts.Timeout = 5 * time.Minute
	r, err := NewRunner(cmd, RunnerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	w := newWatchWriter("")
	res := r.Run(context.Background(), newJob("holder", "1.0"), w)
	if res.ExitCode != 0 || res.Reason != pipeline.ReasonNoWheel {
		t.Fatalf("result %+v, want exit code 0 and %s (the client exited; no wheel)\nlog:\n%s", res, pipeline.ReasonNoWheel, w)
	}
	for _, want := range []string{"out-before-exit\n", "err-before-exit\n"} {
		if !strings.Contains(w.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, w)
		}
	}
}
