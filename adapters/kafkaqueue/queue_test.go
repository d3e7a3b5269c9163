package kafkaqueue

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/refinery/refinery-worker/internal/testkit/testsvc"
	"github.com/refinery/refinery-worker/pipeline"
)

const topic = "refinery.queue"

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return c
}

// produce writes plain values, as the control-plane does: no key, no headers.
func produce(t *testing.T, brokers []string, values ...string) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.DefaultProduceTopic(topic),
		kgo.RecordPartitioner(kgo.RoundRobinPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	rs := make([]*kgo.Record, len(values))
	for i, v := range values {
		rs[i] = &kgo.Record{Value: []byte(v)}
	}
	if err := cl.ProduceSync(ctx(t), rs...).FirstErr(); err != nil {
		t.Fatalf("produce: %v", err)
	}
}

func open(t *testing.T, brokers []string, opts Options) *Queue {
	t.Helper()
	opts.Brokers = brokers
	if opts.Block == 0 {
		opts.Block = 200 * time.Millisecond
	}
	opts.SessionTimeout = 6 * time.Second
	q, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = q.Close() })
	return q
}

// claimN claims until n items came or the deadline passes.
func claimN(t *testing.T, q *Queue, n int) []pipeline.Claimed {
	t.Helper()
	var out []pipeline.Claimed
	deadline := time.Now().Add(30 * time.Second)
	for len(out) < n && time.Now().Before(deadline) {
		got, err := q.Claim(ctx(t), n-len(out))
		if err != nil {
			t.Fatalf("claim: %v", err)
		}
		out = append(out, got...)
	}
	if len(out) != n {
		t.Fatalf("claimed %d items, want %d", len(out), n)
	}
	return out
}

func raws(cs []pipeline.Claimed) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = string(c.Raw)
	}
	return out
}

func settle(t *testing.T, q *Queue, kind pipeline.SettleKind, cs ...pipeline.Claimed) {
	t.Helper()
	ss := make([]pipeline.Settlement, len(cs))
	for i, c := range cs {
		ss[i] = pipeline.Settlement{Claim: c.Claim, Kind: kind}
	}
	if err := q.Settle(ctx(t), ss); err != nil {
		t.Fatalf("settle: %v", err)
	}
}

func TestPlainRecordsFromTheOldestOffset(t *testing.T) {
	k := testsvc.StartKafka(t, testsvc.KafkaOptions{Topics: []string{topic}})
	// Produced before the group exists: a new group starts at the oldest.
	produce(t, k.Brokers, `{"package":"numpy","x_new":[1]}`, `not json`, `{"package":"lxml"}`)
	q := open(t, k.Brokers, Options{Group: "g1"})
	got := claimN(t, q, 3)
	want := []string{`{"package":"numpy","x_new":[1]}`, `"not json"`, `{"package":"lxml"}`}
	if !slices.Equal(raws(got), want) {
		t.Fatalf("claimed %q, want %q", raws(got), want)
	}
	if got[0].Claim != topic+"/0/0" || got[2].Claim != topic+"/0/2" {
		t.Fatalf("claims %q %q", got[0].Claim, got[2].Claim)
	}
}

func TestOnlySettledOffsetsAreCommitted(t *testing.T) {
	tests := []struct {
		name      string
		settle    []int // indexes of the 4 claimed records released
		wantAgain []string
	}{
		{name: "all settled", settle: []int{0, 1, 2, 3}, wantAgain: nil},
		{name: "first unsettled holds the commit point", settle: []int{1, 2, 3},
			wantAgain: []string{`{"n":0}`, `{"n":1}`, `{"n":2}`, `{"n":3}`}},
		{name: "commit up to the lowest unsettled", settle: []int{0, 1, 3},
			wantAgain: []string{`{"n":2}`, `{"n":3}`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := testsvc.StartKafka(t, testsvc.KafkaOptions{Topics: []string{topic}})
			produce(t, k.Brokers, `{"n":0}`, `{"n":1}`, `{"n":2}`, `{"n":3}`)
			q := open(t, k.Brokers, Options{Group: "g"})
			got := claimN(t, q, 4)
			for _, i := range tt.settle {
				settle(t, q, pipeline.Release, got[i])
			}
			if err := q.Close(); err != nil {
				t.Fatal(err)
			}
			q2 := open(t, k.Brokers, Options{Group: "g"})
			again := claimN(t, q2, len(tt.wantAgain))
			if !slices.Equal(raws(again), tt.wantAgain) {
				t.Fatalf("after restart got %q, want %q", raws(again), tt.wantAgain)
			}
			// Nothing else comes.
			if more, err := q2.Claim(ctx(t), 10); err != nil || len(more) != 0 {
				t.Fatalf("extra records %q, %v", raws(more), err)
			}
		})
	}
}

