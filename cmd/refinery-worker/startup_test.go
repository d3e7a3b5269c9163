package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/refinery/refinery-worker/internal/cli"
)

// runInProcess runs the command in this process and returns its output and
// exit code.
func runInProcess(t *testing.T, e *testEnv, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var o, er bytes.Buffer
	code = run(context.Background(), args, e.environ(), strings.NewReader(""), &o, &er)
	return o.String(), er.String(), code
}

// A start-up error is a message naming the variable or path, with exit code
// 2, never a panic; what was opened before it is closed again.
func TestStartupErrorsAreMessages(t *testing.T) {
	cases := []struct {
		name  string
		setup func(e *testEnv)
		want  []string
	}{
		{"output dir not creatable", func(e *testEnv) { e.vars["OUTPUT_DIR"] = "/proc/nonexist" },
			[]string{"OUTPUT_DIR", "/proc/nonexist"}},
		{"queue file under a file", func(e *testEnv) { e.vars["QUEUE_FILE"] = "/etc/hostname/q.json" },
			[]string{"QUEUE_FILE", "/etc/hostname/q.json"}},
		{"worker id with slashes", func(e *testEnv) { e.vars["WORKER_ID"] = "../../x" }, []string{"WORKER_ID", "../../x"}},
		{"rejections file is a directory", func(e *testEnv) {
			if err := os.MkdirAll(filepath.Join(e.out, "rejected.jsonl"), 0o755); err != nil {
				t.Fatal(err)
			}
		}, []string{"rejected.jsonl"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			tc.setup(e)
			for _, cmd := range []string{"drain", "serve"} {
				_, stderr, code := runInProcess(t, e, cmd)
				if code != cli.ExitUsage {
					t.Errorf("%s: exit code %d, want %d; stderr:\n%s", cmd, code, cli.ExitUsage, stderr)
				}
				for _, w := range tc.want {
					if !strings.Contains(stderr, w) {
						t.Errorf("%s: stderr does not name %q:\n%s", cmd, w, stderr)
					}
				}
			}
			// The file queue opened before the failure was closed: its owner
			// lock file is gone.
			owners, _ := filepath.Glob(e.queue + ".owners/*.lock")
			if len(owners) != 0 {
				t.Errorf("owner lock files left after a failed start: %v", owners)
			}
		})
	}
}
