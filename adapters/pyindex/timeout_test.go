package pyindex_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/refinery/refinery-worker/adapters/pyindex"
)

// silentIndex accepts connections and never answers.
func silentIndex(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return "http://" + ln.Addr().String() + "/simple/"
}

// TestIndexThatNeverAnswersTimesOut: an index that accepts the connection
// and never answers fails the look-up after the configured timeout
// instead of holding the plan for ever.
func TestIndexThatNeverAnswersTimesOut(t *testing.T) {
	client, err := pyindex.New(pyindex.Config{IndexURL: silentIndex(t), Timeout: 300 * time.Millisecond, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	// The outer deadline only keeps a broken build from hanging the test.
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	_, err = client.Project(ctx, "anything")
	if !errors.Is(err, pyindex.ErrTimeout) {
		t.Fatalf("err = %v, want the index timeout", err)
	}
	if !strings.Contains(err.Error(), "within 300ms") {
		t.Errorf("error %q does not say how long it waited", err)
	}
	if ctx.Err() != nil {
		t.Errorf("the look-up ran into the outer deadline: %v", err)
	}
}
