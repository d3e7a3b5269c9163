package handlers

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"

	"github.com/refinery/refinery-worker/pipeline"
)

// blockingIntake holds its first Claim until released, so a drain stays
// running while the test fires triggers at it.
type blockingIntake struct {
	release chan struct{}
	once    sync.Once
}

func (b *blockingIntake) Claim(ctx context.Context, _ int) ([]pipeline.Claimed, error) {
	select {
	case <-b.release:
	case <-ctx.Done():
	}
	return nil, nil
}
func (b *blockingIntake) Recover(context.Context) ([]pipeline.Claimed, error) { return nil, nil }
func (b *blockingIntake) Settle(context.Context, []pipeline.Settlement) error { return nil }
func (b *blockingIntake) Ready(context.Context) error                         { return nil }
func (b *blockingIntake) Close() error                                        { return nil }

type noPlans struct{}

func (noPlans) Current(context.Context) (*pipeline.Plan, string, error) { return nil, "", ErrNoPlan }

func newTestHTTP(t *testing.T, token string) (*httptest.Server, *blockingIntake) {
	t.Helper()
	in := &blockingIntake{release: make(chan struct{})}
	gc := gochannel.NewGoChannel(gochannel.Config{}, watermill.NopLogger{})
	d := pipeline.NewDrainer(in, pipeline.NewPublisher(gc, pipeline.Topics{}, true), pipeline.NewTracker(),
		pipeline.DrainOptions{Batch: 10}, discardLogger())
	srv := httptest.NewServer(NewHTTP(HTTPOptions{Token: token, Drains: d, Plans: noPlans{}, BodyLimit: "1K"}))
	t.Cleanup(func() { in.once.Do(func() { close(in.release) }); srv.Close() })
	return srv, in
}

// 1,000 concurrent triggers during a drain: all answered 202, one drain.
func TestConcurrentTriggersJoinOneDrain(t *testing.T) {
	srv, _ := newTestHTTP(t, "tok")
	ids := map[string]int{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	for range 1000 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest(http.MethodPost, srv.URL+"/trigger", strings.NewReader(`{"action":"drain"}`))
			req.Header.Set("X-Worker-Token", "tok")
			resp, err := client.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			defer resp.Body.Close()
			var body struct {
				DrainID string `json:"drain_id"`
			}
			_ = jsonDecode(resp.Body, &body)
			mu.Lock()
			defer mu.Unlock()
			if resp.StatusCode != http.StatusAccepted {
				t.Errorf("trigger = %d", resp.StatusCode)
			}
			ids[body.DrainID]++
		}()
	}
	wg.Wait()
	if len(ids) != 1 {
		t.Errorf("1000 triggers made %d drains: %v", len(ids), ids)
	}
}

func TestHTTPAbuse(t *testing.T) {
	srv, _ := newTestHTTP(t, "tok")
	cases := []struct {
		name, path, token, body string
		code                    int
		errorHas                string
	}{
		{"oversized body", "/trigger", "tok", `{"action":"` + strings.Repeat("x", 4096) + `"}`, http.StatusRequestEntityTooLarge, "too large"},
		{"missing token", "/trigger", "", `{}`, http.StatusUnauthorized, "token"},
		{"wrong token", "/trigger", "tok2", `{}`, http.StatusUnauthorized, "token"},
		{"token prefix", "/trigger", "to", `{}`, http.StatusUnauthorized, "token"},
		{"malformed JSON", "/trigger", "tok", `{"action":`, http.StatusBadRequest, "malformed"},
		{"wrong field type", "/trigger", "tok", `{"action":["drain"]}`, http.StatusBadRequest, "action"},
		{"unknown route", "/nope", "tok", ``, http.StatusNotFound, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, srv.URL+tc.path, strings.NewReader(tc.body))
			if tc.token != "" {
				req.Header.Set("X-Worker-Token", tc.token)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body map[string]string
			if err := jsonDecode(resp.Body, &body); err != nil {
				t.Fatalf("answer is not JSON: %v", err)
			}
			if resp.StatusCode != tc.code || !strings.Contains(body["error"], tc.errorHas) || body["request_id"] == "" {
				t.Errorf("%s %s = %d %v, want %d with an error mentioning %q and a request id", http.MethodPost, tc.path, resp.StatusCode, body, tc.code, tc.errorHas)
			}
		})
	}
}

// A client that never finishes its headers is cut off by the server.
func TestSlowHeadersAreCutOff(t *testing.T) {
	e := NewHTTP(HTTPOptions{Drains: nil, Plans: noPlans{}})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, e, addr, time.Second) }()
	defer func() { cancel(); <-done }()
	var conn net.Conn
	for i := 0; i < 100; i++ {
		if conn, err = net.Dial("tcp", addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprint(conn, "GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ")
	// The server must close the connection (ReadHeaderTimeout) rather than
	// wait forever; a generous deadline bounds the test, not the server.
	_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	_, err = io.ReadAll(bufio.NewReader(conn))
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatal("server kept a connection with unfinished headers open for 30 s")
	}
}
