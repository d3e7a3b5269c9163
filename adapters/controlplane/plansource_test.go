package controlplane_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/refinery/refinery-worker/adapters/controlplane"
	"github.com/refinery/refinery-worker/adapters/controlplane/cpfake"
)

// Twenty leases naming plan 1 arrive at once: the control-plane gets one
// GET /api/plan/1, and every caller gets the plan.
func TestPlanByIDOneFetchInFlight(t *testing.T) {
	fake := cpfake.New(cpfake.Options{})
	gate := make(chan struct{})
	var gets atomic.Int64
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/api/plan/") {
			gets.Add(1)
			<-gate // hold the fetch while the other callers arrive
		}
		fake.ServeHTTP(w, r)
	}))
	defer ts.Close()
	resp, err := http.Post(ts.URL+"/api/plan", "application/json",
		strings.NewReader(`{"run_id":"r1","plan":[{"name":"numpy","version":"1.26.4","action":"build"}],"dag":null}`))
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("seed plan: %v %v", err, resp)
	}
	resp.Body.Close()
	c, err := controlplane.New(controlplane.Options{BaseURL: ts.URL, RequestTimeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	src := controlplane.NewPlanSource(c, time.Minute)

	const n = 20
	var started, done sync.WaitGroup
	started.Add(n)
	done.Add(n)
	errs := make(chan error, n)
	for range n {
		go func() {
			defer done.Done()
			started.Done()
			p, err := src.ByID(context.Background(), 1)
			if err == nil && (p == nil || p.RunID != "r1" || len(p.Nodes) != 1) {
				t.Errorf("plan = %+v", p)
			}
			errs <- err
		}()
	}
	started.Wait()
	for gets.Load() == 0 {
		time.Sleep(time.Millisecond) // polling for the first fetch, not synchronisation
	}
	close(gate)
	done.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if g := gets.Load(); g != 1 {
		t.Errorf("%d GET /api/plan/1 for %d concurrent callers, want 1", g, n)
	}
	// A caller that gives up waiting does not disturb the others.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := src.ByID(ctx, 2); err == nil {
		t.Error("ByID with a cancelled context succeeded for an unknown plan")
	}
}
