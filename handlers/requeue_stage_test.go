package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/refinery/refinery-worker/pipeline"
)

// How the requeue stage ends each item at the intake, on the in-process
// transport (no enqueuer: the held item is replaced) and on a durable one
// (the retry is enqueued as a new item; the original was already released).
func TestRequeueStage(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	policy := RequeuePolicy{Enabled: true, MaxAttempts: 5, Base: 10 * time.Second, Max: time.Minute}
	retry := &pipeline.Outcome{Entry: pipeline.ManifestEntry{Status: pipeline.StatusRetry}}
	built := &pipeline.Outcome{Entry: pipeline.ManifestEntry{Name: "six", Version: "1.16.0", Status: pipeline.StatusBuilt}}
	item := pipeline.Item{Package: "six", Version: "1.16.0", Attempts: 1,
		Extra: map[string]json.RawMessage{"producer_field": json.RawMessage(`"kept"`)}}
	for _, tc := range []struct {
		name     string
		work     *pipeline.Work
		durable  bool
		enqErr   error
		wantErr  error
		kind     pipeline.SettleKind
		none     bool // nothing submitted to the settler
		newItem  bool // a retry item was written (settlement or enqueue)
		requeued bool
	}{
		{name: "built: released", work: &pipeline.Work{Claim: "c", Outcome: built}, kind: pipeline.Release},
		{name: "rejected: released", work: &pipeline.Work{Claim: "c", Raw: []byte(`{`), Rejection: &pipeline.Rejection{Field: "package", Reason: "missing"}},
			kind: pipeline.Release},
		{name: "retry: replaced by attempts+1", work: &pipeline.Work{Claim: "c", Request: &pipeline.Request{Item: item}, Outcome: retry},
			kind: pipeline.Requeue, newItem: true, requeued: true},
		{name: "retry without a request: decoded from the raw item", work: &pipeline.Work{Claim: "c", Raw: mustJSON(t, item), Outcome: retry},
			kind: pipeline.Requeue, newItem: true, requeued: true},
		{name: "retry with an undecodable raw item: error", work: &pipeline.Work{Claim: "c", Raw: []byte(`[`), Outcome: retry},
			wantErr: errAny, none: true},
		{name: "replay: settles nothing", work: &pipeline.Work{Claim: "c", ReplayOf: "worker.reported@1", Outcome: retry}, none: true},
		{name: "durable, built: done", durable: true, work: &pipeline.Work{Claim: "c", Outcome: built}, kind: pipeline.Done},
		{name: "durable, retry: enqueued, done", durable: true, work: &pipeline.Work{Claim: "c", Request: &pipeline.Request{Item: item}, Outcome: retry},
			kind: pipeline.Done, newItem: true, requeued: true},
		{name: "durable, enqueue fails: error, nothing settled", durable: true, enqErr: errStage, wantErr: errStage, none: true,
			work: &pipeline.Work{Claim: "c", Request: &pipeline.Request{Item: item}, Outcome: retry}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			settler, enq := &settleLog{}, &enqueueLog{err: tc.enqErr}
			var q *Requeue
			if tc.durable {
				q = NewRequeue(settler, policy, enq)
			} else {
				q = NewRequeue(settler, policy, nil)
			}
			q.now = func() time.Time { return now }
			next, err := q.Handle(context.Background(), tc.work)
			if next != "" || (tc.wantErr == nil) != (err == nil) || (tc.wantErr != nil && tc.wantErr != errAny && !errors.Is(err, tc.wantErr)) {
				t.Fatalf("Handle = %q, %v; want error %v", next, err, tc.wantErr)
			}
			if tc.none {
				if len(settler.settlements) != 0 {
					t.Fatalf("submitted %+v", settler.settlements)
				}
				return
			}
			if len(settler.settlements) != 1 {
				t.Fatalf("%d settlements, want 1", len(settler.settlements))
			}
			s, sum := settler.settlements[0], settler.summaries[0]
			if s.Kind != tc.kind || s.Claim != "c" || sum.Requeued != tc.requeued {
				t.Errorf("settlement %+v, summary %+v", s, sum)
			}
			raw := s.Item
			if tc.durable && len(enq.items) == 1 {
				raw = enq.items[0]
			}
			if !tc.newItem {
				if raw != nil || len(enq.items) != 0 {
					t.Errorf("a retry item was written: %s", raw)
				}
				return
			}
			got, err := pipeline.DecodeItem(raw)
			if err != nil {
				t.Fatalf("retry item %s: %v", raw, err)
			}
			if got.Attempts != 2 || got.NotBefore < now.Add(10*time.Second).Unix() || got.NotBefore > now.Add(20*time.Second).Unix() {
				t.Errorf("retry item %s: want attempts 2 and not_before in [now+10s, now+20s]", raw)
			}
			if !strings.Contains(string(raw), `"producer_field":"kept"`) {
				t.Errorf("unknown field lost: %s", raw)
			}
			if !strings.HasPrefix(sum.Detail, "requeued as attempt 3 after ") {
				t.Errorf("detail %q", sum.Detail)
			}
		})
	}
}

// errAny stands for "some error" in the tables.
var errAny = errors.New("any error")

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSummarize(t *testing.T) {
	long := strings.Repeat("x", 60)
	for _, tc := range []struct {
		name   string
		work   *pipeline.Work
		status string
		detail string
	}{
		{"rejection with a field", &pipeline.Work{Raw: []byte(long), Rejection: &pipeline.Rejection{Field: "version", Reason: "not PEP 440"}},
			pipeline.StatusRejected, "version: not PEP 440"},
		{"redelivered", &pipeline.Work{Outcome: &pipeline.Outcome{Redelivered: true, Entry: pipeline.ManifestEntry{Status: pipeline.StatusBuilt}}},
			"built", "already recorded"},
		{"error wins", &pipeline.Work{Outcome: &pipeline.Outcome{Entry: pipeline.ManifestEntry{Status: pipeline.StatusFailed}},
			Result: &pipeline.Result{Error: "exit 1", Reason: pipeline.ReasonExit}}, "failed", "exit 1"},
		{"reason without error", &pipeline.Work{Outcome: &pipeline.Outcome{Entry: pipeline.ManifestEntry{Status: pipeline.StatusFailed}},
			Result: &pipeline.Result{Reason: pipeline.ReasonTimeout}}, "failed", pipeline.ReasonTimeout},
		{"runner named", &pipeline.Work{Outcome: &pipeline.Outcome{Entry: pipeline.ManifestEntry{Status: pipeline.StatusSkipped}},
			Result: &pipeline.Result{Metadata: map[string]any{pipeline.MetaRunner: "stub"}}}, "skipped", "runner stub"},
		{"the report's diagnosis line wins", &pipeline.Work{Outcome: &pipeline.Outcome{Entry: pipeline.ManifestEntry{Status: pipeline.StatusFailed},
			Failure: "[missing_header] zz.c:1:10: fatal error"}, Result: &pipeline.Result{Error: "exit 1", Reason: pipeline.ReasonExit}},
			"failed", "[missing_header] zz.c:1:10: fatal error"},
	} {
		s := Summarize(tc.work)
		if s.Status != tc.status || s.Detail != tc.detail {
			t.Errorf("%s: status %q detail %q, want %q %q", tc.name, s.Status, s.Detail, tc.status, tc.detail)
		}
		if tc.work.Rejection != nil && len(s.Name) > len("item ")+48+len("…") {
			t.Errorf("%s: name not cut: %q", tc.name, s.Name)
		}
	}
}
