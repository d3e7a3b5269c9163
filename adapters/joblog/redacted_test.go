package joblog_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/refinery/refinery-worker/adapters/joblog"
	"github.com/refinery/refinery-worker/handlers"
	"github.com/refinery/refinery-worker/pipeline"
	"github.com/refinery/refinery-worker/pipeline/redact"
)

func TestLogOpenerMasksSplitSecrets(t *testing.T) {
	opener := joblog.RedactingOpener{Inner: joblog.NewOpener(filepath.Join(t.TempDir(), "logs")), Redactor: redact.New("hunter2-secret")}
	jl, err := opener.OpenJobLog(context.Background(), pipeline.Job{ID: "j", Name: "a", Version: "1", Attempt: 1})
	if err != nil {
		t.Fatal(err)
	}
	// Split across two writes of one stream.
	for range 20 {
		_, _ = jl.Write([]byte("pw=hunter2-se"))
		_, _ = jl.Write([]byte("cret end\n"))
	}
	// Concurrent streams (stdout and stderr) writing whole lines. A secret
	// split between two writes that another stream interleaves with is not
	// recognisable by anyone; this part checks serialisation (-race).
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				_, _ = jl.Write([]byte("pw=hunter2-secret end\n"))
			}
		}()
	}
	wg.Wait()
	if _, err := jl.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(jl.Path())
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "hunter2") || strings.Count(string(b), "pw=[REDACTED] end\n") != 220 {
		t.Fatalf("log file not masked as expected:\n%s", b)
	}
}

// What the build stage takes from a redacted log for the manifest (its tail)
// and the texts it masks with it (error, metadata) hold no secret.
func TestLogOpenerTailAndMaskHideSecrets(t *testing.T) {
	jl := closedRedactedLog(t)
	if tail := strings.Join(jl.Tail(5), "\n"); tail != "error: token [REDACTED] rejected" {
		t.Errorf("Tail = %q", tail)
	}
	m, ok := jl.(interface{ Mask(string) string })
	if !ok {
		t.Fatal("redacted job log does not offer Mask (handlers.TextMasker)")
	}
	if got := m.Mask("podman: bad url http://u:hunter2-secret@x"); got != "podman: bad url http://u:[REDACTED]@x" {
		t.Errorf("Mask = %q", got)
	}
}

func TestNewMaskedOpenerMasksOnlyWithSecrets(t *testing.T) {
	for _, tc := range []struct {
		name    string
		red     *redact.Redactor
		wantMsk bool
	}{
		{"no redactor", nil, false},
		{"nothing to mask", redact.New(), false},
		{"secrets", redact.New("s3cr3t-token-value"), true},
	} {
		_, masked := joblog.NewMaskedOpener(t.TempDir(), tc.red).(joblog.RedactingOpener)
		if masked != tc.wantMsk {
			t.Errorf("%s: redacting %v, want %v", tc.name, masked, tc.wantMsk)
		}
	}
}

// closedRedactedLog is a closed redacted job log whose one line had the
// secret "hunter2-secret" split across two writes.
func closedRedactedLog(t *testing.T) handlers.JobLog {
	t.Helper()
	opener := joblog.RedactingOpener{Inner: joblog.NewOpener(filepath.Join(t.TempDir(), "logs")), Redactor: redact.New("hunter2-secret")}
	jl, err := opener.OpenJobLog(context.Background(), pipeline.Job{ID: "j", Name: "a", Version: "1", Attempt: 1})
	if err != nil {
		t.Fatal(err)
	}
	_, _ = jl.Write([]byte("error: token hunter2-se"))
	_, _ = jl.Write([]byte("cret rejected\n"))
	if _, err := jl.Close(); err != nil {
		t.Fatal(err)
	}
	return jl
}
