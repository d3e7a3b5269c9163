package transport

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/redis/go-redis/v9"

	"github.com/refinery/refinery-worker/internal/testkit/testsvc"
	"github.com/refinery/refinery-worker/pipeline"
)

const claimIdle = 400 * time.Millisecond

func redisTransport(t testing.TB, srv *testsvc.Redis, consumer string, slots int) (pipeline.Transport, func() error) {
	t.Helper()
	return redisTransportOpts(t, srv, RedisOptions{Consumer: consumer,
		Holds: []Hold{{Topic: pipeline.TopicJobs, Until: pipeline.TopicResults, Slots: slots}}})
}

func redisTransportOpts(t testing.TB, srv *testsvc.Redis, opts RedisOptions) (pipeline.Transport, func() error) {
	t.Helper()
	opts.URL, opts.Prefix, opts.ClaimIdle, opts.NackResendSleep, opts.Logger = srv.URL, "t.", claimIdle,
		50*time.Millisecond, testLogger(t)
	tr, closeFn, err := Redis(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	closeOnce := func() error { var err error; once.Do(func() { err = closeFn() }); return err }
	t.Cleanup(func() { _ = closeOnce() })
	return tr, closeOnce
}

// builds records which worker started which job, and how many results came.
type builds struct {
	mu      sync.Mutex
	started map[string][]string // corr → workers
	stopped bool
	wg      sync.WaitGroup
	results chan string
}

// newBuilds records builds; register its stop with t.Cleanup after the
// routers, so that it runs before they and the transports close.
func newBuilds() *builds {
	return &builds{started: map[string][]string{}, results: make(chan string, 100)}
}

func (b *builds) builtTwice() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for _, ws := range b.started {
		if len(ws) > 1 {
			n++
		}
	}
	return n
}

// stop lets running builds end and starts no more.
func (b *builds) stop() {
	b.mu.Lock()
	b.stopped = true
	b.mu.Unlock()
	b.wg.Wait()
}

// buildStage is a build stage like handlers.Build: it acks at once and
// publishes the result when the (simulated) build ends.
func (b *builds) buildStage(t testing.TB, worker string, tr pipeline.Transport, buildTime time.Duration) *message.Router {
	r := newRouter(t)
	r.AddConsumerHandler("build", tr.Topics.Name(pipeline.TopicJobs), tr.Subscriber, func(m *message.Message) error {
		corr := m.Metadata.Get(pipeline.MetaCorrelation)
		b.mu.Lock()
		defer b.mu.Unlock()
		if b.stopped {
			return fmt.Errorf("stopped")
		}
		b.started[corr] = append(b.started[corr], worker)
		b.wg.Add(1)
		go func() {
			defer b.wg.Done()
			<-time.After(buildTime) // the build's own duration, not a synchronisation
			if err := tr.Publisher.Publish(tr.Topics.Name(pipeline.TopicResults), newMsg(corr)); err != nil {
				b.results <- "error: " + err.Error()
				return
			}
			b.results <- corr
		}()
		return nil
	})
	return r
}

func (b *builds) waitResults(t testing.TB, n int) {
	t.Helper()
	deadline := time.After(60 * time.Second)
	for range n {
		select {
		case r := <-b.results:
			if strings.HasPrefix(r, "error: ") {
				t.Fatal(r)
			}
		case <-deadline:
			t.Fatalf("not all %d results came", n)
		}
	}
}

func pending(t testing.TB, srv *testsvc.Redis, stream string) int64 {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer c.Close()
	p, err := c.XPending(context.Background(), stream, "refinery-worker").Result()
	if err != nil {
		t.Fatalf("xpending: %v", err)
	}
	return p.Count
}

