package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/refinery/refinery-worker/internal/config"
	"github.com/refinery/refinery-worker/internal/testkit/testsvc"
	"github.com/refinery/refinery-worker/pipeline"
)

// latencyRounds is how many items each latency run pushes, one at a time.
const latencyRounds = 30

// BenchmarkPushToOutcome measures, for the Redis and Kafka intakes, the time
// from an item pushed (RPUSH, as the control-plane does; a plain producer
// record) to its outcome recorded by a worker that was idle with a free build
// slot: an upper bound of push-to-build-start, which must stay under one
// second (issue 5). Beside it, the baseline: the same push taken by a bare
// consumer of the same server (BLPOP; a franz-go consumer already polling).
// It reports the median and the worst of latencyRounds pushes in ms.
func BenchmarkPushToOutcome(b *testing.B) {
	for _, backend := range []string{"redis", "kafka"} {
		b.Run(backend+"/worker", func(b *testing.B) {
			var lat []time.Duration
			for range b.N {
				lat = workerLatency(b, backend)
			}
			reportLatency(b, lat)
		})
		b.Run(backend+"/bare_consumer", func(b *testing.B) {
			var lat []time.Duration
			for range b.N {
				lat = bareLatency(b, backend)
			}
			reportLatency(b, lat)
		})
	}
}

func reportLatency(b *testing.B, lat []time.Duration) {
	slices.Sort(lat)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(lat[len(lat)/2]), "p50-ms")
	b.ReportMetric(ms(lat[len(lat)-1]), "max-ms")
	b.ReportMetric(0, "ns/op")
}

// pusher sends one raw item to the intake of backend.
type pusher func(item []byte)

func intakeFor(b *testing.B, backend string) (env []string, push pusher, closeFn func()) {
	b.Helper()
	switch backend {
	case "redis":
		r := testsvc.StartRedis(b)
		return []string{"QUEUE_BACKEND=redis", "REDIS_URL=" + r.URL}, func(item []byte) {
			if _, err := r.Do(context.Background(), "RPUSH", "refinery:queue", string(item)); err != nil {
				b.Fatal(err)
			}
		}, func() {}
	default:
		k := testsvc.StartKafka(b, testsvc.KafkaOptions{Topics: []string{"refinery.queue"}})
		cl, err := kgo.NewClient(kgo.SeedBrokers(k.Brokers...), kgo.DefaultProduceTopic("refinery.queue"))
		must(b, err)
		return []string{"QUEUE_BACKEND=kafka", "KAFKA_BROKERS=" + k.Brokers[0]}, func(item []byte) {
			if err := cl.ProduceSync(context.Background(), &kgo.Record{Value: item}).FirstErr(); err != nil {
				b.Fatal(err)
			}
		}, cl.Close
	}
}

// workerLatency starts an idle worker on the intake and pushes
// latencyRounds items one at a time, each once the previous has settled.
func workerLatency(b *testing.B, backend string) []time.Duration {
	b.StopTimer()
	intakeEnv, push, closeIntake := intakeFor(b, backend)
	defer closeIntake()
	dir := benchDir(b)
	cfg, err := config.Load(append([]string{
		"OUTPUT_DIR=" + filepath.Join(dir, "out"), "CACHE_DIR=" + filepath.Join(dir, "cache"),
		"LOG_LEVEL=error", "BUILD_CONCURRENCY=1",
	}, intakeEnv...))
	must(b, err)
	plan := pipeline.Plan{RunID: "latency"}
	for i := range latencyRounds {
		plan.Nodes = append(plan.Nodes, pipeline.PlanNode{Name: fmt.Sprintf("lat%d", i), Version: "1.0",
			PythonTag: "cp311", PlatformTag: "manylinux2014_s390x", Action: "build"})
	}
	must(b, os.MkdirAll(cfg.OutputDir, 0o755))
	pb, _ := json.Marshal(plan)
	must(b, os.WriteFile(filepath.Join(cfg.OutputDir, "plan.json"), pb, 0o644))
	settled := make(chan pipeline.Summary, latencyRounds)
	ctx := context.Background()
	w, err := newWorker(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), workerOptions{continuous: true,
		onSettled: func(_ string, s pipeline.Summary) { settled <- s }})
	must(b, err)
	must(b, w.start(ctx))
	defer func() { must(b, w.shutdown(10*time.Second)) }()
	_, _, err = w.drainer.Start(ctx)
	must(b, err)
	var lat []time.Duration
	b.StartTimer()
	for i := range latencyRounds {
		start := time.Now()
		push(fmt.Appendf(nil, `{"package":"lat%d","version":"1.0"}`, i))
		select {
		case s := <-settled:
			lat = append(lat, time.Since(start))
			if s.Name != fmt.Sprintf("lat%d", i) || s.Status != "skipped" {
				b.Fatalf("outcome %+v, want lat%d skipped", s, i)
			}
		case <-time.After(30 * time.Second):
			b.Fatalf("item %d: no outcome 30 s after the push", i)
		}
	}
	b.StopTimer()
	return lat
}

// bareLatency is the baseline: a push taken by a plain consumer.
func bareLatency(b *testing.B, backend string) []time.Duration {
	b.StopTimer()
	var lat []time.Duration
	switch backend {
	case "redis":
		r := testsvc.StartRedis(b)
		b.StartTimer()
		for range latencyRounds {
			start := time.Now()
			if _, err := r.Do(context.Background(), "RPUSH", "q", "{}"); err != nil {
				b.Fatal(err)
			}
			if _, err := r.Do(context.Background(), "BLPOP", "q", "5"); err != nil {
				b.Fatal(err)
			}
			lat = append(lat, time.Since(start))
		}
	default:
		k := testsvc.StartKafka(b, testsvc.KafkaOptions{Topics: []string{"bare"}})
		prod, err := kgo.NewClient(kgo.SeedBrokers(k.Brokers...), kgo.DefaultProduceTopic("bare"))
		must(b, err)
		defer prod.Close()
		cons, err := kgo.NewClient(kgo.SeedBrokers(k.Brokers...), kgo.ConsumeTopics("bare"),
			kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
		must(b, err)
		defer cons.Close()
		got := make(chan struct{}, latencyRounds)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go func() {
			for ctx.Err() == nil {
				cons.PollFetches(ctx).EachRecord(func(*kgo.Record) { got <- struct{}{} })
			}
		}()
		b.StartTimer()
		for range latencyRounds {
			start := time.Now()
			if err := prod.ProduceSync(context.Background(), &kgo.Record{Value: []byte("{}")}).FirstErr(); err != nil {
				b.Fatal(err)
			}
			select {
			case <-got:
			case <-time.After(30 * time.Second):
				b.Fatal("bare consumer: no record 30 s after the produce")
			}
			lat = append(lat, time.Since(start))
		}
	}
	b.StopTimer()
	return lat
}
