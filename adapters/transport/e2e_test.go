package transport

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/redis/go-redis/v9"

	"github.com/refinery/refinery-worker/adapters/kafkaqueue"
	"github.com/refinery/refinery-worker/adapters/redisqueue"
	"github.com/refinery/refinery-worker/internal/testkit/testsvc"
	"github.com/refinery/refinery-worker/pipeline"
)

// e2eWorker is one worker as cmd/ would wire it on a durable transport: an
// intake fed continuously into the intake topic by Feed (each item released
// once its message is stored, docs/architecture.md invariant 1), the real pipeline
// router, and a build stage that acks at once and builds in the background.
type e2eWorker struct {
	name    string
	intake  pipeline.Intake
	closeIn func() error
	tr      pipeline.Transport
	closeTr func() error
	router  *message.Router
	pub     *pipeline.Publisher
	killed  atomic.Bool
	running atomic.Int32 // builds in progress
	stop    chan struct{}
	fed     chan struct{}
	routed  chan error
}

// e2eRecord is what every worker saw.
type e2eRecord struct {
	mu       sync.Mutex
	builds   map[string]int      // package → builds finished and published
	lost     map[string]bool     // builds a killed worker never finished
	by       map[string][]string // package → worker:correlation id of each build
	reports  map[string]int      // package → reports
	rejected int
	reported chan struct{}
}

func (w *e2eWorker) stages(rec *e2eRecord, buildTime time.Duration, slots int) pipeline.Stages {
	sem := make(chan struct{}, slots)
	dead := errors.New("worker killed")
	return pipeline.Stages{
		Dequeue: func(_ context.Context, wk *pipeline.Work) (string, error) {
			var it struct {
				Package string `json:"package"`
			}
			if json.Unmarshal(wk.Raw, &it) != nil || it.Package == "" {
				wk.Rejection = &pipeline.Rejection{Reason: "no package"}
				return pipeline.TopicPoison, nil
			}
			wk.Request = &pipeline.Request{Name: it.Package}
			return pipeline.TopicRequests, nil
		},
		Plan: func(context.Context, *pipeline.Work) (string, error) { return pipeline.TopicPlanned, nil },
		Match: func(_ context.Context, wk *pipeline.Work) (string, error) {
			wk.Job = &pipeline.Job{Name: wk.Request.Name, Version: "1"}
			return pipeline.TopicJobs, nil
		},
		Build: func(ctx context.Context, wk *pipeline.Work) (string, error) {
			if w.killed.Load() {
				return "", dead
			}
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return "", ctx.Err()
			}
			w.running.Add(1)
			go func() {
				defer func() { <-sem; w.running.Add(-1) }()
				<-time.After(buildTime) // the build's duration
				if w.killed.Load() {
					rec.mu.Lock()
					rec.lost[wk.Job.Name] = true
					rec.mu.Unlock()
					return // died mid-build
				}
				wk.Result = &pipeline.Result{Status: pipeline.StatusBuilt}
				// Recorded before the publish: once published, the report can
				// arrive (and the test look at builds) before this goroutine
				// runs again.
				rec.mu.Lock()
				rec.builds[wk.Job.Name]++
				rec.by[wk.Job.Name] = append(rec.by[wk.Job.Name], w.name+":"+wk.CorrelationID)
				rec.mu.Unlock()
				if err := w.pub.Publish(context.Background(), pipeline.TopicResults, wk); err != nil {
					rec.mu.Lock()
					rec.builds[wk.Job.Name]--
					rec.by[wk.Job.Name] = rec.by[wk.Job.Name][:len(rec.by[wk.Job.Name])-1]
					rec.mu.Unlock()
				}
			}()
			return "", nil
		},
		Report: func(context.Context, *pipeline.Work) (string, error) {
			if w.killed.Load() {
				return "", dead
			}
			return pipeline.TopicReported, nil
		},
		Requeue: func(_ context.Context, wk *pipeline.Work) (string, error) {
			if w.killed.Load() {
				return "", dead
			}
			rec.mu.Lock()
			rec.reports[wk.Job.Name]++
			rec.mu.Unlock()
			rec.reported <- struct{}{}
			return "", nil
		},
		Poison: func(context.Context, *pipeline.Work) (string, error) {
			rec.mu.Lock()
			rec.rejected++
			rec.mu.Unlock()
			return "", nil
		},
	}
}

func (w *e2eWorker) start(t testing.TB, rec *e2eRecord, buildTime time.Duration) {
	t.Helper()
	var err error
	w.router, w.pub, err = pipeline.NewRouter(w.tr, w.stages(rec, buildTime, 4), testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	w.routed = make(chan error, 1)
	go func() { w.routed <- w.router.Run(context.Background()) }()
	<-w.router.Running()
	w.stop, w.fed = make(chan struct{}), make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-w.stop; cancel() }()
	go func() {
		defer close(w.fed)
		_ = Feed(ctx, w.intake, w.pub, FeedOptions{Batch: 16, RecoverEvery: 200 * time.Millisecond, Logger: testLogger(t)})
	}()
}

// kill stops the worker the way a SIGKILL would, as far as others can tell:
// nothing it has not finished is acknowledged, settled or published.
func (w *e2eWorker) kill() {
	w.killed.Store(true)
	close(w.stop)
	<-w.fed
	_ = w.closeTr()
	_ = w.router.Close()
	<-w.routed
	_ = w.closeIn()
}

func (w *e2eWorker) shutdown() {
	select {
	case <-w.stop:
		return // killed
	default:
	}
	close(w.stop)
	<-w.fed
	_ = w.router.Close()
	<-w.routed
	_ = w.closeTr()
	_ = w.closeIn()
}

type e2eBackend struct {
	name      string
	newWorker func(t *testing.T, name string) *e2eWorker
	push      func(t *testing.T, items []string)
}

