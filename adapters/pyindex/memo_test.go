package pyindex

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
)

func TestMemoSharesOneCall(t *testing.T) {
	m := newMemo[int]()
	release := make(chan struct{})
	started := make(chan struct{})
	var calls atomic.Int32
	fn := func() (int, error) {
		if calls.Add(1) == 1 {
			close(started)
		}
		<-release
		return 42, nil
	}
	var wg sync.WaitGroup
	results := make([]int, 4)
	wg.Add(1)
	go func() { defer wg.Done(); results[0], _ = m.do(context.Background(), "k", fn) }()
	<-started
	for i := 1; i < 4; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); results[i], _ = m.do(context.Background(), "k", fn) }()
	}
	close(release)
	wg.Wait()
	if v, _ := m.do(context.Background(), "k", fn); v != 42 {
		t.Errorf("remembered value = %d", v)
	}
	// Waiters may arrive after the leader finished; either way one call.
	if calls.Load() != 1 {
		t.Errorf("fn ran %d times", calls.Load())
	}
	for i, r := range results {
		if r != 42 {
			t.Errorf("caller %d got %d", i, r)
		}
	}
}

func TestMemoForgetsErrorsAndRetriesCancelledLeader(t *testing.T) {
	m := newMemo[string]()
	boom := errors.New("boom")
	if _, err := m.do(context.Background(), "k", func() (string, error) { return "", boom }); !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	if v, err := m.do(context.Background(), "k", func() (string, error) { return "ok", nil }); v != "ok" || err != nil {
		t.Fatalf("after an error: %q, %v", v, err)
	}

	leaderIn := make(chan struct{})
	leaderOut := make(chan struct{})
	go func() {
		_, _ = m.do(context.Background(), "c", func() (string, error) {
			close(leaderIn)
			<-leaderOut
			return "", context.Canceled
		})
	}()
	<-leaderIn
	done := make(chan string)
	go func() {
		v, _ := m.do(context.Background(), "c", func() (string, error) { return "mine", nil })
		done <- v
	}()
	close(leaderOut)
	if v := <-done; v != "mine" {
		t.Errorf("waiter after a cancelled leader got %q", v)
	}
}
