package redisqueue

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/refinery/refinery-worker/pipeline"
)

func TestClaimInteropWithPlainRPUSH(t *testing.T) {
	e := newEnv(t)
	q := e.open(t, Options{})
	e.push(t, `{"package":"numpy","version":"1.26.4","x_future":{"a":[1,2]}}`, `not json at all`, `42`,
		`{"package":"lxml"}`)
	got, err := q.Claim(ctx(t), 10)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{`{"package":"numpy","version":"1.26.4","x_future":{"a":[1,2]}}`, `"not json at all"`, `42`,
		`{"package":"lxml"}`}
	if !slices.Equal(raws(got), want) {
		t.Fatalf("claimed %q, want %q", raws(got), want)
	}
	if l := e.list(t, e.key); len(l) != 0 {
		t.Fatalf("queue after claim = %q", l)
	}
	if l := e.list(t, q.proc); len(l) != 4 || l[1] != "not json at all" {
		t.Fatalf("processing list = %q", l)
	}
	ids := claims(got)
	if len(slices.Compact(slices.Sorted(slices.Values(ids)))) != 4 {
		t.Fatalf("claims not distinct: %q", ids)
	}
}

func TestSettleKinds(t *testing.T) {
	now := time.Now().Unix()
	tests := []struct {
		name        string
		kind        pipeline.SettleKind
		item        string
		wantQueue   []string
		wantDelayed int64
	}{
		{name: "release", kind: pipeline.Release, wantQueue: []string{`{"package":"b"}`}},
		{name: "requeue due goes to the tail", kind: pipeline.Requeue, item: `{"package":"a","attempts":1,"x":1}`,
			wantQueue: []string{`{"package":"b"}`, `{"package":"a","attempts":1,"x":1}`}},
		{name: "requeue later is delayed", kind: pipeline.Requeue,
			item:      fmt.Sprintf(`{"package":"a","attempts":1,"not_before":%d}`, now+3600),
			wantQueue: []string{`{"package":"b"}`}, wantDelayed: 1},
		{name: "return goes to the head unchanged", kind: pipeline.Return,
			wantQueue: []string{`not json {a}`, `{"package":"b"}`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			q := e.open(t, Options{})
			e.push(t, `not json {a}`, `{"package":"b"}`)
			got, err := q.Claim(ctx(t), 1)
			if err != nil || len(got) != 1 {
				t.Fatalf("claim = %v, %v", got, err)
			}
			if err := q.Settle(ctx(t), []pipeline.Settlement{{Claim: got[0].Claim, Kind: tt.kind, Item: []byte(tt.item)}}); err != nil {
				t.Fatal(err)
			}
			if l := e.list(t, e.key); !slices.Equal(l, tt.wantQueue) {
				t.Errorf("queue = %q, want %q", l, tt.wantQueue)
			}
			if l := e.list(t, q.proc); len(l) != 0 {
				t.Errorf("processing list = %q, want empty", l)
			}
			if n, _ := e.rdb.HLen(ctx(t), q.held).Result(); n != 0 {
				t.Errorf("held claims = %d", n)
			}
			if n, _ := e.rdb.ZCard(ctx(t), q.delayed).Result(); n != tt.wantDelayed {
				t.Errorf("delayed = %d, want %d", n, tt.wantDelayed)
			}
			// Settling again (a retried batch) changes nothing.
			if err := q.Settle(ctx(t), []pipeline.Settlement{{Claim: got[0].Claim, Kind: tt.kind, Item: []byte(tt.item)}}); err != nil {
				t.Fatal(err)
			}
			if l := e.list(t, e.key); !slices.Equal(l, tt.wantQueue) {
				t.Errorf("queue after a repeated settle = %q, want %q", l, tt.wantQueue)
			}
		})
	}
}

func TestDelayedItemsComeBackWhenDue(t *testing.T) {
	e := newEnv(t)
	var mu sync.Mutex
	clock := time.Unix(1_800_000_000, 0)
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	q := e.open(t, Options{Now: now})
	later := fmt.Sprintf(`{"package":"a","not_before":%d}`, clock.Unix()+60)
	// An item pushed with a future not_before is delayed at claim, not handed out.
	e.push(t, later, `{"package":"b"}`)
	got, err := q.Claim(ctx(t), 5)
	if err != nil || !slices.Equal(raws(got), []string{`{"package":"b"}`}) {
		t.Fatalf("claim = %q, %v", raws(got), err)
	}
	if got, _ := q.Claim(ctx(t), 5); len(got) != 0 {
		t.Fatalf("claimed %q before not_before", raws(got))
	}
	mu.Lock()
	clock = clock.Add(61 * time.Second)
	mu.Unlock()
	got, err = q.Claim(ctx(t), 5)
	if err != nil || !slices.Equal(raws(got), []string{later}) {
		t.Fatalf("claim when due = %q, %v", raws(got), err)
	}
}

