package outbox_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/refinery/refinery-worker/adapters/controlplane/cpfake"
	"github.com/refinery/refinery-worker/adapters/outbox"
	"github.com/refinery/refinery-worker/pipeline"
)

// Every outcome of a leased build ends its row at the control-plane with the
// build status a user expects: a build never attempted (stub runner) is not
// shown as failed.
func TestLeasedOutcomeBuildStatus(t *testing.T) {
	recorded := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		status pipeline.Status
		meta   map[string]any
		// want is the row's status at the control-plane; "" = no status sent.
		want, wantErr string
		backoff       bool
	}{
		{"built", pipeline.StatusBuilt, nil, "built", "", false},
		{"reused", pipeline.StatusReused, nil, "built", "", false},
		{"failed", pipeline.StatusFailed, map[string]any{"error": "exit 2", "reason": "exit"}, "failed", "exit 2", false},
		{"unmatched", pipeline.StatusUnmatched, map[string]any{"error": "no node"}, "failed", "no node", false},
		{"skipped by the stub", pipeline.StatusSkipped, map[string]any{"runner": "stub"}, "pending", "skipped: not attempted (stub runner)", true},
		{"skipped duplicate", pipeline.StatusSkipped, map[string]any{"reason": "duplicate", "error": "duplicate of x"}, "", "", false},
		{"retry", pipeline.StatusRetry, map[string]any{"error": "exit 1"}, "", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake := cpfake.New(cpfake.Options{Token: "tok"})
			ts, err := cpfake.Listen(fake, "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ts.Close()
			fake.AddBuilds(cpfake.Build{Package: "numpy", Version: "1.26.4"})
			box := openBox(t, t.TempDir(), newClient(t, ts.URL))
			defer box.Close()
			rep, _ := outbox.NewReporter(outbox.ReporterOptions{Outbox: box, SkipBackoff: time.Hour})
			meta := map[string]any{"recorded_at": recorded.Format(time.RFC3339Nano)}
			for k, v := range tc.meta {
				meta[k] = v
			}
			it := pipeline.Item{Package: "numpy", Version: "1.26.4", Attempts: 0,
				Extra: map[string]json.RawMessage{outbox.LeaseField: json.RawMessage(`{"attempts":1}`)}}
			w := &pipeline.Work{Claim: "cp-1", CorrelationID: "c-1",
				Request: &pipeline.Request{Item: it, Name: "numpy", Version: "1.26.4"},
				Outcome: &pipeline.Outcome{Entry: pipeline.ManifestEntry{Name: "numpy", Version: "1.26.4",
					Status: tc.status, Metadata: meta}}}
			if err := rep.Report(context.Background(), w); err != nil {
				t.Fatal(err)
			}
			stop := run(box)
			defer stop()
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			if err := box.WaitEmpty(ctx); err != nil {
				t.Fatal(err)
			}
			sts := fake.BuildStatuses()
			if tc.want == "" {
				if len(sts) != 0 {
					t.Fatalf("statuses sent: %+v, want none", sts)
				}
				return
			}
			if len(sts) != 1 {
				t.Fatalf("statuses sent: %+v, want one", sts)
			}
			row := fake.Builds()[0]
			if row.Status != tc.want || row.Error != tc.wantErr {
				t.Errorf("row ended %q (error %q), want %q (error %q)", row.Status, row.Error, tc.want, tc.wantErr)
			}
			if got, want := row.BackoffUntil, recorded.Add(time.Hour).Unix(); tc.backoff && got != want {
				t.Errorf("backoff_until = %d, want %d (outcome time + skip backoff)", got, want)
			}
		})
	}
}
