package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/refinery/refinery-worker/internal/testkit/testsvc"
)

const redisBenchItems = 2000

// BenchmarkRedisIntake compares, on one redis-server, (a) the worker wired as
// serve wires it (QUEUE_BACKEND=redis, default BUILD_CONCURRENCY, stub runner)
// consuming items pushed with RPUSH, with (b) a bare consumer: BLMOVE to a
// processing list, one line appended to a file, LREM (the ack). Goal: (a) at
// least 80% of (b).
func BenchmarkRedisIntake(b *testing.B) {
	b.Run("worker", func(b *testing.B) {
		var total time.Duration
		for range b.N {
			total += runRedisWorker(b, benchDir(b), redisBenchItems)
		}
		b.ReportMetric(float64(b.N*redisBenchItems)/total.Seconds(), "items/s")
	})
	// OUTPUT_DIR (a job log per item) on /dev/shm: see runWorkerDrainTmpfs
	// for why file creation on this VM's disk swings so much.
	b.Run("worker_files_on_tmpfs", func(b *testing.B) {
		var total time.Duration
		for range b.N {
			dir, err := os.MkdirTemp("/dev/shm", "refinery-bench-")
			if err != nil {
				b.Skipf("no /dev/shm: %v", err)
			}
			total += runRedisWorker(b, dir, redisBenchItems)
			_ = os.RemoveAll(dir)
		}
		b.ReportMetric(float64(b.N*redisBenchItems)/total.Seconds(), "items/s")
	})
	b.Run("bare_consumer", func(b *testing.B) {
		var total time.Duration
		for range b.N {
			total += runBareRedisConsumer(b, redisBenchItems)
		}
		b.ReportMetric(float64(b.N*redisBenchItems)/total.Seconds(), "items/s")
	})
}

// pushItems RPUSHes n items to key, as the control-plane does.
func pushItems(tb testing.TB, c *redis.Client, key string, n int) {
	tb.Helper()
	vals := make([]any, n)
	for i := range vals {
		vals[i] = fmt.Sprintf(`{"package":"pkg%d","version":"1.0"}`, i)
	}
	mustT(tb, c.RPush(context.Background(), key, vals...).Err())
}

func runRedisWorker(b *testing.B, dir string, n int) time.Duration {
	b.StopTimer()
	r := testsvc.StartRedis(b)
	s := startServeWorker(b, dir, n, "QUEUE_BACKEND=redis", "REDIS_URL="+r.URL)
	defer func() { mustT(b, s.w.shutdown(10*time.Second)) }()
	c := redis.NewClient(&redis.Options{Addr: r.Addr})
	defer c.Close()
	pushItems(b, c, s.cfg.RedisKey, n)
	b.StartTimer()
	start := time.Now()
	_, _, err := s.w.drainer.Start(context.Background())
	mustT(b, err)
	s.waitSettled(b, n, 5*time.Minute)
	elapsed := time.Since(start)
	b.StopTimer()
	return elapsed
}

// runBareRedisConsumer is the least a safe consumer does per item: move it
// to a processing list, record it, remove it.
func runBareRedisConsumer(b *testing.B, n int) time.Duration {
	b.StopTimer()
	r := testsvc.StartRedis(b)
	c := redis.NewClient(&redis.Options{Addr: r.Addr})
	defer c.Close()
	ctx := context.Background()
	pushItems(b, c, "q", n)
	f, err := os.Create(filepath.Join(benchDir(b), "records"))
	mustT(b, err)
	defer f.Close()
	bw := bufio.NewWriter(f)
	b.StartTimer()
	start := time.Now()
	for range n {
		raw, err := c.BLMove(ctx, "q", "q:processing", "LEFT", "RIGHT", time.Second).Result()
		mustT(b, err)
		fmt.Fprintln(bw, raw)
		mustT(b, bw.Flush())
		mustT(b, c.LRem(ctx, "q:processing", 1, raw).Err())
	}
	elapsed := time.Since(start)
	b.StopTimer()
	return elapsed
}