func TestReturnKeepsBatchOrder(t *testing.T) {
	e := newEnv(t)
	q := e.open(t, Options{})
	e.push(t, `1`, `2`, `3`, `4`)
	got, err := q.Claim(ctx(t), 3)
	if err != nil {
		t.Fatal(err)
	}
	var ss []pipeline.Settlement
	for _, c := range got {
		ss = append(ss, pipeline.Settlement{Claim: c.Claim, Kind: pipeline.Return})
	}
	if err := q.Settle(ctx(t), ss); err != nil {
		t.Fatal(err)
	}
	if l := e.list(t, e.key); !slices.Equal(l, []string{`1`, `2`, `3`, `4`}) {
		t.Fatalf("queue = %q", l)
	}
}

func TestBlockingClaimReturnsAnItemPushedLater(t *testing.T) {
	e := newEnv(t)
	q := e.open(t, Options{Block: 5 * time.Second})
	type result struct {
		got []pipeline.Claimed
		err error
	}
	done := make(chan result, 1)
	go func() { got, err := q.Claim(ctx(t), 10); done <- result{got, err} }()
	e.push(t, `{"package":"late"}`)
	r := <-done
	if r.err != nil || !slices.Equal(raws(r.got), []string{`{"package":"late"}`}) {
		t.Fatalf("claim = %q, %v", raws(r.got), r.err)
	}
	// The claim was registered: it settles.
	if err := q.Settle(ctx(t), []pipeline.Settlement{{Claim: r.got[0].Claim, Kind: pipeline.Release}}); err != nil {
		t.Fatal(err)
	}
	if l := e.list(t, q.proc); len(l) != 0 {
		t.Fatalf("processing list = %q", l)
	}
}

func TestCrashedWorkerItemsAreRecoveredWithTheirClaims(t *testing.T) {
	e := newEnv(t)
	a := e.open(t, Options{Owner: "a", TTL: 300 * time.Millisecond})
	b := e.open(t, Options{Owner: "b", TTL: 300 * time.Millisecond})
	e.push(t, `{"package":"x"}`, `{"package":"y"}`, `garbage`, `{"package":"z"}`)
	held, err := a.Claim(ctx(t), 3)
	if err != nil || len(held) != 3 {
		t.Fatalf("claim = %v, %v", held, err)
	}
	// b finds nothing while a lives.
	if got, err := b.Recover(ctx(t)); err != nil || len(got) != 0 {
		t.Fatalf("recover from a live worker = %q, %v", raws(got), err)
	}
	a.abandon() // as kill -9: the liveness key is left to expire
	var got []pipeline.Claimed
	deadline := time.Now().Add(10 * time.Second)
	for len(got) == 0 && time.Now().Before(deadline) {
		if got, err = b.Recover(ctx(t)); err != nil {
			t.Fatal(err)
		}
		if len(got) == 0 {
			time.Sleep(50 * time.Millisecond) // poll: waiting for the TTL to pass
		}
	}
	if !slices.Equal(raws(got), raws(held)) || !slices.Equal(claims(got), claims(held)) {
		t.Fatalf("recovered %q %q, want %q %q", raws(got), claims(got), raws(held), claims(held))
	}
	if l := e.list(t, b.proc); len(l) != 3 {
		t.Fatalf("b's processing list = %q", l)
	}
	if n, _ := e.rdb.Exists(ctx(t), a.proc, a.held).Result(); n != 0 {
		t.Fatalf("a's keys left: %d", n)
	}
	// A second recovery finds nothing; the claims settle through b.
	if again, _ := b.Recover(ctx(t)); len(again) != 0 {
		t.Fatalf("recovered twice: %q", raws(again))
	}
	var ss []pipeline.Settlement
	for _, c := range got {
		ss = append(ss, pipeline.Settlement{Claim: c.Claim, Kind: pipeline.Release})
	}
	if err := b.Settle(ctx(t), ss); err != nil {
		t.Fatal(err)
	}
	if l := e.list(t, b.proc); len(l) != 0 {
		t.Fatalf("b's processing list after release = %q", l)
	}
	if l := e.list(t, e.key); !slices.Equal(l, []string{`{"package":"z"}`}) {
		t.Fatalf("queue = %q", l)
	}
}

