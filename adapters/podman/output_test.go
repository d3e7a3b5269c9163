package podman

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/refinery/refinery-worker/pipeline"
)

// A line one stream writes in pieces reaches the log whole, whatever the
// other stream writes in between (a secret split across two writes of
// stderr is then masked whole; one pipe for both streams split it).
func TestStreamLinesAreNotSplitByTheOtherStream(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "podman")
	script := "#!/bin/sh\n[ \"$1\" = run ] || exit 0\n" +
		"printf 'split tok-5b' >&2\n" +
		"echo 'a whole stdout line'\n" +
		"printf '7e9c1d2a on stderr\\n' >&2\n" +
		"exit 3\n"
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	r, err := NewRunner(fakeCommander(t, bin), RunnerOptions{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	var log strings.Builder
	res := r.Run(context.Background(), newJob("split", "1.0"), &log)
	if res.Reason != pipeline.ReasonExit || res.ExitCode != 3 {
		t.Fatalf("result %+v", res)
	}
	lines := strings.Split(log.String(), "\n")
	for _, want := range []string{"split tok-5b7e9c1d2a on stderr", "a whole stdout line"} {
		if !slices.Contains(lines, want) {
			t.Errorf("no line %q in the log:\n%s", want, log.String())
		}
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
