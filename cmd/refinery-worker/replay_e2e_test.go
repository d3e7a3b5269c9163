package main

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/refinery/refinery-worker/internal/cli"
	"github.com/refinery/refinery-worker/internal/testkit/testsvc"
)

func TestReplayRefusesMemoryTransport(t *testing.T) {
	e := newEnv(t)
	_, stderr, code := e.run(t, "", "replay", "--stage", "build", "--from", "start")
	if code != cli.ExitUsage || !strings.Contains(stderr, "needs redis or kafka") {
		t.Errorf("replay on memory = %d %q, want a usage error saying it needs redis or kafka", code, stderr)
	}
}

// After a drain on Redis Streams, replaying the build stage for lxml builds
// lxml again and nothing else; replaying report re-sends without a build.
func TestReplayBuildAndReportStages(t *testing.T) {
	t.Parallel() // own dirs, ports and worker process
	e := newEnv(t)
	e.copyTestdata(t, "retry_queue.json", e.queue)
	e.copyTestdata(t, "plan.json", filepath.Join(e.out, "plan.json"))
	e.vars["PIPELINE_TRANSPORT"] = "redis"
	e.vars["REDIS_URL"] = testsvc.StartRedis(t).URL
	p := e.serve(t)
	eventually(t, 60*time.Second, "the first drain", func() bool { return len(e.manifest(t)) == 7 })
	logsBefore, _ := filepath.Glob(filepath.Join(e.out, "logs", "*"))

	out, stderr, code := e.run(t, "", "replay", "--stage", "build", "--from", "start", "--package", "lxml", "--dry-run")
	if code != 0 || !strings.Contains(out, "would publish 1") {
		t.Fatalf("dry run = %d\n%s\n%s", code, out, stderr)
	}
	if out, stderr, code := e.run(t, "", "replay", "--stage", "build", "--from", "start", "--package", "lxml"); code != 0 {
		t.Fatalf("replay build = %d\n%s\n%s", code, out, stderr)
	}
	eventually(t, 60*time.Second, "lxml built again", func() bool { return len(e.manifest(t)) == 8 })
	if out, stderr, code := e.run(t, "", "replay", "--stage", "report", "--from", "start", "--package", "numpy"); code != 0 {
		t.Fatalf("replay report = %d\n%s\n%s", code, out, stderr)
	}
	eventually(t, 60*time.Second, "numpy reported again", func() bool { return len(e.manifest(t)) == 9 })
	p.stop(t, syscall.SIGTERM)

	count := map[string]int{}
	for _, en := range e.manifest(t) {
		count[en.Name]++
	}
	if count["lxml"] != 2 || count["numpy"] != 2 || len(e.manifest(t)) != 9 {
		t.Errorf("entries per package after replays: %v", count)
	}
	logsAfter, _ := filepath.Glob(filepath.Join(e.out, "logs", "*"))
	if len(logsAfter) != len(logsBefore)+1 {
		t.Errorf("job logs %d -> %d: want exactly one new build (lxml), none for the report replay", len(logsBefore), len(logsAfter))
	}
}