// TestLongBuildIsNotClaimedTwice: builds lasting three times ClaimIdle, on
// two workers, each run once. Without the keep-alive and the per-job key
// (the control case) the same test sees builds start twice, so it does
// detect the fault.
func TestLongBuildIsNotClaimedTwice(t *testing.T) {
	t.Parallel() // its own redis-server or Kafka: it waits on claim and session timers, so it runs beside the others
	for _, keepAlive := range []bool{true, false} {
		t.Run(fmt.Sprintf("keep-alive=%v", keepAlive), func(t *testing.T) {
			srv := testsvc.StartRedis(t)
			b := newBuilds()
			const jobs = 4
			var trs []pipeline.Transport
			for _, w := range []string{"a", "b"} {
				tr, _ := redisTransportOpts(t, srv, RedisOptions{Consumer: w, noKeepAlive: !keepAlive, noJobKey: !keepAlive,
					Holds: []Hold{{Topic: pipeline.TopicJobs, Until: pipeline.TopicResults, Slots: 2}}})
				startRouter(t, b.buildStage(t, w, tr, 3*claimIdle))
				trs = append(trs, tr)
			}
			t.Cleanup(b.stop)
			for i := range jobs {
				if err := trs[0].Publisher.Publish(trs[0].Topics.Name(pipeline.TopicJobs), newMsg(fmt.Sprint("job", i))); err != nil {
					t.Fatal(err)
				}
			}
			b.waitResults(t, jobs)
			if !keepAlive { // a claimed entry may wait for a busy subscription: wait for the second start
				deadline := time.Now().Add(10 * time.Second)
				for b.builtTwice() == 0 && time.Now().Before(deadline) {
					time.Sleep(20 * time.Millisecond)
				}
			}
			b.mu.Lock()
			defer b.mu.Unlock()
			twice := 0
			for _, ws := range b.started {
				if len(ws) != 1 {
					twice++
				}
			}
			t.Logf("builds: %v", b.started)
			if len(b.started) != jobs {
				t.Fatalf("started %d jobs, want %d", len(b.started), jobs)
			}
			if keepAlive && twice > 0 {
				t.Errorf("%d jobs built more than once", twice)
			}
			if !keepAlive && twice == 0 {
				t.Errorf("control: without keep-alive no job was claimed twice; the test cannot see the fault")
			}
			if keepAlive { // the XACK follows the result's publication
				deadline := time.Now().Add(10 * time.Second)
				for n := pending(t, srv, trs[0].Topics.Name(pipeline.TopicJobs)); n != 0; n = pending(t, srv, trs[0].Topics.Name(pipeline.TopicJobs)) {
					if time.Now().After(deadline) {
						t.Fatalf("%d job entries still pending after their results", n)
					}
					time.Sleep(20 * time.Millisecond)
				}
			}
		})
	}
}

func TestJobOfADeadWorkerIsClaimedAfterClaimIdle(t *testing.T) {
	t.Parallel() // its own redis-server or Kafka: it waits on claim and session timers, so it runs beside the others
	srv := testsvc.StartRedis(t)
	trA, closeA := redisTransport(t, srv, "a", 1)
	jobs := trA.Topics.Name(pipeline.TopicJobs)
	ch, err := trA.Subscriber.Subscribe(context.Background(), jobs)
	if err != nil {
		t.Fatal(err)
	}
	if err := trA.Publisher.Publish(jobs, newMsg("orphan")); err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-ch:
		m.Ack() // the stage took it and started the build ...
	case <-time.After(30 * time.Second):
		t.Fatal("a got no job")
	}
	if err := closeA(); err != nil { // ... and the worker died
		t.Fatal(err)
	}
	if n := pending(t, srv, jobs); n != 1 {
		t.Fatalf("pending after a died = %d, want 1", n)
	}
	b := newBuilds()
	trB, _ := redisTransport(t, srv, "b", 1)
	startRouter(t, b.buildStage(t, "b", trB, 0))
	t.Cleanup(b.stop)
	b.waitResults(t, 1)
	b.mu.Lock()
	defer b.mu.Unlock()
	if ws := b.started["orphan"]; len(ws) != 1 {
		t.Fatalf("orphan started by %v, want b once", ws)
	}
	deadline := time.Now().Add(10 * time.Second)
	for pending(t, srv, jobs) != 0 { // the ack follows the result's publication
		if time.Now().After(deadline) {
			t.Fatal("orphan still pending after its result")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestRedisBareChain(t *testing.T) {
	srv := testsvc.StartRedis(t)
	tr, _ := redisTransport(t, srv, "a", 1)
	d := runChain(t, tr, 200)
	t.Logf("redis: 200 items through six handlers in %s", d)
}

// TestSecondMessageOfAJobIsSkipped: an upstream stage that ran twice
// publishes the same job (correlation id) twice; it is built once, also when
// the second copy comes after the first finished.
func TestSecondMessageOfAJobIsSkipped(t *testing.T) {
	srv := testsvc.StartRedis(t)
	b := newBuilds()
	tr, _ := redisTransport(t, srv, "a", 1) // one slot: the marker j3 comes after the j1 copy is decided
	startRouter(t, b.buildStage(t, "a", tr, 100*time.Millisecond))
	t.Cleanup(b.stop)
	jobs := tr.Topics.Name(pipeline.TopicJobs)
	for _, c := range []string{"j1", "j1", "j2"} {
		if err := tr.Publisher.Publish(jobs, newMsg(c)); err != nil {
			t.Fatal(err)
		}
	}
	b.waitResults(t, 2)
	if err := tr.Publisher.Publish(jobs, newMsg("j1")); err != nil { // after j1 is done
		t.Fatal(err)
	}
	if err := tr.Publisher.Publish(jobs, newMsg("j3")); err != nil { // a marker behind it
		t.Fatal(err)
	}
	b.waitResults(t, 1)
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.started["j1"]) != 1 || len(b.started["j2"]) != 1 || len(b.started["j3"]) != 1 {
		t.Fatalf("builds: %v", b.started)
	}
}

// TestBusyWorkerDoesNotSitOnTheNextJob: a worker whose only slot is busy
// does not take the next job; an idle worker starts it at once.
func TestBusyWorkerDoesNotSitOnTheNextJob(t *testing.T) {
	t.Parallel() // its own redis-server or Kafka: it waits on claim and session timers, so it runs beside the others
	srv := testsvc.StartRedis(t)
	b := newBuilds()
	trA, _ := redisTransport(t, srv, "a", 1)
	startRouter(t, b.buildStage(t, "a", trA, 3*time.Second))
	t.Cleanup(b.stop)
	jobs := trA.Topics.Name(pipeline.TopicJobs)
	if err := trA.Publisher.Publish(jobs, newMsg("long")); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		b.mu.Lock()
		started := len(b.started["long"])
		b.mu.Unlock()
		if started == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a did not start the long job")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := trA.Publisher.Publish(jobs, newMsg("next")); err != nil {
		t.Fatal(err)
	}
	trB, _ := redisTransport(t, srv, "b", 1)
	startRouter(t, b.buildStage(t, "b", trB, 0))
	select {
	case r := <-b.results:
		if r != "next" {
			t.Fatalf("first result %q, want next (built by the idle worker)", r)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no result")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if ws := b.started["next"]; len(ws) != 1 || ws[0] != "b" {
		t.Fatalf("next started by %v, want b", ws)
	}
}

// dieAfterResult is a go-redis hook standing for a worker killed right after
// the result of a held job reached Redis: once a command (or a transaction)
// that adds to the results stream has run, every later command fails, so
// nothing else this worker would send (marking the job done, the ack, the
// keep-alive) reaches the server.
type dieAfterResult struct {
	results string
	dead    atomic.Bool
}

var errKilled = errors.New("worker killed")

func (h *dieAfterResult) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *dieAfterResult) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if h.dead.Load() {
			cmd.SetErr(errKilled)
			return errKilled
		}
		err := next(ctx, cmd)
		h.check(cmd)
		return err
	}
}

