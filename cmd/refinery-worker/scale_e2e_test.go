package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/refinery/refinery-worker/internal/testkit/testsvc"
)

// scale runs three workers on one streaming intake, kills one in the middle,
// and checks that every item ends with exactly one manifest entry and that
// each worker took a share.
func scale(t *testing.T, e *testEnv, names []string, push func()) {
	t.Helper()
	e.writePlan(t, names)
	e.vars["BUILD_CONCURRENCY"] = "2"
	e.vars["STUB_DELAY_MAX"] = "400ms"
	var procs []*serveProc
	for i := range 3 {
		e.vars["WORKER_ID"] = fmt.Sprintf("scale-w%d", i)
		procs = append(procs, e.serve(t))
	}
	push()
	eventually(t, 60*time.Second, "a third of the items done", func() bool {
		return len(e.manifest(t))+len(journalLines(t, e.out)) >= len(names)/3
	})
	if err := procs[1].cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = procs[1].cmd.Wait()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("at the end: %d manifest entries, %d journal lines", len(e.manifest(t)), len(journalLines(t, e.out)))
		}
	})
	eventually(t, 180*time.Second, "every item recorded", func() bool { return len(e.manifest(t)) >= len(names) })
	for _, i := range []int{0, 2} {
		if code := procs[i].stop(t, syscall.SIGTERM); code != 0 {
			t.Errorf("worker %d exit %d", i, code)
		}
	}
	count, share := map[string]int{}, map[string]int{}
	for _, en := range e.manifest(t) {
		count[en.Name]++
		share[fmt.Sprint(en.Metadata["worker_id"])]++
	}
	for _, n := range names {
		if count[n] != 1 {
			var who []string
			for _, en := range e.manifest(t) {
				if en.Name == n {
					who = append(who, fmt.Sprint(en.Metadata["worker_id"], " ", en.Metadata["claim"], " ", en.Metadata["recorded_at"]))
				}
			}
			t.Errorf("%s has %d manifest entries, want 1: %v", n, count[n], who)
			for i, p := range procs {
				t.Logf("scale-w%d's log lines naming %s:\n%s", i, n, linesNaming(p.stderr.String(), n))
			}
		}
	}
	t.Logf("outcomes per worker: %v", share)
	for i := range 3 {
		if share[fmt.Sprintf("scale-w%d", i)] == 0 {
			t.Errorf("worker %d built nothing: %v", i, share)
		}
	}
}

// QUEUE_BACKEND=redis: items pushed with plain RPUSH, as the control-plane
// does, consumed continuously by three workers.
func TestRedisIntakeScale(t *testing.T) {
	requireScale(t)
	r := testsvc.StartRedis(t)
	e := newEnv(t)
	e.vars["QUEUE_BACKEND"] = "redis"
	e.vars["REDIS_URL"] = r.URL
	names := pkgNames("redis", 300)
	scale(t, e, names, func() {
		for _, it := range items(names...) {
			if _, err := r.Do(context.Background(), "RPUSH", "refinery:queue", string(it)); err != nil {
				t.Fatal(err)
			}
		}
	})
	if n, _ := r.Do(context.Background(), "LLEN", "refinery:queue"); strings.TrimPrefix(n, ":") != "0" {
		t.Errorf("LLEN refinery:queue = %s after the run", n)
	}
}

