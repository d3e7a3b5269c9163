package outbox_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/refinery/refinery-worker/adapters/controlplane"
	"github.com/refinery/refinery-worker/adapters/controlplane/cpfake"
	"github.com/refinery/refinery-worker/adapters/outbox"
	"github.com/refinery/refinery-worker/pipeline"
)

// TestControlPlaneIntakeEndsEveryLease drives 20 leased builds through the
// intake, the Reporter and the settlements, with a worker crash in between
// for some of them, and checks that each row ends with its final status, and
// that "building" comes only when the build starts, not with the lease.
func TestControlPlaneIntakeEndsEveryLease(t *testing.T) {
	fake := cpfake.New(cpfake.Options{Token: "tok"})
	ts, err := cpfake.Listen(fake, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ts.Close()
	want := map[string]string{}
	for i := range 20 {
		name := fmt.Sprintf("b%02d", i)
		fake.AddBuilds(cpfake.Build{Package: name, Version: "1.0", Attempts: 1})
		want[name] = []string{"built", "failed", "retry"}[i%3]
	}
	client := newClient(t, ts.URL)
	box := openBox(t, t.TempDir(), client)
	defer box.Close()
	rep, _ := outbox.NewReporter(outbox.ReporterOptions{Outbox: box})
	leases := t.TempDir()
	newIntake := func() *controlplane.Intake {
		in, err := controlplane.NewIntake(controlplane.IntakeOptions{Client: client, Statuses: rep, Dir: leases, Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		return in
	}
	ctx := context.Background()
	in := newIntake()
	claimed, err := in.Claim(ctx, 50)
	if err != nil || len(claimed) != 20 {
		t.Fatalf("claimed %d, %v", len(claimed), err)
	}
	if box.Backlog() != 0 {
		t.Fatalf("leasing queued %d reports; building must wait for the build to start", box.Backlog())
	}
	for _, b := range fake.Builds() {
		if b.Status != "leased" {
			t.Fatalf("%s is %q after the pop, want leased", b.Package, b.Status)
		}
	}
	finish := func(in *controlplane.Intake, c pipeline.Claimed) {
		it, err := pipeline.DecodeItem(c.Raw)
		if err != nil {
			t.Fatal(err)
		}
		status := pipeline.Status(want[it.Package])
		w := &pipeline.Work{Claim: c.Claim, CorrelationID: "corr-" + it.Package,
			Request: &pipeline.Request{Item: it, Name: it.Package, Version: it.Version},
			Outcome: &pipeline.Outcome{Entry: pipeline.ManifestEntry{Name: it.Package, Version: it.Version, Status: status,
				Metadata: map[string]any{"error": "exit 2"}}}}
		in.Started(ctx, w) // the build starts
		if err := rep.Report(ctx, w); err != nil {
			t.Fatal(err)
		}
		s := pipeline.Settlement{Claim: c.Claim, Kind: pipeline.Release}
		if status == pipeline.StatusRetry {
			it.Attempts++
			it.NotBefore = time.Now().Add(time.Minute).Unix()
			b, _ := it.MarshalJSON()
			s = pipeline.Settlement{Claim: c.Claim, Kind: pipeline.Requeue, Item: b}
		}
		if err := in.Settle(ctx, []pipeline.Settlement{s}); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range claimed[:15] {
		finish(in, c)
	}
	_ = in.Close() // the worker dies with 5 leases in flight
	in2 := newIntake()
	defer in2.Close()
	recovered, err := in2.Recover(ctx)
	if err != nil || len(recovered) != 5 || recovered[0].Claim == "" {
		t.Fatalf("recovered %d, %v", len(recovered), err)
	}
	for _, c := range recovered {
		finish(in2, c)
	}
	stop := run(box)
	defer stop()
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := box.WaitEmpty(wctx); err != nil {
		t.Fatal(err)
	}
	for _, b := range fake.Builds() {
		if b.Status != want[b.Package] {
			t.Errorf("%s ended %q, want %q", b.Package, b.Status, want[b.Package])
		}
		if b.Status == "retry" && b.BackoffUntil == 0 {
			t.Errorf("%s retry without backoff_until", b.Package)
		}
	}
	first := map[string]string{}
	for _, s := range fake.BuildStatuses() {
		if _, ok := first[s.Package]; !ok {
			first[s.Package] = s.Status
		}
		if s.Attempts != 2 {
			t.Errorf("%s status %s with attempts %d, want 2 (the popped count)", s.Package, s.Status, s.Attempts)
		}
	}
	for name, st := range first {
		if st != "building" {
			t.Errorf("%s: first status %q, want building", name, st)
		}
	}
	if u := fake.UnknownBuildStatuses(); len(u) != 0 {
		t.Errorf("unknown statuses: %+v", u)
	}
}

// A recorded outcome re-reported after a crash carries only the raw item: its
// build status is still sent, with the same key as the first report.
func TestRedeliveredLeasedOutcomeGetsItsStatus(t *testing.T) {
	box := openBox(t, t.TempDir(), nil)
	defer box.Close()
	rep, _ := outbox.NewReporter(outbox.ReporterOptions{Outbox: box})
	raw := []byte(`{"package":"numpy","version":"1.26.4","attempts":1,"x_refinery_lease":{"attempts":2}}`)
	w := &pipeline.Work{Claim: "cp-1", Raw: raw, Outcome: &pipeline.Outcome{Redelivered: true,
		Entry: pipeline.ManifestEntry{Name: "numpy", Version: "1.26.4", Status: pipeline.StatusBuilt, Metadata: map[string]any{"attempt": float64(2)}}}}
	if err := rep.Report(context.Background(), w); err != nil {
		t.Fatal(err)
	}
	if box.Backlog() != 4 {
		t.Fatalf("backlog = %d, want manifest, log, event and build status", box.Backlog())
	}
}
