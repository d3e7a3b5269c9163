package outbox_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/refinery/refinery-worker/adapters/controlplane/cpfake"
	"github.com/refinery/refinery-worker/adapters/outbox"
	"github.com/refinery/refinery-worker/pipeline"
)

type fixedPlans struct{ plan *pipeline.Plan }

func (f *fixedPlans) Current(context.Context) (*pipeline.Plan, string, error) {
	return f.plan, "test plan.json", nil
}

// A local plan is stored at the control-plane once per run_id: many items
// planned against it, a new snapshot of the same run, and a restart add no
// second record.
func TestLocalPlanPostedOncePerRunID(t *testing.T) {
	fake := cpfake.New(cpfake.Options{})
	ts, err := cpfake.Listen(fake, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ts.Close()
	boxDir, markers := t.TempDir(), t.TempDir()
	plan := &pipeline.Plan{RunID: "local-1", Nodes: []pipeline.PlanNode{{Name: "six", Version: "1.16.0", Action: "reuse"}},
		DAG: json.RawMessage(`[{"id":1}]`)}
	src := &fixedPlans{plan: plan}
	for round := range 2 { // round 1 is a restart
		box := openBox(t, boxDir, newClient(t, ts.URL))
		rep, _ := outbox.NewReporter(outbox.ReporterOptions{Outbox: box})
		pp, err := outbox.NewPlanPoster(src, rep, markers, quiet)
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if got, _, err := pp.Current(context.Background()); err != nil || got != src.plan {
					t.Errorf("Current = %v, %v", got, err)
				}
			}()
		}
		wg.Wait()
		if round == 0 {
			again := *plan // re-read plan.json: a new pointer, same run
			src.plan = &again
			if _, _, err := pp.Current(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		stop := run(box)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		if err := box.WaitEmpty(ctx); err != nil {
			t.Fatal(err)
		}
		cancel()
		stop()
		_ = box.Close()
	}
	plans := fake.Plans()
	if len(plans) != 1 {
		t.Fatalf("%d plan records, want 1: %+v", len(plans), plans)
	}
	if plans[0].RunID != "local-1" || len(plans[0].Plan) != 1 || string(plans[0].DAG) != `[{"id":1}]` {
		t.Errorf("stored plan %+v", plans[0])
	}
	if n := fake.CountRequests("POST", "/api/plan"); n != 1 {
		t.Errorf("%d POST /api/plan, want 1", n)
	}
}