func TestRequeueProducesTheNewItemAndReturnHandsOutAgain(t *testing.T) {
	k := testsvc.StartKafka(t, testsvc.KafkaOptions{Topics: []string{topic}})
	produce(t, k.Brokers, `{"package":"a"}`, `{"package":"b"}`)
	q := open(t, k.Brokers, Options{Group: "g"})
	got := claimN(t, q, 2)
	if err := q.Settle(ctx(t), []pipeline.Settlement{
		{Claim: got[0].Claim, Kind: pipeline.Requeue, Item: []byte(`{"package":"a","attempts":1}`)},
		{Claim: got[1].Claim, Kind: pipeline.Return},
	}); err != nil {
		t.Fatal(err)
	}
	again := claimN(t, q, 2)
	if again[0].Claim != got[1].Claim || string(again[0].Raw) != `{"package":"b"}` {
		t.Fatalf("returned record not handed out first: %q %q", again[0].Claim, again[0].Raw)
	}
	if string(again[1].Raw) != `{"package":"a","attempts":1}` {
		t.Fatalf("requeued item = %q", again[1].Raw)
	}
	settle(t, q, pipeline.Release, again...)
	_ = q.Close()
	q2 := open(t, k.Brokers, Options{Group: "g"})
	if more, err := q2.Claim(ctx(t), 10); err != nil || len(more) != 0 {
		t.Fatalf("after restart %q, %v", raws(more), err)
	}
}

func TestNotBeforeHeldUntilDue(t *testing.T) {
	k := testsvc.StartKafka(t, testsvc.KafkaOptions{Topics: []string{topic}})
	var mu sync.Mutex
	clock := time.Unix(1_800_000_000, 0)
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	later := fmt.Sprintf(`{"package":"a","not_before":%d}`, clock.Unix()+30)
	produce(t, k.Brokers, later, `{"package":"b"}`)
	q := open(t, k.Brokers, Options{Group: "g", Now: now})
	got := claimN(t, q, 1)
	if string(got[0].Raw) != `{"package":"b"}` {
		t.Fatalf("claimed %q", got[0].Raw)
	}
	if more, _ := q.Claim(ctx(t), 5); len(more) != 0 {
		t.Fatalf("claimed %q before it was due", raws(more))
	}
	mu.Lock()
	clock = clock.Add(time.Minute)
	mu.Unlock()
	if due := claimN(t, q, 1); string(due[0].Raw) != later {
		t.Fatalf("claimed %q when due", due[0].Raw)
	}
}

