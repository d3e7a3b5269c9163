package controlplane_test

import (
	"context"
	"encoding/json"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/refinery/refinery-worker/adapters/controlplane"
	"github.com/refinery/refinery-worker/adapters/controlplane/cpfake"
	"github.com/refinery/refinery-worker/pipeline"
)

type statusLog struct {
	mu   sync.Mutex
	seen []controlplane.BuildStatus
}

func (s *statusLog) ReportBuildStatus(_ context.Context, _, _ string, st controlplane.BuildStatus) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seen = append(s.seen, st)
	return nil
}

func TestIntakeSettlements(t *testing.T) {
	tests := []struct {
		name    string
		started bool // the build started (Started was called)
		kind    pipeline.SettleKind
		want    []string // statuses the intake sends
	}{
		{"release leaves the final status to the reporter", true, pipeline.Release, []string{"building"}},
		{"requeue sends retry", true, pipeline.Requeue, []string{"building", "retry"}},
		{"return at shutdown sends pending", true, pipeline.Return, []string{"building", "pending"}},
		{"a lease returned before its build started was never building", false, pipeline.Return, []string{"pending"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake, c := newPair(t, cpfake.Options{}, controlplane.Options{})
			fake.AddBuilds(cpfake.Build{Package: "numpy", Version: "1.26.4", PlanID: 3, Recipes: []string{"dnf:openblas-devel"}})
			log := &statusLog{}
			in, err := controlplane.NewIntake(controlplane.IntakeOptions{Client: c, Statuses: log, Dir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			defer in.Close()
			ctx := context.Background()
			got, err := in.Claim(ctx, 10)
			if err != nil || len(got) != 1 {
				t.Fatalf("claim = %v, %v", got, err)
			}
			it, err := pipeline.DecodeItem(got[0].Raw)
			lease, ok := controlplane.LeaseOf(it)
			if err != nil || !ok || it.Package != "numpy" || it.PlanID != 3 || it.Attempts != 0 || lease.Attempts != 1 {
				t.Fatalf("item %+v lease %+v, %v", it, lease, err)
			}
			if len(log.seen) != 0 {
				t.Fatalf("statuses at lease time: %+v; building comes when the build starts", log.seen)
			}
			if tc.started {
				in.Started(ctx, &pipeline.Work{Claim: got[0].Claim, Request: &pipeline.Request{Item: it}})
			}
			s := pipeline.Settlement{Claim: got[0].Claim, Kind: tc.kind}
			if tc.kind == pipeline.Requeue {
				it.Attempts, it.NotBefore = 1, 1795721600
				it.Recipes = append(it.Recipes, "apt:libyaml-dev") // an auto-fix retry
				it.Extra["auto_fix_hints"] = json.RawMessage(`["libyaml-header"]`)
				s.Item, _ = it.MarshalJSON()
			}
			if err := in.Settle(ctx, []pipeline.Settlement{s, s}); err != nil { // twice: idempotent
				t.Fatal(err)
			}
			if len(log.seen) != len(tc.want) {
				t.Fatalf("statuses %+v, want %v", log.seen, tc.want)
			}
			for i, w := range tc.want {
				if log.seen[i].Status != w || log.seen[i].Package != "numpy" || log.seen[i].Attempts != 1 {
					t.Errorf("status %d = %+v, want %s", i, log.seen[i], w)
				}
			}
			if tc.kind == pipeline.Requeue && log.seen[len(log.seen)-1].BackoffUntil != 1795721600 {
				t.Errorf("retry without backoff_until: %+v", log.seen[1])
			}
			if last := log.seen[len(log.seen)-1]; tc.kind == pipeline.Requeue &&
				(!slices.Equal(last.Recipes, []string{"dnf:openblas-devel", "apt:libyaml-dev"}) || !slices.Contains(last.HintIDs, "libyaml-header")) {
				t.Errorf("retry without the retry's recipes and auto-fix hints: %+v", last)
			}
			if rec, _ := in.Recover(ctx); len(rec) != 0 {
				t.Errorf("settled lease recovered: %v", rec)
			}
			if err := in.Ready(ctx); err != nil {
				t.Errorf("ready: %v", err)
			}
		})
	}
}

// With PollInterval set, an empty pop waits before Claim returns, longer
// after each further empty pop up to PollMax, and a cancelled claim returns
// at once; without it, Claim never waits (a one-shot drain).
func TestIntakePollsEmptyQueueWithBackoff(t *testing.T) {
	fake, c := newPair(t, cpfake.Options{}, controlplane.Options{})
	in, err := controlplane.NewIntake(controlplane.IntakeOptions{Client: c, Statuses: &statusLog{}, Dir: t.TempDir(),
		PollInterval: 20 * time.Millisecond, PollMax: 80 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	ctx := context.Background()
	claim := func() ([]pipeline.Claimed, time.Duration) {
		start := time.Now()
		got, err := in.Claim(ctx, 5)
		if err != nil {
			t.Fatal(err)
		}
		return got, time.Since(start)
	}
	// Least waits (3/4 of the nominal wait, for the jitter): 20ms, 40ms, 80ms, capped.
	for i, least := range []time.Duration{15, 30, 60, 60} {
		if got, d := claim(); len(got) != 0 || d < least*time.Millisecond {
			t.Fatalf("empty claim %d returned %d items after %s, want none after at least %dms", i, len(got), d, least)
		}
	}
	fake.AddBuilds(cpfake.Build{Package: "numpy", Version: "1.0"})
	if got, _ := claim(); len(got) != 1 {
		t.Fatalf("claimed %d, want the new build", len(got))
	}
	if _, d := claim(); d < 15*time.Millisecond {
		t.Fatalf("first empty claim after a build waited %s, want at least the interval's 15ms", d)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if got, _ := in.Claim(cctx, 5); len(got) != 0 {
		t.Fatalf("cancelled claim = %v", got)
	}

	oneShot, err := controlplane.NewIntake(controlplane.IntakeOptions{Client: c, Statuses: &statusLog{}, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer oneShot.Close()
	if got, err := oneShot.Claim(ctx, 5); len(got) != 0 || err != nil {
		t.Fatalf("one-shot claim = %v, %v", got, err)
	}
}
