package outbox_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/refinery/refinery-worker/adapters/controlplane/cpfake"
	"github.com/refinery/refinery-worker/adapters/outbox"
	"github.com/refinery/refinery-worker/pipeline"
)

// A failed leased build is reported with a one-line summary (the diagnosis'
// when there is one, else the error's first line; never the log tail or the
// podman command line), its hint ids and its duration: stored by the newer
// control-plane, ignored without harm by the older one.
func TestFailureReportedAsSummaryAndHints(t *testing.T) {
	tail := []string{"refinery: podman run --rm --name x localhost/img pip wheel zlibby", "fatal error: zlib.h: No such file"}
	diagnosed := map[string]any{}
	pipeline.SetFailure(diagnosed, pipeline.Failure{Summary: "missing header zlib.h", Class: pipeline.ClassMissingHeader,
		Hints: []pipeline.HintMatch{{ID: "zlib-dev", Confidence: 0.9}}})
	tests := []struct {
		name      string
		version   cpfake.Version
		meta      map[string]any
		detail    string   // event detail
		summary   string   // build status failure_summary (newer)
		hints     []string // matched_hint_ids / hint_ids
		durStored bool
	}{
		{"newer, diagnosed", cpfake.VersionNew, diagnosed, "[missing_header] missing header zlib.h", "missing header zlib.h", []string{"zlib-dev", "lease-hint"}, true},
		{"newer, no diagnosis: the error's first line", cpfake.VersionNew,
			map[string]any{"error": "podman run --rm x\nbuild exited with code 1\nmore"}, "build exited with code 1", "build exited with code 1", []string{"lease-hint"}, true},
		{"older ignores the new fields", cpfake.VersionOld, diagnosed, "[missing_header] missing header zlib.h", "missing header zlib.h", []string{"zlib-dev", "lease-hint"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake := cpfake.New(cpfake.Options{Token: "tok", Version: tc.version})
			ts, err := cpfake.Listen(fake, "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ts.Close()
			fake.AddBuilds(cpfake.Build{Package: "zlibby", Version: "1.0"})
			box := openBox(t, t.TempDir(), newClient(t, ts.URL))
			defer box.Close()
			rep, _ := outbox.NewReporter(outbox.ReporterOptions{Outbox: box})
			meta := map[string]any{"duration_ms": int64(4321), "log_tail": tail}
			for k, v := range tc.meta {
				meta[k] = v
			}
			it := pipeline.Item{Package: "zlibby", Version: "1.0", RunID: "r-7",
				Extra: map[string]json.RawMessage{outbox.LeaseField: json.RawMessage(`{"attempts":1,"hint_ids":["lease-hint"]}`)}}
			w := &pipeline.Work{Claim: "cp-1", CorrelationID: "c-1",
				Request: &pipeline.Request{Item: it, Name: "zlibby", Version: "1.0"},
				Outcome: &pipeline.Outcome{Entry: pipeline.ManifestEntry{Name: "zlibby", Version: "1.0",
					Status: pipeline.StatusFailed, Metadata: meta}, Detail: "exit 1\n" + strings.Join(tail, "\n")}}
			if err := rep.Report(context.Background(), w); err != nil {
				t.Fatal(err)
			}
			if rep.LastRunID() != "r-7" {
				t.Errorf("last run id %q, want r-7", rep.LastRunID())
			}
			stop := run(box)
			defer stop()
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			if err := box.WaitEmpty(ctx); err != nil {
				t.Fatal(err)
			}
			ev := fake.Events()[0]
			if ev.Detail != tc.detail || !slices.Equal(ev.MatchedHintIDs, tc.hints) {
				t.Errorf("event detail %q hints %v, want %q %v", ev.Detail, ev.MatchedHintIDs, tc.detail, tc.hints)
			}
			if (ev.DurationMS != nil) != tc.durStored || (ev.DurationMS != nil && *ev.DurationMS != 4321) {
				t.Errorf("duration_ms %v, want stored %v", ev.DurationMS, tc.durStored)
			}
			if ev.Metadata["duration_ms"] != float64(4321) {
				t.Errorf("metadata duration_ms %v: the older version reads it there", ev.Metadata["duration_ms"])
			}
			st := fake.BuildStatuses()[0]
			wantSummary := tc.summary
			if tc.version == cpfake.VersionOld {
				wantSummary = ""
			}
			if st.Status != "failed" || st.FailureSummary != wantSummary || !slices.Equal(st.HintIDs, tc.hints) {
				t.Errorf("build status %+v, want failed with summary %q hints %v", st, wantSummary, tc.hints)
			}
			if row := fake.Builds()[0]; row.FailureSummary != wantSummary {
				t.Errorf("row failure_summary %q, want %q", row.FailureSummary, wantSummary)
			}
		})
	}
}
