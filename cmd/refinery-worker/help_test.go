package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/refinery/refinery-worker/internal/cli"
)

// --help and -h print usage and exit 0 without starting anything (no
// directory created, no queue drained); COMMAND --help lists its flags.
func TestHelpPrintsUsageAndStartsNothing(t *testing.T) {
	cases := []struct {
		args []string
		want []string
	}{
		{[]string{"--help"}, []string{"usage: refinery-worker", "serve", "drain", "enqueue", "COMMAND --help"}},
		{[]string{"-h"}, []string{"usage: refinery-worker", "replay"}},
		{[]string{"help"}, []string{"usage: refinery-worker"}},
		{[]string{"serve", "--help"}, []string{"usage: refinery-worker serve", "takes no flags"}},
		{[]string{"drain", "-h"}, []string{"usage: refinery-worker drain", "takes no flags"}},
		{[]string{"enqueue", "--help"}, []string{"-package", "-version", "-python-tag", "-platform-tag", "-recipes", "-attempts"}},
		{[]string{"enqueue", "--package", "x", "-h"}, []string{"-package"}},
		{[]string{"plan", "--help"}, []string{"-requirements"}},
		{[]string{"replay", "-help"}, []string{"-stage", "-from", "-to", "-package", "-dry-run"}},
		{[]string{"help", "enqueue"}, []string{"-package"}},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			d := t.TempDir()
			environ := []string{"OUTPUT_DIR=" + filepath.Join(d, "out"), "CACHE_DIR=" + filepath.Join(d, "cache"),
				"QUEUE_FILE=" + filepath.Join(d, "q", "retry_queue.json"), "WORKER_HTTP_ADDR=127.0.0.1:0", "LOG_LEVEL=warn"}
			// Bounded: a --help that starts the server returns when this ends.
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			var o, e bytes.Buffer
			code := run(ctx, tc.args, environ, strings.NewReader(""), &o, &e)
			if code != cli.ExitOK {
				t.Errorf("exit code %d, want 0; stderr:\n%s", code, e.String())
			}
			for _, w := range tc.want {
				if !strings.Contains(o.String(), w) {
					t.Errorf("help does not show %q:\n%s", w, o.String())
				}
			}
			if left, _ := os.ReadDir(d); len(left) != 0 {
				t.Errorf("help created %d entries in the configured directories (%s...)", len(left), left[0].Name())
			}
		})
	}
}

// A command that takes no flags refuses arguments instead of ignoring them.
func TestCommandsWithoutFlagsRefuseArguments(t *testing.T) {
	for _, args := range [][]string{{"--verbose"}, {"drain", "--dry-run"}, {"config", "extra"}} {
		d := t.TempDir()
		environ := []string{"OUTPUT_DIR=" + filepath.Join(d, "out"), "CACHE_DIR=" + filepath.Join(d, "cache"),
			"QUEUE_FILE=" + filepath.Join(d, "q.json"), "WORKER_HTTP_ADDR=127.0.0.1:0", "LOG_LEVEL=warn"}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		var o, e bytes.Buffer
		code := run(ctx, args, environ, strings.NewReader(""), &o, &e)
		cancel()
		if code != cli.ExitUsage || !strings.Contains(e.String(), "takes no arguments") {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and 'takes no arguments'", args, code, e.String())
		}
	}
}