func (h *dieAfterResult) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if h.dead.Load() {
			for _, c := range cmds {
				c.SetErr(errKilled)
			}
			return errKilled
		}
		err := next(ctx, cmds)
		for _, c := range cmds {
			h.check(c)
		}
		return err
	}
}

func (h *dieAfterResult) check(cmd redis.Cmder) {
	if strings.EqualFold(cmd.Name(), "xadd") && cmd.Err() == nil {
		if s, _ := cmd.Args()[1].(string); s == h.results {
			h.dead.Store(true)
		}
	}
}

// TestWorkerKilledAfterPublishingAResultIsNotRebuilt: worker a publishes the
// result of a held job and dies before anything else reaches Redis; worker b
// claims the job's message after ClaimIdle and must skip it (the job is done),
// not build it again. With the result and the job's "done" sent as two
// commands, b built the job a second time.
func TestWorkerKilledAfterPublishingAResultIsNotRebuilt(t *testing.T) {
	t.Parallel() // its own redis-server: it waits on the claim timer
	srv := testsvc.StartRedis(t)
	hook := &dieAfterResult{results: "t." + pipeline.TopicResults}
	trA, closeA := redisTransportOpts(t, srv, RedisOptions{Consumer: "a", testHook: hook,
		Holds: []Hold{{Topic: pipeline.TopicJobs, Until: pipeline.TopicResults, Slots: 1}}})
	b := newBuilds()
	routerA := b.buildStage(t, "a", trA, 0)
	startRouter(t, routerA)
	jobs := trA.Topics.Name(pipeline.TopicJobs)
	if err := trA.Publisher.Publish(jobs, newMsg("j1")); err != nil {
		t.Fatal(err)
	}
	b.waitResults(t, 1)
	if !hook.dead.Load() {
		t.Fatal("a published no result to " + hook.results)
	}
	_ = routerA.Close()
	_ = closeA()
	if n := pending(t, srv, jobs); n != 1 {
		t.Fatalf("pending after a died = %d, want 1 (its ack never reached Redis)", n)
	}

	trB, _ := redisTransport(t, srv, "b", 1)
	startRouter(t, b.buildStage(t, "b", trB, 0))
	t.Cleanup(b.stop)
	deadline := time.Now().Add(30 * time.Second)
	for pending(t, srv, jobs) != 0 { // b claims the entry after ClaimIdle and acks it, built or skipped
		if time.Now().After(deadline) {
			t.Fatal("a's job entry still pending: b never claimed it")
		}
		time.Sleep(20 * time.Millisecond)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if ws := b.started["j1"]; len(ws) != 1 {
		t.Fatalf("j1 started by %v, want a only", ws)
	}
}