func redisBackend(t *testing.T) e2eBackend {
	srv := testsvc.StartRedis(t)
	return e2eBackend{name: "redis",
		newWorker: func(t *testing.T, name string) *e2eWorker {
			q, err := redisqueue.Open(context.Background(), redisqueue.Options{URL: srv.URL, Owner: name,
				TTL: time.Second, Block: 200 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			tr, closeTr := redisTransportOpts(t, srv, RedisOptions{Consumer: name,
				Holds: []Hold{{Topic: pipeline.TopicJobs, Until: pipeline.TopicResults, Slots: 4}}})
			return &e2eWorker{name: name, intake: q, closeIn: q.Close, tr: tr, closeTr: closeTr}
		},
		push: func(t *testing.T, items []string) {
			c := redis.NewClient(&redis.Options{Addr: srv.Addr})
			defer c.Close()
			for _, it := range items {
				if err := c.RPush(context.Background(), "refinery:queue", it).Err(); err != nil {
					t.Fatal(err)
				}
			}
		},
	}
}

func kafkaBackend(t *testing.T) e2eBackend {
	k := testsvc.StartKafka(t, testsvc.KafkaOptions{Partitions: 4})
	return e2eBackend{name: "kafka",
		newWorker: func(t *testing.T, name string) *e2eWorker {
			q, err := kafkaqueue.Open(kafkaqueue.Options{Brokers: k.Brokers, Block: 200 * time.Millisecond,
				SessionTimeout: 6 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			tr, closeTr := kafkaTransportOpts(t, k, KafkaOptions{Consumer: name, Holds: jobHold, ClaimIdle: 3 * time.Second})
			return &e2eWorker{name: name, intake: q, closeIn: q.Close, tr: tr, closeTr: closeTr}
		},
		push: func(t *testing.T, items []string) {
			q, err := kafkaqueue.Open(kafkaqueue.Options{Brokers: k.Brokers, Group: "producer-only"})
			if err != nil {
				t.Fatal(err)
			}
			defer q.Close()
			bs := make([][]byte, len(items))
			for i, it := range items {
				bs[i] = []byte(it)
			}
			if err := q.Enqueue(context.Background(), bs); err != nil {
				t.Fatal(err)
			}
		},
	}
}

// TestTwoWorkersOneKilled: 120 items (and two bad ones) pushed as the
// control-plane does, two workers, builds of 100 ms; one worker is killed
// once a third of the items are reported. Every item is reported; items
// are built twice only when the kill interrupted them.
func TestTwoWorkersOneKilled(t *testing.T) {
	t.Parallel() // its own redis-server or Kafka: it waits on claim and session timers, so it runs beside the others
	for _, mk := range []func(*testing.T) e2eBackend{redisBackend, kafkaBackend} {
		be := mk(t)
		t.Run(be.name, func(t *testing.T) {
			const n = 120
			rec := &e2eRecord{builds: map[string]int{}, reports: map[string]int{}, lost: map[string]bool{}, by: map[string][]string{},
				reported: make(chan struct{}, 4*n)}
			a, b := be.newWorker(t, "a"), be.newWorker(t, "b")
			a.start(t, rec, 100*time.Millisecond)
			b.start(t, rec, 100*time.Millisecond)
			defer b.shutdown()
			defer a.shutdown()
			items := []string{`not json`, `{"version":"1"}`}
			for i := range n {
				items = append(items, fmt.Sprintf(`{"package":"p%03d"}`, i))
			}
			be.push(t, items)
			deadline := time.After(2 * time.Minute)
			wait := func(k int) {
				for range k {
					select {
					case <-rec.reported:
					case <-deadline:
						rec.mu.Lock()
						defer rec.mu.Unlock()
						t.Fatalf("only %d of %d packages reported", len(rec.reports), n)
					}
				}
			}
			wait(n / 3)
			for a.running.Load() == 0 { // kill a in the middle of a build
				wait(1)
			}
			a.kill()
			for {
				rec.mu.Lock()
				done := len(rec.reports)
				rec.mu.Unlock()
				if done == n {
					break
				}
				wait(1)
			}
			rec.mu.Lock()
			defer rec.mu.Unlock()
			// The transports build a job (a correlation id) once. The same item
			// taken twice from the intake (Kafka delivers a record again after a
			// rebalance) has two correlation ids: the worker's dequeue recognises
			// it by its key; these stages do not, so it is only counted here.
			twice, again := 0, 0
			for p, c := range rec.builds {
				seen := map[string]bool{}
				for _, b := range rec.by[p] {
					corr := b[strings.IndexByte(b, ':')+1:]
					if seen[corr] {
						twice++
						t.Errorf("%s built twice under one correlation id: %v", p, rec.by[p])
						break
					}
					seen[corr] = true
				}
				if c > 1 && len(seen) == c {
					again++
					t.Logf("%s taken from the intake %d times: %v", p, c, rec.by[p])
				}
			}
			if rec.rejected != 2 {
				t.Errorf("rejected %d, want 2", rec.rejected)
			}
			if len(rec.lost) == 0 {
				t.Errorf("a was killed with no build in flight: the test proves no recovery")
			}
			for p := range rec.lost {
				if rec.builds[p] == 0 || rec.reports[p] == 0 {
					t.Errorf("%s, interrupted on a, was not finished by b", p)
				}
			}
			reportedTwice := 0
			for _, c := range rec.reports {
				if c > 1 {
					reportedTwice++
				}
			}
			t.Logf("%s: %d reported (%d more than once), %d interrupted on a and built by b, %d built twice, "+
				"%d taken twice from the intake, %d rejected",
				be.name, len(rec.reports), reportedTwice, len(rec.lost), twice, again, rec.rejected)
		})
	}
}