func TestTwoMembersShareTheTopic(t *testing.T) {
	k := testsvc.StartKafka(t, testsvc.KafkaOptions{Topics: []string{topic}, Partitions: 4})
	qs := []*Queue{open(t, k.Brokers, Options{Group: "g"}), open(t, k.Brokers, Options{Group: "g"})}
	// Wait until the group settled on both members before producing, so no
	// rebalance happens while records are held.
	deadline := time.Now().Add(40 * time.Second)
	for qs[0].Assigned()+qs[1].Assigned() != 4 || qs[0].Assigned() == 0 || qs[1].Assigned() == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("assignment not settled: %d + %d", qs[0].Assigned(), qs[1].Assigned())
		}
		for _, q := range qs { // polling drives the group
			if _, err := q.Claim(ctx(t), 1); err != nil {
				t.Fatal(err)
			}
		}
	}
	const n = 200
	values := make([]string, n)
	for i := range values {
		values[i] = fmt.Sprintf(`{"package":"p%d"}`, i)
	}
	produce(t, k.Brokers, values...)
	var mu sync.Mutex
	seen := map[string]int{}
	per := make([]int, 2)
	var wg sync.WaitGroup
	for i, q := range qs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline.Add(20 * time.Second)) {
				mu.Lock()
				done := len(seen) >= n
				mu.Unlock()
				if done {
					return
				}
				got, err := q.Claim(context.Background(), 16)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				for _, c := range got {
					seen[string(c.Raw)]++
				}
				per[i] += len(got)
				mu.Unlock()
				ss := make([]pipeline.Settlement, len(got))
				for j, c := range got {
					ss[j] = pipeline.Settlement{Claim: c.Claim, Kind: pipeline.Release}
				}
				if err := q.Settle(context.Background(), ss); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if len(seen) != n {
		t.Fatalf("saw %d distinct items, want %d", len(seen), n)
	}
	for v, c := range seen {
		if c != 1 {
			t.Fatalf("%s handed out %d times", v, c)
		}
	}
	t.Logf("items per member: %v", per)
	if per[0] == 0 || per[1] == 0 {
		t.Fatalf("one member took nothing: %v", per)
	}
}

func TestParseClaim(t *testing.T) {
	tests := []struct {
		in  string
		p   int32
		off int64
		ok  bool
	}{
		{"refinery.queue/3/42", 3, 42, true},
		{"a/b/7/9", 7, 9, true},
		{"x/1", 0, 0, false},
		{"x/y/z", 0, 0, false},
	}
	for _, tt := range tests {
		p, off, ok := parseClaim(tt.in)
		if ok != tt.ok || ok && (p != tt.p || off != tt.off) {
			t.Errorf("parseClaim(%q) = %d %d %v", tt.in, p, off, ok)
		}
	}
}

func TestUnsettledRecordsOfALeavingMemberGoToTheOther(t *testing.T) {
	k := testsvc.StartKafka(t, testsvc.KafkaOptions{Topics: []string{topic}})
	produce(t, k.Brokers, `{"n":0}`, `{"n":1}`, `{"n":2}`)
	a := open(t, k.Brokers, Options{Group: "g"})
	got := claimN(t, a, 3)
	settle(t, a, pipeline.Release, got[0])
	b := open(t, k.Brokers, Options{Group: "g"})
	_ = a.Close() // leaves the group with n=1, n=2 unsettled
	again := claimN(t, b, 2)
	if !slices.Equal(raws(again), []string{`{"n":1}`, `{"n":2}`}) || again[0].Claim != got[1].Claim {
		t.Fatalf("b got %q (%q), want n=1, n=2 with the same claims", raws(again), again[0].Claim)
	}
}

func TestReadyFailsWhenTheClusterIsGone(t *testing.T) {
	k := testsvc.StartKafka(t, testsvc.KafkaOptions{Topics: []string{topic}})
	q := open(t, k.Brokers, Options{Group: "g"})
	if err := q.Ready(ctx(t)); err != nil {
		t.Fatalf("ready: %v", err)
	}
	k.Cluster.Close()
	short, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := q.Ready(short); err == nil {
		t.Fatal("ready with the cluster gone")
	}
}

func TestEnqueueProducesPlainRecords(t *testing.T) {
	k := testsvc.StartKafka(t, testsvc.KafkaOptions{Topics: []string{topic}})
	q := open(t, k.Brokers, Options{Group: "g"})
	if err := q.Enqueue(ctx(t), [][]byte{[]byte(`{"package":"a"}`), []byte(`{"package":"b"}`)}); err != nil {
		t.Fatal(err)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(k.Brokers...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var got []*kgo.Record
	for len(got) < 2 {
		fs := cl.PollFetches(ctx(t))
		if err := fs.Err0(); err != nil {
			t.Fatal(err)
		}
		got = append(got, fs.Records()...)
	}
	for i, want := range []string{`{"package":"a"}`, `{"package":"b"}`} {
		if string(got[i].Value) != want || got[i].Key != nil || len(got[i].Headers) != 0 {
			t.Fatalf("record %d = key %q value %q headers %v", i, got[i].Key, got[i].Value, got[i].Headers)
		}
	}
}
