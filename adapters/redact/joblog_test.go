package redact_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/refinery/refinery-worker/adapters/joblog"
	"github.com/refinery/refinery-worker/adapters/redact"
	"github.com/refinery/refinery-worker/pipeline"
)

func TestLogOpenerMasksSplitSecrets(t *testing.T) {
	opener := redact.LogOpener{Inner: joblog.NewOpener(filepath.Join(t.TempDir(), "logs")), Redactor: redact.New("hunter2-secret")}
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