// QUEUE_BACKEND=kafka: plain producer records (JSON values, no key, no
// Watermill headers) over three partitions are consumed continuously, each
// once. (Three workers on Kafka are not asserted here: during a rebalance a
// record in flight at the old owner is processed again by the new one; see
// the notes.)
func TestKafkaIntakeConsumesPlainRecords(t *testing.T) {
	k := testsvc.StartKafka(t, testsvc.KafkaOptions{Partitions: 3, Topics: []string{"refinery.queue"}})
	e := newEnv(t)
	e.vars["QUEUE_BACKEND"] = "kafka"
	e.vars["KAFKA_BROKERS"] = k.Brokers[0]
	e.vars["BUILD_CONCURRENCY"] = "4"
	names := pkgNames("kafka", 300)
	e.writePlan(t, names)
	p := e.serve(t)
	cl, err := kgo.NewClient(kgo.SeedBrokers(k.Brokers...), kgo.DefaultProduceTopic("refinery.queue"))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	for _, it := range items(names...) {
		if err := cl.ProduceSync(context.Background(), &kgo.Record{Value: []byte(it)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, 120*time.Second, "every record processed", func() bool { return len(e.manifest(t)) >= len(names) })
	if code := p.stop(t, syscall.SIGTERM); code != 0 {
		t.Errorf("exit %d", code)
	}
	count := map[string]int{}
	for _, en := range e.manifest(t) {
		count[en.Name]++
	}
	for _, n := range names {
		if count[n] != 1 {
			t.Errorf("%s has %d manifest entries, want 1", n, count[n])
		}
	}
}

// PIPELINE_TRANSPORT=redis|kafka: the fixture drain goes through durable
// topics between the stages and ends as on the in-process transport.
func TestDurableTransportsDrainFixtures(t *testing.T) {
	t.Parallel() // own dirs, ports and worker process
	for _, tr := range []string{"redis", "kafka"} {
		t.Run(tr, func(t *testing.T) {
			e := newEnv(t)
			e.copyTestdata(t, "retry_queue.json", e.queue)
			e.copyTestdata(t, "plan.json", filepath.Join(e.out, "plan.json"))
			e.vars["PIPELINE_TRANSPORT"] = tr
			e.vars["TOPIC_PREFIX"] = "t" + tr + "."
			if tr == "redis" {
				e.vars["REDIS_URL"] = testsvc.StartRedis(t).URL
			} else {
				e.vars["KAFKA_BROKERS"] = testsvc.StartKafka(t, testsvc.KafkaOptions{}).Brokers[0]
			}
			stdout, stderr, code := e.run(t, "", "drain")
			if code != 0 {
				t.Fatalf("drain exit %d\n%s\n%s", code, stdout, stderr)
			}
			st := map[string]int{}
			for _, en := range e.manifest(t) {
				st[string(en.Status)]++
			}
			if st["skipped"] != 5 || st["reused"] != 1 || st["unmatched"] != 1 || len(e.manifest(t)) != 7 {
				t.Errorf("statuses %v, want 5 skipped, 1 reused, 1 unmatched\n%s", st, stdout)
			}
			if !strings.Contains(stdout, "skipped=5") || strings.Contains(stdout, "published") {
				t.Errorf("drain totals should count outcomes:\n%s", stdout)
			}
			if q := e.queueItems(t, e.queue); len(q) != 0 {
				t.Errorf("queue after drain: %s", q)
			}
		})
	}
}

// Three workers on a Redis intake and Redis Streams between the stages, one
// SIGKILLed: its stage messages are taken over after CLAIM_IDLE, and every
// item still ends with exactly one manifest entry.
func TestRedisTransportScale(t *testing.T) {
	requireScale(t)
	r := testsvc.StartRedis(t)
	e := newEnv(t)
	e.vars["QUEUE_BACKEND"] = "redis"
	e.vars["PIPELINE_TRANSPORT"] = "redis"
	e.vars["REDIS_URL"] = r.URL
	e.vars["CLAIM_IDLE"] = "3s"
	names := pkgNames("rstream", 300)
	scale(t, e, names, func() {
		for _, it := range items(names...) {
			if _, err := r.Do(context.Background(), "RPUSH", "refinery:queue", string(it)); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// QUEUE_BACKEND=kafka with three workers in one group, one SIGKILLed: its
// partitions go to the others after the session timeout and every record
// still ends with exactly one manifest entry. (The producer spreads records
// round-robin; kgo's default sticky partitioner would put them all on one
// partition, and so on one worker.)
func TestKafkaIntakeScale(t *testing.T) {
	requireScale(t)
	k := testsvc.StartKafka(t, testsvc.KafkaOptions{Partitions: 3, Topics: []string{"refinery.queue"}})
	e := newEnv(t)
	e.vars["QUEUE_BACKEND"] = "kafka"
	e.vars["KAFKA_BROKERS"] = k.Brokers[0]
	names := pkgNames("kscale", 300)
	scale(t, e, names, func() {
		cl, err := kgo.NewClient(kgo.SeedBrokers(k.Brokers...), kgo.DefaultProduceTopic("refinery.queue"),
			kgo.RecordPartitioner(kgo.RoundRobinPartitioner()))
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		for _, it := range items(names...) {
			if err := cl.ProduceSync(context.Background(), &kgo.Record{Value: []byte(it)}).FirstErr(); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// linesNaming returns the lines of log that name name, not as the start of a
// longer number (rstream1 is not rstream10).
func linesNaming(log, name string) string {
	var out []string
	for _, line := range strings.Split(log, "\n") {
		for rest := line; ; {
			i := strings.Index(rest, name)
			if i < 0 {
				break
			}
			rest = rest[i+len(name):]
			if rest == "" || rest[0] < '0' || rest[0] > '9' {
				out = append(out, line)
				break
			}
		}
	}
	return strings.Join(out, "\n")
}
