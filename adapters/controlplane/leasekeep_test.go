package controlplane_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/refinery/refinery-worker/adapters/controlplane"
	"github.com/refinery/refinery-worker/adapters/controlplane/cpfake"
	"github.com/refinery/refinery-worker/pipeline"
)

// postStatuses delivers build statuses at once (what the outbox does when the
// control-plane is up).
type postStatuses struct{ c *controlplane.Client }

func (p postStatuses) ReportBuildStatus(ctx context.Context, _, _ string, st controlplane.BuildStatus) error {
	return p.c.PostBuildStatus(ctx, st)
}

// waitUntil polls cond (the fake's state) until it holds or d passes.
func waitUntil(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond) // polling interval
	}
}

// A lease whose build waits for a slot is turned into building well within
// the control-plane's lease timeout, so it is never offered to another
// worker; a lease held by a worker that died before its build started goes
// back to pending by the control-plane's own timeout and is built by the next
// worker, and the row ends with a final status.
func TestLeasesAreNeverStranded(t *testing.T) {
	const timeout = 400 * time.Millisecond
	tests := []struct {
		name string
		dies bool // the worker dies between the pop and the build
	}{
		{"a build waiting for a slot keeps its lease", false},
		{"a worker dead before the build: the lease times out", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake, c := newPair(t, cpfake.Options{Version: cpfake.VersionNew, LeaseTimeout: timeout}, controlplane.Options{})
			fake.AddBuilds(cpfake.Build{Package: "numpy", Version: "1.26.4"})
			ctx := context.Background()
			keep := timeout
			if tc.dies {
				keep = 0 // killed: nothing renews the lease
			}
			in, err := controlplane.NewIntake(controlplane.IntakeOptions{Client: c, Statuses: postStatuses{c}, Dir: t.TempDir(),
				LeaseTimeout: keep})
			if err != nil {
				t.Fatal(err)
			}
			got, err := in.Claim(ctx, 5)
			if err != nil || len(got) != 1 {
				t.Fatalf("claim = %v, %v", got, err)
			}
			leased := time.Now()
			if tc.dies {
				_ = in.Close()
			} else {
				defer in.Close()
				// The build waits for a slot: building within half the timeout.
				waitUntil(t, "the lease to be renewed as building", timeout, func() bool { return fake.Builds()[0].Status == "building" })
				if d := time.Since(leased); d >= timeout {
					t.Fatalf("building after %s, not within the lease timeout %s", d, timeout)
				}
			}
			// Past the lease timeout, another worker pops.
			waitUntil(t, "the lease timeout to pass", 5*timeout, func() bool { return time.Since(leased) > timeout+50*time.Millisecond })
			other, err := controlplane.NewIntake(controlplane.IntakeOptions{Client: c, Statuses: postStatuses{c}, Dir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			defer other.Close()
			again, err := other.Claim(ctx, 5)
			if err != nil {
				t.Fatal(err)
			}
			if tc.dies != (len(again) == 1) || fake.ExpiredLeases() != len(again) {
				t.Fatalf("second pop got %d (expired %d); want the row again only when its worker died", len(again), fake.ExpiredLeases())
			}
			owner, claim := in, got[0]
			if tc.dies {
				owner, claim = other, again[0]
			}
			it, _ := pipeline.DecodeItem(claim.Raw)
			owner.Started(ctx, &pipeline.Work{Claim: claim.Claim, Request: &pipeline.Request{Item: it}})
			lease, _ := controlplane.LeaseOf(it)
			if err := c.PostBuildStatus(ctx, controlplane.BuildStatus{Package: it.Package, Version: it.Version, Status: "built",
				Attempts: lease.Attempts}); err != nil {
				t.Fatal(err)
			}
			if err := owner.Settle(ctx, []pipeline.Settlement{{Claim: claim.Claim, Kind: pipeline.Release}}); err != nil {
				t.Fatal(err)
			}
			if row := fake.Builds()[0]; row.Status != "built" {
				t.Errorf("row ended %q, want built", row.Status)
			}
			building := 0
			for _, st := range fake.BuildStatuses() {
				if st.Status == "building" {
					building++
				}
			}
			if building != 1 {
				t.Errorf("%d building statuses, want exactly one", building)
			}
		})
	}
}

// A retried lease carries the failure summary and hint ids noted for it.
func TestRetryStatusCarriesFailureNote(t *testing.T) {
	fake, c := newPair(t, cpfake.Options{}, controlplane.Options{})
	fake.AddBuilds(cpfake.Build{Package: "numpy", Version: "1.26.4"})
	in, err := controlplane.NewIntake(controlplane.IntakeOptions{Client: c, Statuses: postStatuses{c}, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	ctx := context.Background()
	got, err := in.Claim(ctx, 1)
	if err != nil || len(got) != 1 {
		t.Fatalf("claim = %v, %v", got, err)
	}
	in.NoteFailure(got[0].Claim, "network unreachable", []string{"net"})
	it, _ := pipeline.DecodeItem(got[0].Raw)
	it.NotBefore = time.Now().Add(time.Hour).Unix()
	raw, _ := it.MarshalJSON()
	if err := in.Settle(ctx, []pipeline.Settlement{{Claim: got[0].Claim, Kind: pipeline.Requeue, Item: raw}}); err != nil {
		t.Fatal(err)
	}
	row := fake.Builds()[0]
	if row.Status != "retry" || row.FailureSummary != "network unreachable" || len(row.ReportedHintIDs) != 1 {
		t.Errorf("row %+v, want retry with the noted summary and hints", row)
	}
}

// countStatuses counts the statuses a sink was given.
type countStatuses struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *countStatuses) ReportBuildStatus(_ context.Context, _, _ string, st controlplane.BuildStatus) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n[st.Status]++
	return nil
}

func (c *countStatuses) count(status string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[status]
}

// A lease whose final status was queued (Reported) is never renewed as
// building afterwards, nor one already settled.
func TestNoRenewalAfterFinalStatus(t *testing.T) {
	const timeout = 100 * time.Millisecond
	for _, settle := range []bool{false, true} {
		fake, c := newPair(t, cpfake.Options{}, controlplane.Options{})
		fake.AddBuilds(cpfake.Build{Package: "six", Version: "1.16.0"}, cpfake.Build{Package: "numpy", Version: "1.0"})
		sink := &countStatuses{n: map[string]int{}}
		in, err := controlplane.NewIntake(controlplane.IntakeOptions{Client: c, Statuses: sink, Dir: t.TempDir(), LeaseTimeout: timeout})
		if err != nil {
			t.Fatal(err)
		}
		got, err := in.Claim(context.Background(), 2)
		if err != nil || len(got) != 2 {
			t.Fatalf("claim = %v, %v", got, err)
		}
		if settle {
			if err := in.Settle(context.Background(), []pipeline.Settlement{{Claim: got[0].Claim, Kind: pipeline.Release}}); err != nil {
				t.Fatal(err)
			}
		} else {
			in.Reported(got[0].Claim)
		}
		// The other lease is renewed: past that point the first one would have been too.
		waitUntil(t, "the other lease renewed", 20*timeout, func() bool { return sink.count("building") >= 1 })
		_ = in.Close()
		if n := sink.count("building"); n != 1 {
			t.Errorf("settle %v: %d building statuses, want only the waiting lease's", settle, n)
		}
	}
}
