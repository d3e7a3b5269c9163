package podman

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/refinery/refinery-worker/internal/testkit/cpuuse"
)

// floorConcurrency is the concurrency of BenchmarkCompare's worker.
const floorConcurrency = 2

// BenchmarkRunnerFloor is what starting a podman client costs this process
// by itself, with BenchmarkCompare's stand-in (a shell script that exits at
// once), two at a time:
//   - start-wait: os.StartProcess with /dev/null as stdin, stdout and
//     stderr, then Wait: the floor of any worker written in Go that execs a
//     client per item, two at a time;
//   - start-wait-serial: the same one at a time, the shape of Compare's
//     baseline (the Go runtime's threads cost more around two children in
//     flight than around one);
//   - runner: Runner.Run, the job log discarded: the job's build dir, the
//     client's two output pipes and their copiers, the wait, the wheel
//     lookup.
//
// BenchmarkCompare's worker figure less the runner's is what the rest of
// the worker (intake, stages, job log, manifest, settling) costs per item.
// Run it with a count: `-benchtime 2000x`.
func BenchmarkRunnerFloor(b *testing.B) {
	dir := b.TempDir()
	bin := filepath.Join(dir, "podman")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n[ \"$1\" = image ] && echo amd64\nexit 0\n"), 0o755); err != nil {
		b.Fatal(err)
	}
	devNull, err := os.Open(os.DevNull)
	if err != nil {
		b.Fatal(err)
	}
	defer devNull.Close()
	attr := &os.ProcAttr{Files: []*os.File{devNull, devNull, devNull}}
	startWait := func(int) error {
		p, err := os.StartProcess(bin, []string{"podman", "run"}, attr)
		if err != nil {
			return err
		}
		st, err := p.Wait()
		if err == nil && !st.Success() {
			err = fmt.Errorf("stand-in exited: %v", st)
		}
		return err
	}
	b.Run("start-wait", func(b *testing.B) { floorRun(b, floorConcurrency, startWait) })
	b.Run("start-wait-serial", func(b *testing.B) { floorRun(b, 1, startWait) })
	b.Run("runner", func(b *testing.B) {
		r, err := NewRunner(fakeCommander(b, bin), RunnerOptions{Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			b.Fatal(err)
		}
		floorRun(b, floorConcurrency, func(i int) error {
			// No wheel: the job fails as no_wheel, as every Compare item does.
			res := r.Run(context.Background(), newJob(fmt.Sprintf("pkg%d", i), "1.0"), io.Discard)
			if res.ExitCode != 0 {
				return fmt.Errorf("stand-in exit code %d: %s", res.ExitCode, res.Error)
			}
			return nil
		})
	})
}

// floorRun calls run b.N times, concurrency at a time, and reports the
// CPU, context switches and page faults of this process per call.
func floorRun(b *testing.B, concurrency int, run func(i int) error) {
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, concurrency)
	start := cpuuse.Now()
	b.ResetTimer()
	for range concurrency {
		wg.Go(func() {
			for i := int(next.Add(1)); i <= b.N; i = int(next.Add(1)) {
				if err := run(i); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	cpuuse.Since(start).Report(b, b.N)
}
