package handlers

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/refinery/refinery-worker/pipeline"
)

var reportNow = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func reportRequest(t *testing.T, it pipeline.Item) *pipeline.Request {
	t.Helper()
	req, err := pipeline.ValidateItem(it)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// What the report stage records and hands to the reporter for each kind of
// work, and where the work goes next.
func TestReportStage(t *testing.T) {
	policy := RequeuePolicy{Enabled: true, MaxAttempts: 3, Base: time.Second, Max: time.Minute}
	job := &pipeline.Job{ID: "j1", Name: "pyyaml", Display: "PyYAML", Version: "6.0.1", PythonTag: "cp311",
		PlatformTag: "manylinux2014_s390x", Attempt: 2, LogPath: "/out/logs/pyyaml.log", HintIDs: []string{"h1"},
		Recipes: []string{"dnf:libyaml-devel"}}
	for _, tc := range []struct {
		name      string
		work      func(t *testing.T) *pipeline.Work
		returned  bool // the claim was given back at shutdown
		recErr    error
		repErr    error
		next      string
		wantErr   error
		recorded  bool
		reported  bool
		wantClaim string
		check     func(t *testing.T, e pipeline.ManifestEntry)
	}{
		{name: "built job", next: pipeline.TopicReported, recorded: true, reported: true, wantClaim: "c1",
			work: func(t *testing.T) *pipeline.Work {
				return &pipeline.Work{Claim: "c1", CorrelationID: "k1", Request: reportRequest(t, pipeline.Item{Package: "pyyaml"}), Job: job,
					Plan: &pipeline.PlanRef{RunID: "run-7"}, Result: &pipeline.Result{Status: pipeline.StatusBuilt, Duration: 1500 * time.Millisecond,
						Wheels: []pipeline.Wheel{{File: "PyYAML-6.0.1-cp311-cp311-manylinux2014_s390x.whl"}}}}
			},
			check: func(t *testing.T, e pipeline.ManifestEntry) {
				m := e.Metadata
				if e.Status != pipeline.StatusBuilt || e.Name != "PyYAML" || e.Wheel == "" || e.PlatformTag != "manylinux2014_s390x" {
					t.Errorf("entry %+v", e)
				}
				want := map[string]any{pipeline.MetaAttempt: 2, pipeline.MetaLog: "logs/pyyaml.log", pipeline.MetaDurationMS: int64(1500),
					pipeline.MetaClaim: "c1", pipeline.MetaCorrelationID: "k1", pipeline.MetaRunID: "run-7", "worker_id": "w1",
					pipeline.MetaExitCode: 0, "requested_name": "pyyaml", pipeline.MetaRecordedAt: reportNow.Format(time.RFC3339Nano)}
				for k, v := range want {
					if !reflect.DeepEqual(m[k], v) {
						t.Errorf("metadata %s = %#v, want %#v", k, m[k], v)
					}
				}
				if !reflect.DeepEqual(m[pipeline.MetaHintIDs], []string{"h1"}) || !reflect.DeepEqual(m[pipeline.MetaRecipes], job.Recipes) {
					t.Errorf("hints/recipes %v %v", m[pipeline.MetaHintIDs], m[pipeline.MetaRecipes])
				}
			}},
		{name: "failed with attempts left is recorded as retry", next: pipeline.TopicReported, recorded: true, reported: true, wantClaim: "c2",
			work: func(t *testing.T) *pipeline.Work {
				return &pipeline.Work{Claim: "c2", Request: reportRequest(t, pipeline.Item{Package: "six", Version: "1.16.0", Attempts: 1}),
					Result: &pipeline.Result{Status: pipeline.StatusFailed, Reason: pipeline.ReasonExit, ExitCode: 1, Error: "boom",
						LogTail: []string{"line 1", "line 2"}}}
			},
			check: func(t *testing.T, e pipeline.ManifestEntry) {
				m := e.Metadata
				if e.Status != pipeline.StatusRetry || m[pipeline.MetaAttempt] != 2 || m[pipeline.MetaError] != "boom" ||
					m[pipeline.MetaReason] != pipeline.ReasonExit || m[pipeline.MetaExitCode] != 1 || m["log_tail"] == nil {
					t.Errorf("entry %+v", e)
				}
				if e.PythonTag != "cp311" || e.PlatformTag != "manylinux2014_s390x" {
					t.Errorf("target tags not filled in: %q %q", e.PythonTag, e.PlatformTag)
				}
			}},
		{name: "failed on the last attempt stays failed", next: pipeline.TopicReported, recorded: true, reported: true, wantClaim: "c3",
			work: func(t *testing.T) *pipeline.Work {
				return &pipeline.Work{Claim: "c3", Request: reportRequest(t, pipeline.Item{Package: "six", Version: "1.16.0", Attempts: 3}),
					Result: &pipeline.Result{Status: pipeline.StatusFailed, Reason: pipeline.ReasonExit}}
			},
			check: func(t *testing.T, e pipeline.ManifestEntry) {
				if e.Status != pipeline.StatusFailed {
					t.Errorf("status %s", e.Status)
				}
			}},
		{name: "no plan: built as asked is marked", next: pipeline.TopicReported, recorded: true, reported: true, wantClaim: "c4",
			work: func(t *testing.T) *pipeline.Work {
				return &pipeline.Work{Claim: "c4", Request: reportRequest(t, pipeline.Item{Package: "six", Version: "1.16.0", PythonVersion: "3.12"}),
					Plan: &pipeline.PlanRef{Source: PlanNone}, Result: &pipeline.Result{Status: pipeline.StatusSkipped}}
			},
			check: func(t *testing.T, e pipeline.ManifestEntry) {
				if e.Metadata["plan"] != PlanNone || e.PythonTag != "cp312" {
					t.Errorf("entry %+v", e)
				}
			}},
		{name: "no result at all is an internal failure", next: pipeline.TopicReported, recorded: true, reported: true, wantClaim: "c5",
			work: func(*testing.T) *pipeline.Work { return &pipeline.Work{Claim: "c5"} },
			check: func(t *testing.T, e pipeline.ManifestEntry) {
				if e.Status != pipeline.StatusFailed || e.Metadata[pipeline.MetaReason] != "internal" {
					t.Errorf("entry %+v", e)
				}
			}},
		{name: "given back at shutdown: nothing recorded", returned: true, next: "",
			work: func(*testing.T) *pipeline.Work {
				return &pipeline.Work{Claim: "c6", Result: &pipeline.Result{Status: pipeline.StatusBuilt}}
			}},
		{name: "redelivered recorded outcome: reported again, not recorded", next: pipeline.TopicReported, reported: true, wantClaim: "c7",
			work: func(*testing.T) *pipeline.Work {
				return &pipeline.Work{Claim: "c7", Outcome: &pipeline.Outcome{Redelivered: true,
					Entry: pipeline.ManifestEntry{Status: pipeline.StatusBuilt, Metadata: map[string]any{"claim": "c7"}}}}
			}},
		{name: "redelivered entry without metadata: not reported", next: pipeline.TopicReported,
			work: func(*testing.T) *pipeline.Work {
				return &pipeline.Work{Claim: "c8", Outcome: &pipeline.Outcome{Redelivered: true, Entry: pipeline.ManifestEntry{Status: pipeline.StatusBuilt}}}
			}},
		{name: "replay: a claim of its own", next: pipeline.TopicReported, recorded: true, reported: true, wantClaim: "c9~replay-worker.results@3",
			work: func(*testing.T) *pipeline.Work {
				return &pipeline.Work{Claim: "c9", ReplayOf: "worker.results@3", Result: &pipeline.Result{Status: pipeline.StatusBuilt},
					Outcome: &pipeline.Outcome{Redelivered: true}}
			}},
		{name: "record fails: error, nothing reported", recErr: errStage, wantErr: errStage,
			work: func(*testing.T) *pipeline.Work {
				return &pipeline.Work{Claim: "c10", Result: &pipeline.Result{Status: pipeline.StatusBuilt}}
			}},
		{name: "report fails after recording: error", repErr: errStage, wantErr: errStage, recorded: true,
			work: func(*testing.T) *pipeline.Work {
				return &pipeline.Work{Claim: "c11", Result: &pipeline.Result{Status: pipeline.StatusBuilt}}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			book, rep := &outcomeBook{err: tc.recErr}, &reportLog{err: tc.repErr}
			gate := claimGate{}
			w := tc.work(t)
			if tc.returned {
				gate[w.Claim] = true
			}
			r := NewReport(book, rep, gate, policy, "/out", "w1").Target("3.11", "manylinux2014_s390x")
			r.now = func() time.Time { return reportNow }
			next, err := r.Handle(context.Background(), w)
			if !errors.Is(err, tc.wantErr) || next != tc.next {
				t.Fatalf("Handle = %q, %v; want %q, %v", next, err, tc.next, tc.wantErr)
			}
			if got := len(book.outcomes) == 1; got != tc.recorded {
				t.Errorf("recorded %d outcomes, want recorded=%v", len(book.outcomes), tc.recorded)
			}
			if got := len(rep.claims) == 1; got != tc.reported {
				t.Errorf("reported %v, want reported=%v", rep.claims, tc.reported)
			} else if tc.reported && rep.claims[0] != tc.wantClaim {
				t.Errorf("reported claim %q, want %q", rep.claims[0], tc.wantClaim)
			}
			if tc.recorded && tc.check != nil {
				tc.check(t, book.outcomes[0].Entry)
			}
		})
	}
}

// Without a control-plane (nil reporter) the outcome is only recorded.
func TestReportStageWithoutReporter(t *testing.T) {
	book := &outcomeBook{}
	r := NewReport(book, nil, claimGate{}, RequeuePolicy{}, "/out", "")
	next, err := r.Handle(context.Background(), &pipeline.Work{Claim: "c", Result: &pipeline.Result{Status: pipeline.StatusBuilt}})
	if err != nil || next != pipeline.TopicReported || len(book.outcomes) != 1 {
		t.Fatalf("Handle = %q, %v; %d recorded", next, err, len(book.outcomes))
	}
	if _, ok := book.outcomes[0].Entry.Metadata["worker_id"]; ok {
		t.Error("worker_id recorded without a WORKER_ID")
	}
}

func TestRequeuePolicyWillRequeue(t *testing.T) {
	on := RequeuePolicy{Enabled: true, MaxAttempts: 2}
	failed := func(reason string, attempts int, meta map[string]any) *pipeline.Work {
		return &pipeline.Work{Request: &pipeline.Request{Item: pipeline.Item{Package: "p", Attempts: attempts}},
			Result: &pipeline.Result{Status: pipeline.StatusFailed, Reason: reason, Metadata: meta}}
	}
	for _, tc := range []struct {
		name   string
		policy RequeuePolicy
		work   *pipeline.Work
		want   bool
	}{
		{"failed, attempts left", on, failed(pipeline.ReasonExit, 1, nil), true},
		{"failed, no attempts left", on, failed(pipeline.ReasonExit, 2, nil), false},
		{"requeue disabled", RequeuePolicy{MaxAttempts: 2}, failed(pipeline.ReasonExit, 0, nil), false},
		{"shutdown is never a retry", on, failed(pipeline.ReasonShutdown, 0, nil), false},
		{"cancelled", on, failed(pipeline.ReasonCancelled, 0, nil), false},
		{"cancelled with requeue asked", on, failed(pipeline.ReasonCancelled, 0, map[string]any{MetaRequeueRequested: true}), true},
		{"built", on, &pipeline.Work{Request: &pipeline.Request{}, Result: &pipeline.Result{Status: pipeline.StatusBuilt}}, false},
		{"no request", on, &pipeline.Work{Result: &pipeline.Result{Status: pipeline.StatusFailed}}, false},
		{"no result", on, &pipeline.Work{Request: &pipeline.Request{}}, false},
	} {
		if got := tc.policy.WillRequeue(tc.work); got != tc.want {
			t.Errorf("%s: WillRequeue = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// The delay doubles per attempt up to Max, with jitter in [d/2, d].
func TestRequeuePolicyDelay(t *testing.T) {
	p := RequeuePolicy{Base: 10 * time.Second, Max: 60 * time.Second}
	for _, tc := range []struct {
		attempts int
		full     time.Duration
	}{{0, 10 * time.Second}, {1, 20 * time.Second}, {2, 40 * time.Second}, {3, 60 * time.Second}, {30, 60 * time.Second}} {
		for range 50 {
			if d := p.Delay(tc.attempts); d < tc.full/2 || d > tc.full {
				t.Fatalf("Delay(%d) = %s, want within [%s, %s]", tc.attempts, d, tc.full/2, tc.full)
			}
		}
	}
}

// A diagnosed failure's outcome leads its detail with the diagnosis line and
// carries that line alone for the summaries; an undiagnosed one carries none.
func TestReportOutcomeFailureLine(t *testing.T) {
	diagnosed := map[string]any{}
	pipeline.SetFailure(diagnosed, pipeline.Failure{Class: pipeline.ClassMissingHeader, Summary: "zz.c:1:10: fatal error: yaml.h"})
	for _, tc := range []struct {
		name    string
		meta    map[string]any
		failure string
	}{
		{"diagnosed", diagnosed, "[missing_header] zz.c:1:10: fatal error: yaml.h"},
		{"not diagnosed", nil, ""},
	} {
		book := &outcomeBook{}
		r := NewReport(book, nil, claimGate{}, RequeuePolicy{}, "/out", "")
		w := &pipeline.Work{Claim: "c", Result: &pipeline.Result{Status: pipeline.StatusFailed, Error: "exit 1", Metadata: tc.meta}}
		if _, err := r.Handle(context.Background(), w); err != nil {
			t.Fatal(err)
		}
		if w.Outcome.Failure != tc.failure || !strings.HasPrefix(w.Outcome.Detail, tc.failure) {
			t.Errorf("%s: failure %q, detail %q", tc.name, w.Outcome.Failure, w.Outcome.Detail)
		}
		if got := Summarize(w).Detail; tc.failure != "" && got != tc.failure {
			t.Errorf("%s: summary detail %q", tc.name, got)
		}
	}
}
