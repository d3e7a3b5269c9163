package main

import (
	"fmt"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/refinery/refinery-worker/adapters/controlplane/cpfake"
)

// seedLeasePlan stores a plan with a build node per name at the fake and
// returns its id.
func seedLeasePlan(t *testing.T, fake *cpfake.Server, url, runID string, names []string) int64 {
	t.Helper()
	var nodes []string
	for _, n := range names {
		nodes = append(nodes, fmt.Sprintf(`{"name":%q,"version":"1.0","python_tag":"cp311","platform_tag":"manylinux2014_s390x","action":"build","hints":[{"id":"hint-%s"}]}`, n, n))
	}
	resp, err := http.Post(url+"/api/plan", "application/json",
		strings.NewReader(`{"run_id":"`+runID+`","plan":[`+strings.Join(nodes, ",")+`],"dag":null}`))
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("seed plan: %v %v", err, resp)
	}
	resp.Body.Close()
	plans := fake.Plans()
	return plans[len(plans)-1].ID
}

// finalBuildStatus reports whether a build-queue row has its final status: a
// build ended built or failed, or one never attempted went back pending with
// the reason.
func finalBuildStatus(b cpfake.Build) bool {
	switch b.Status {
	case "built", "failed":
		return true
	case "pending":
		return strings.HasPrefix(b.Error, "skipped")
	}
	return false
}

// serve with QUEUE_BACKEND=controlplane keeps leasing from the build queue
// (no WORKER_AUTORUN_INTERVAL): builds queued long after the start are built,
// and while the queue is empty it polls at a bounded rate.
func TestServeLeasesBuildQueueContinuously(t *testing.T) {
	t.Parallel() // own dirs, ports, control-plane and worker id: waits mostly, so it runs beside the others
	fake, srv := startFake(t, "tok")
	e := newEnv(t)
	e.vars["QUEUE_BACKEND"] = "controlplane"
	e.vars["CONTROL_PLANE_URL"] = srv.URL
	e.vars["CONTROL_PLANE_TOKEN"] = "tok"
	e.vars["BUILD_QUEUE_POLL_INTERVAL"] = "100ms"
	e.vars["BUILD_QUEUE_POLL_MAX"] = "200ms"
	p := e.serve(t)
	pops := func() int { return fake.CountRequests("POST", "/api/build-queue/pop") }
	eventually(t, 30*time.Second, "polls of the empty build queue", func() bool { return pops() >= 3 })

	// While idle the pops are spaced by at least 3/4 of the interval (jitter):
	// at most one per 75ms over any stretch, however fast the machine is.
	n0, t0 := pops(), time.Now()
	eventually(t, 30*time.Second, "more polls", func() bool { return pops() >= n0+4 })
	n1, el := pops(), time.Since(t0)
	if limit := int(el/(75*time.Millisecond)) + 1; n1-n0 > limit {
		t.Errorf("%d pops in %s of an empty queue, want at most %d", n1-n0, el, limit)
	}

	for round := range 2 { // the second batch arrives while the worker idles again
		names := pkgNames(fmt.Sprintf("late%d-", round), 5)
		planID := seedLeasePlan(t, fake, srv.URL, fmt.Sprintf("late-run-%d", round), names)
		for _, n := range names {
			fake.AddBuilds(cpfake.Build{Package: n, Version: "1.0", PythonTag: "cp311", PlatformTag: "manylinux2014_s390x",
				RunID: fmt.Sprintf("late-run-%d", round), PlanID: planID})
		}
		eventually(t, 60*time.Second, "every late build ended", func() bool {
			for _, b := range fake.Builds() {
				if !finalBuildStatus(b) {
					return false
				}
			}
			return true
		})
	}
	for _, b := range fake.Builds() {
		if b.Leases != 1 {
			t.Errorf("%s leased %d times, want once", b.Package, b.Leases)
		}
	}
	if code := p.stop(t, syscall.SIGTERM); code != 0 {
		t.Errorf("serve exit %d", code)
	}
}
