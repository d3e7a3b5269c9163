package handlers_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/refinery/refinery-worker/adapters/joblog"
	"github.com/refinery/refinery-worker/handlers"
	"github.com/refinery/refinery-worker/pipeline"
)

// Identical items built one after another each keep their own job id, so
// their logs (and containers) never collide; the same claim and attempt
// (a redelivery) keeps its id.
func TestJobIDIsUniquePerClaimAndAttempt(t *testing.T) {
	node := pipeline.PlanNode{Name: "six", Version: "1.16.0", PythonTag: "cp311", PlatformTag: "manylinux2014_s390x", Action: "build"}
	match := func(claim string, attempts int) *pipeline.Job {
		t.Helper()
		req, err := pipeline.ValidateItem(pipeline.Item{Package: "six", Version: "1.16.0", Attempts: attempts})
		if err != nil {
			t.Fatal(err)
		}
		w := &pipeline.Work{Claim: claim, CorrelationID: "corr-" + claim, Request: req,
			Plan: &pipeline.PlanRef{RunID: "r", Nodes: []pipeline.PlanNode{node}}}
		if next, err := handlers.NewMatch(handlers.MatchDefaults{PythonVersion: "3.11"}).Handle(context.Background(), w); err != nil || next != pipeline.TopicJobs {
			t.Fatalf("match: %q %v", next, err)
		}
		return w.Job
	}
	first, second := match("claim-1", 0), match("claim-2", 0)
	if first.ID == second.ID {
		t.Fatalf("two claims of identical items share job id %s", first.ID)
	}
	if again := match("claim-1", 0); again.ID != first.ID {
		t.Errorf("the same claim and attempt got job ids %s and %s", first.ID, again.ID)
	}
	if retry := match("claim-1", 1); retry.ID == first.ID && retry.Attempt == first.Attempt {
		t.Errorf("the next attempt is indistinguishable: id %s attempt %d", retry.ID, retry.Attempt)
	}
	// What the user sees: each build keeps its own log file.
	opener := joblog.NewOpener(filepath.Join(t.TempDir(), "logs"))
	var paths []string
	for i, j := range []*pipeline.Job{first, second} {
		jl, err := opener.OpenJobLog(context.Background(), *j)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = jl.Write([]byte("build " + string(rune('A'+i)) + "\n"))
		if _, err := jl.Close(); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, jl.Path())
	}
	for i, p := range paths {
		b, err := os.ReadFile(p)
		if want := "build " + string(rune('A'+i)) + "\n"; err != nil || string(b) != want {
			t.Errorf("log %s = %q (%v), want %q", p, b, err, want)
		}
	}
}
