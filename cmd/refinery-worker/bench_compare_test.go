package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/refinery/refinery-worker/internal/testkit/cpuuse"
	"github.com/refinery/refinery-worker/pipeline"
)

// fakePodman writes a podman stand-in that exits at once (no wheel: the
// worker records each job as failed, no_wheel, which costs it the same as a
// build up to the wheel lookup) and returns its path.
func fakePodman(tb testing.TB, dir string) string {
	tb.Helper()
	p := filepath.Join(dir, "podman")
	mustT(tb, os.WriteFile(p, []byte("#!/bin/sh\n[ \"$1\" = image ] && echo amd64\nexit 0\n"), 0o755))
	return p
}

// writeBenchQueue writes n items (and a plan naming them) for a drain.
func writeBenchQueue(tb testing.TB, queueFile, outDir string, n int) {
	tb.Helper()
	queue := make([]json.RawMessage, n)
	plan := pipeline.Plan{RunID: "bench"}
	for i := range queue {
		queue[i] = json.RawMessage(fmt.Sprintf(`{"package":"pkg%d","version":"1.0","enqueued_at":1795721514}`, i))
		plan.Nodes = append(plan.Nodes, pipeline.PlanNode{Name: fmt.Sprintf("pkg%d", i), Version: "1.0", PythonTag: "cp311",
			PlatformTag: "manylinux2014_x86_64", Action: "build"})
	}
	mustT(tb, os.MkdirAll(outDir, 0o755))
	qb, _ := json.Marshal(queue)
	mustT(tb, os.WriteFile(queueFile, qb, 0o644))
	pb, _ := json.Marshal(plan)
	mustT(tb, os.WriteFile(filepath.Join(outDir, "plan.json"), pb, 0o644))
}

// BenchmarkCompare runs, interleaved in one process, the worker (in process,
// as `serve` wires it, file queue, BATCH_SIZE 50, BUILD_CONCURRENCY 2, a
// podman that exits at once) and a baseline written for this comparison: a
// minimal pop-exec-record loop over the same queue and plan files (pop 50
// items by rewriting the rest of the queue, exec the same podman once per
// item, append a JSON line per outcome). It prints items/s and the CPU of
// this process per item (the exec'd podman's CPU is its own, not counted), at
// 1,000, 10,000 and 50,000 items (where the baseline's whole-queue rewrite
// per pop shows; sizes over REFINERY_BENCH_COMPARE_MAX_ITEMS are left out,
// `task bench` sets it to 10000), and on each baseline row the worker's
// figures over the baseline's of the same size, measured just before it in
// the same process.
func BenchmarkCompare(b *testing.B) {
	type figures struct{ itemsPerSec, cpuPerItem float64 }
	maxItems := envInt("REFINERY_BENCH_COMPARE_MAX_ITEMS", 50000)
	for _, n := range []int{1000, 10000, 50000} {
		if n > maxItems {
			continue
		}
		var worker *figures // the worker's row of this size, when it ran
		for _, c := range []struct {
			name string
			run  func(*testing.B, string, int) time.Duration
		}{{"worker", runCompareWorker}, {"baseline", runBaseline}} {
			b.Run(fmt.Sprintf("%d/%s", n, c.name), func(b *testing.B) {
				var wall time.Duration
				start := cpuuse.Now()
				for range b.N {
					wall += c.run(b, benchDir(b), n)
				}
				used := cpuuse.Since(start)
				f := figures{float64(b.N*n) / wall.Seconds(), used.PerItem(b.N * n)}
				b.ReportMetric(f.itemsPerSec, "items/s")
				used.Report(b, b.N*n)
				if c.name == "worker" {
					worker = &f
				} else if worker != nil {
					b.ReportMetric(worker.itemsPerSec/f.itemsPerSec, "worker/baseline-items/s")
					b.ReportMetric(worker.cpuPerItem/f.cpuPerItem, "worker/baseline-cpu")
				}
			})
		}
	}
}

func runCompareWorker(b *testing.B, dir string, n int) time.Duration {
	return timedServeDrain(b, dir, n, "PODMAN_BIN="+fakePodman(b, dir))
}

// timedServeDrain drains n items through the worker as serve wires it
// (BUILD_CONCURRENCY 2, the runner that runnerEnv selects) and returns the
// drain's wall time; the timer runs for the drain only.
func timedServeDrain(b *testing.B, dir string, n int, runnerEnv ...string) time.Duration {
	b.StopTimer()
	s := startServeWorker(b, dir, 0, append(runnerEnv, "BUILD_CONCURRENCY=2", "PLATFORM_TAG=manylinux2014_x86_64")...)
	writeBenchQueue(b, s.cfg.QueueFile, s.cfg.OutputDir, n)
	s.each = make(chan string, n+16)
	b.StartTimer()
	start := time.Now()
	_, _, err := s.w.drainer.Start(context.Background())
	mustT(b, err)
	s.waitSettled(b, n, 10*time.Minute)
	elapsed := time.Since(start)
	b.StopTimer()
	mustT(b, s.w.shutdown(10*time.Second))
	return elapsed
}

// runBaseline is the minimal loop: pop a batch, exec per item, record.
func runBaseline(b *testing.B, dir string, n int) time.Duration {
	b.StopTimer()
	queueFile, out := filepath.Join(dir, "q.json"), filepath.Join(dir, "out")
	writeBenchQueue(b, queueFile, out, n)
	podman := fakePodman(b, dir)
	mf, err := os.OpenFile(filepath.Join(out, "manifest.jsonl"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	mustT(b, err)
	defer mf.Close()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	b.StartTimer()
	start := time.Now()
	done := 0
	for {
		data, err := os.ReadFile(queueFile)
		mustT(b, err)
		var items []json.RawMessage
		mustT(b, json.Unmarshal(data, &items))
		if len(items) == 0 {
			break
		}
		batch := items[:min(50, len(items))]
		rest, _ := json.Marshal(items[len(batch):])
		mustT(b, os.WriteFile(queueFile, rest, 0o644))
		bw := bufio.NewWriter(mf)
		for _, raw := range batch {
			var it struct {
				Package string `json:"package"`
				Version string `json:"version"`
			}
			mustT(b, json.Unmarshal(raw, &it))
			cmd := exec.Command(podman, "run", "--rm", "-e", "JOB_NAME="+it.Package, "-e", "JOB_VERSION="+it.Version,
				"localhost/refinery-builder-debian:latest")
			status := "built"
			if err := cmd.Run(); err != nil {
				status = "failed"
				log.Warn("job", "err", err)
			}
			line, _ := json.Marshal(map[string]string{"name": it.Package, "version": it.Version, "status": status})
			bw.Write(append(line, '\n'))
			done++
		}
		mustT(b, bw.Flush())
	}
	elapsed := time.Since(start)
	b.StopTimer()
	if done != n {
		b.Fatalf("baseline recorded %d of %d", done, n)
	}
	return elapsed
}
