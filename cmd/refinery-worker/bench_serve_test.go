package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/refinery/refinery-worker/adapters/filequeue"
	"github.com/refinery/refinery-worker/internal/config"
	"github.com/refinery/refinery-worker/pipeline"
)

// serveWorker is an in-process worker wired as `serve` wires it (continuous),
// with its defaults, the stub runner and a file queue.
type serveWorker struct {
	w       *worker
	cfg     Config
	settled atomic.Int64
	each    chan string // names as they settle
}

// startServeWorker queues n items and starts a worker as serve does.
// MONITOR_TIMER_SLACK_US in this process's environment is passed on (to
// compare a run with the monitor's slack set against one without).
func startServeWorker(tb testing.TB, dir string, n int, extra ...string) *serveWorker {
	tb.Helper()
	if v := os.Getenv("MONITOR_TIMER_SLACK_US"); v != "" {
		extra = append([]string{"MONITOR_TIMER_SLACK_US=" + v}, extra...)
	}
	cfg, err := config.Load(append([]string{
		"QUEUE_FILE=" + filepath.Join(dir, "q.json"), "OUTPUT_DIR=" + filepath.Join(dir, "out"),
		"CACHE_DIR=" + filepath.Join(dir, "cache"), "LOG_LEVEL=error",
	}, extra...))
	if err != nil {
		tb.Fatal(err)
	}
	queue := make([]json.RawMessage, n)
	plan := pipeline.Plan{RunID: "bench"}
	for i := range queue {
		queue[i] = json.RawMessage(fmt.Sprintf(`{"package":"pkg%d","version":"1.0","enqueued_at":1795721514}`, i))
		plan.Nodes = append(plan.Nodes, pipeline.PlanNode{Name: fmt.Sprintf("pkg%d", i), Version: "1.0", PythonTag: "cp311",
			PlatformTag: "manylinux2014_s390x", Action: "build"})
	}
	plan.Nodes = append(plan.Nodes, pipeline.PlanNode{Name: "late", Version: "1.0", PythonTag: "cp311",
		PlatformTag: "manylinux2014_s390x", Action: "build"})
	mustT(tb, os.MkdirAll(cfg.OutputDir, 0o755))
	qb, _ := json.Marshal(queue)
	mustT(tb, os.WriteFile(cfg.QueueFile, qb, 0o644))
	pb, _ := json.Marshal(plan)
	mustT(tb, os.WriteFile(filepath.Join(cfg.OutputDir, "plan.json"), pb, 0o644))
	log := slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelError}))
	s := &serveWorker{cfg: cfg, each: make(chan string, n+16)}
	ctx := context.Background()
	// As run does for serve; the monitor's timer slack is put back when this
	// worker's test or benchmark ends (Compare's baseline runs without it).
	tb.Cleanup(tuneRuntime(tb.Context(), cfg, os.Environ(), log))
	w, err := newWorker(ctx, cfg, log, workerOptions{continuous: true, onSettled: func(_ string, sum pipeline.Summary) {
		s.settled.Add(1)
		s.each <- sum.Name
	}})
	mustT(tb, err)
	s.w = w
	mustT(tb, w.start(ctx))
	return s
}

// waitSettled waits for n outcomes, failing after within.
func (s *serveWorker) waitSettled(tb testing.TB, n int, within time.Duration) {
	tb.Helper()
	deadline := time.After(within)
	for range n {
		select {
		case <-s.each:
		case <-deadline:
			tb.Fatalf("%d of %d items settled after %s", s.settled.Load(), n, within)
		}
	}
}

func mustT(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}

// enqueueLate appends one item to the queue file as another process would.
func (s *serveWorker) enqueueLate(tb testing.TB) {
	tb.Helper()
	q, err := filequeue.Open(filequeue.Options{Path: s.cfg.QueueFile, Owner: "bench-enqueue"})
	mustT(tb, err)
	defer q.Close()
	mustT(tb, q.Enqueue(context.Background(), [][]byte{[]byte(`{"package":"late","version":"1.0"}`)}))
}

// In process, as serve wires it: 1,000 items queued before start are all
// recorded, then an item enqueued while idle is picked up. Timeouts bound a
// hang only; BenchmarkServeDefaultDrain holds the timing targets.
func TestServeWiringDrainsFileQueue(t *testing.T) {
	s := startServeWorker(t, t.TempDir(), 1000)
	d, _, err := s.w.drainer.Start(context.Background())
	mustT(t, err)
	s.waitSettled(t, 1000, 60*time.Second)
	start := time.Now()
	s.enqueueLate(t)
	s.waitSettled(t, 1, 30*time.Second)
	t.Logf("an item enqueued while idle settled %s after its enqueue returned", time.Since(start))
	mustT(t, s.w.shutdown(10*time.Second))
	if st := d.Status(); st.Settled != 1001 || st.Error != "" {
		t.Errorf("drain status %+v, want 1001 settled and no error", st)
	}
}

// BenchmarkServeDefaultDrain: the wiring of serve, defaults, stub runner;
// drain-s is the time until 1,000 items queued before start are recorded
// (target < 2 s); pickup-ms, from an enqueue while idle to its outcome
// (target < 100 ms).
func BenchmarkServeDefaultDrain(b *testing.B) {
	const n = 1000
	var drain, pickup time.Duration
	for range b.N {
		b.StopTimer()
		s := startServeWorker(b, benchDir(b), n)
		b.StartTimer()
		start := time.Now()
		_, _, err := s.w.drainer.Start(context.Background())
		mustT(b, err)
		s.waitSettled(b, n, time.Minute)
		drain += time.Since(start)
		b.StopTimer()
		start = time.Now()
		s.enqueueLate(b)
		s.waitSettled(b, 1, time.Minute)
		pickup += time.Since(start)
		mustT(b, s.w.shutdown(10*time.Second))
	}
	b.ReportMetric(drain.Seconds()/float64(b.N), "drain-s")
	b.ReportMetric(float64(pickup.Microseconds())/1000/float64(b.N), "pickup-ms")
}
