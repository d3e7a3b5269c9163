package heartbeat_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/refinery/refinery-worker/adapters/controlplane"
	"github.com/refinery/refinery-worker/adapters/controlplane/cpfake"
	"github.com/refinery/refinery-worker/adapters/heartbeat"
)

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func TestHeartbeat(t *testing.T) {
	tests := []struct {
		name    string
		version cpfake.Version
		enabled bool
		runID   string // "" = not known yet
		plans   int    // plan pool size, 0 = not planning
	}{
		{"older version: 404 stops with one log line", cpfake.VersionOld, false, "r-1", 1},
		{"newer version keeps beating with run_id and plan_pool_size", cpfake.VersionNew, true, "r-1", 1},
		{"unknown run id and plan pool are omitted, not zero", cpfake.VersionNew, true, "", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake := cpfake.New(cpfake.Options{Version: tc.version, Token: "tok"})
			ts := httptest.NewServer(fake)
			defer ts.Close()
			c, err := controlplane.New(controlplane.Options{BaseURL: ts.URL, Token: "tok"})
			if err != nil {
				t.Fatal(err)
			}
			var logs syncBuf
			loop, err := heartbeat.New(heartbeat.Options{Sender: c, WorkerID: "w-1", Interval: time.Millisecond,
				PoolSize: 2, PlanPoolSize: tc.plans, ActiveBuilds: func() int { return 1 }, RunID: func() string { return tc.runID },
				Logger: slog.New(slog.NewTextHandler(&logs, nil))})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- loop.Run(ctx) }()
			if tc.enabled {
				deadline := time.Now().Add(10 * time.Second)
				for len(fake.Heartbeats()) < 3 {
					if time.Now().After(deadline) {
						t.Fatal("no heartbeats")
					}
					time.Sleep(time.Millisecond) // polling interval
				}
				cancel()
				if err := <-done; err != nil {
					t.Fatal(err)
				}
				hb := fake.Heartbeats()[0]
				if hb["worker_id"] != "w-1" || hb["active_builds"] != float64(1) || hb["build_pool_size"] != float64(2) {
					t.Errorf("heartbeat = %v", hb)
				}
				for key, want := range map[string]any{"run_id": tc.runID, "plan_pool_size": float64(tc.plans)} {
					got, sent := hb[key]
					if known := want != "" && want != float64(0); sent != known || (known && got != want) {
						t.Errorf("%s = %v (sent %v), want %v sent only when known", key, got, sent, want)
					}
				}
				return
			}
			select {
			case err := <-done: // the loop ends by itself
				if err != nil {
					t.Fatal(err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("heartbeat loop did not stop on 404")
			}
			if n := fake.CountRequests("POST", "/api/worker/heartbeat"); n != 1 {
				t.Errorf("heartbeat requests = %d, want 1", n)
			}
			if n := strings.Count(logs.String(), "\n"); n != 1 || !strings.Contains(logs.String(), "switched off") {
				t.Errorf("logs = %q, want one line", logs.String())
			}
		})
	}
}