func TestClosedWorkerIsRecoverableAtOnceAndPeersSettleItsClaims(t *testing.T) {
	e := newEnv(t)
	a := e.open(t, Options{Owner: "a"})
	b := e.open(t, Options{Owner: "b"})
	e.push(t, `{"package":"x"}`, `{"package":"y"}`)
	held, err := a.Claim(ctx(t), 2)
	if err != nil || len(held) != 2 {
		t.Fatalf("claim = %v, %v", held, err)
	}
	// A peer settles a claim a holds (the requeue stage ran on b).
	if err := b.Settle(ctx(t), []pipeline.Settlement{{Claim: held[0].Claim, Kind: pipeline.Release}}); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := b.Recover(ctx(t))
	if err != nil || !slices.Equal(claims(got), []string{held[1].Claim}) {
		t.Fatalf("recover = %q, %v", claims(got), err)
	}
	if _, err := a.Claim(ctx(t), 1); !errors.Is(err, ErrClosed) {
		t.Fatalf("claim after close: %v", err)
	}
}

func TestTwoInstancesHandOutEachItemOnce(t *testing.T) {
	e := newEnv(t)
	const n = 1000
	items := make([]string, n)
	for i := range items {
		items[i] = `{"package":"p` + strconv.Itoa(i) + `"}`
	}
	e.push(t, items...)
	qs := []*Queue{e.open(t, Options{Owner: "a"}), e.open(t, Options{Owner: "b"})}
	var mu sync.Mutex
	seen := map[string]int{}
	perQueue := make([]int, len(qs))
	var wg sync.WaitGroup
	errs := make(chan error, len(qs))
	for i, q := range qs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				got, err := q.Claim(context.Background(), 7)
				if err != nil {
					errs <- err
					return
				}
				if len(got) == 0 {
					return
				}
				ss := make([]pipeline.Settlement, len(got))
				mu.Lock()
				for j, c := range got {
					seen[string(c.Raw)]++
					ss[j] = pipeline.Settlement{Claim: c.Claim, Kind: pipeline.Release}
				}
				perQueue[i] += len(got)
				mu.Unlock()
				if err := q.Settle(context.Background(), ss); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if len(seen) != n {
		t.Fatalf("handed out %d distinct items, want %d", len(seen), n)
	}
	for it, c := range seen {
		if c != 1 {
			t.Fatalf("%s handed out %d times", it, c)
		}
	}
	t.Logf("items per instance: %v", perQueue)
	for _, q := range qs {
		if l := e.list(t, q.proc); len(l) != 0 {
			t.Fatalf("processing list of %s = %d items", q.owner, len(l))
		}
	}
}

func TestOutageReturnsErrorsAndRecovers(t *testing.T) {
	e := newEnv(t)
	q := e.open(t, Options{})
	e.push(t, `{"package":"a"}`)
	e.srv.Stop()
	short, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := q.Ready(short); err == nil {
		t.Fatal("ready during an outage")
	}
	if _, err := q.Claim(short, 1); err == nil {
		t.Fatal("claim during an outage returned no error")
	}
	e.srv.Restart()
	deadline := time.Now().Add(10 * time.Second)
	for q.Ready(ctx(t)) != nil {
		if time.Now().After(deadline) {
			t.Fatal("not ready after the server came back")
		}
		time.Sleep(50 * time.Millisecond) // poll: go-redis reconnects on demand
	}
	e.push(t, `{"package":"b"}`)
	got, err := q.Claim(ctx(t), 5)
	if err != nil || !slices.Equal(raws(got), []string{`{"package":"b"}`}) {
		t.Fatalf("claim after restart = %q, %v", raws(got), err)
	}
}

func TestEnqueue(t *testing.T) {
	e := newEnv(t)
	clock := time.Unix(1_800_000_000, 0)
	q := e.open(t, Options{Now: func() time.Time { return clock }})
	e.push(t, `{"package":"first"}`)
	later := fmt.Sprintf(`{"package":"later","not_before":%d}`, clock.Unix()+10)
	if err := q.Enqueue(ctx(t), [][]byte{[]byte(`{"package":"a"}`), []byte(later), []byte(`{"package":"b","not_before":5}`)}); err != nil {
		t.Fatal(err)
	}
	want := []string{`{"package":"first"}`, `{"package":"a"}`, `{"package":"b","not_before":5}`}
	if l := e.list(t, e.key); !slices.Equal(l, want) {
		t.Fatalf("queue = %q, want %q", l, want)
	}
	if ready, delayed, err := q.Depth(ctx(t)); err != nil || ready != 3 || delayed != 1 {
		t.Fatalf("depth = %d, %d, %v", ready, delayed, err)
	}
}
