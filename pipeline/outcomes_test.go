package pipeline

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
)

type countingObserver struct{ got []Summary }

func (c *countingObserver) Settled(s Summary) { c.got = append(c.got, s) }

func TestOutcomesSettled(t *testing.T) {
	keys, tracker, obs := NewKeySet(), NewTracker(), &countingObserver{}
	var logBuf bytes.Buffer
	o := &Outcomes{Keys: keys, Tracker: tracker, Observer: obs, Logger: slog.New(slog.NewTextHandler(&logBuf, nil))}
	keys.Acquire("numpy==2.0", "corr-1")
	tracker.track(Claimed{Claim: "c1"}, nil)

	o.Settled(Summary{Claim: "c1", Key: "numpy==2.0", CorrelationID: "corr-1", Status: string(StatusBuilt), Name: "numpy"})

	if _, dup := keys.Acquire("numpy==2.0", "corr-2"); dup {
		t.Error("the key is still held after its item settled")
	}
	if tracker.InFlight() != 0 {
		t.Error("the claim is still tracked")
	}
	if len(obs.got) != 1 || obs.got[0].Claim != "c1" {
		t.Errorf("observer got %+v", obs.got)
	}
	if !strings.Contains(logBuf.String(), "msg=outcome") || !strings.Contains(logBuf.String(), "name=numpy") {
		t.Errorf("no outcome line in the log:\n%s", logBuf.String())
	}
}

type recordingSubmitter struct {
	s   []Settlement
	sum []Summary
}

func (r *recordingSubmitter) Submit(s Settlement, sum Summary) {
	r.s, r.sum = append(r.s, s), append(r.sum, sum)
}

func TestPublishReleaseReleasesAsPublished(t *testing.T) {
	sub := &recordingSubmitter{}
	PublishRelease{Settler: sub}.Release(Claimed{Claim: "c1", Raw: []byte(`{}`)})
	if len(sub.s) != 1 || sub.s[0].Claim != "c1" || sub.s[0].Kind != Release {
		t.Errorf("settlements %+v", sub.s)
	}
	if len(sub.sum) != 1 || sub.sum[0].Status != string(StatusPublished) || sub.sum[0].Claim != "c1" {
		t.Errorf("summaries %+v", sub.sum)
	}
}

type fakeJournal struct {
	refreshErr, learnErr error
	calls                []string
}

func (j *fakeJournal) Refresh() (int, error) {
	j.calls = append(j.calls, "refresh")
	return 0, j.refreshErr
}
func (j *fakeJournal) Learn() error { j.calls = append(j.calls, "learn"); return j.learnErr }

func TestRecoverRefresh(t *testing.T) {
	boom := errors.New("boom")
	cases := []struct {
		name                 string
		learn                bool
		refreshErr, learnErr error
		wantCalls            string
		wantErr              error
	}{
		{name: "file intake refreshes only", wantCalls: "refresh"},
		{name: "streaming intake also learns", learn: true, wantCalls: "refresh,learn"},
		{name: "refresh fails", learn: true, refreshErr: boom, wantCalls: "refresh", wantErr: boom},
		{name: "learn fails", learn: true, learnErr: boom, wantCalls: "refresh,learn", wantErr: boom},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			j := &fakeJournal{refreshErr: tc.refreshErr, learnErr: tc.learnErr}
			err := RecoverRefresh{Journal: j, Learn: tc.learn}.Refresh()
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil) {
				t.Errorf("err = %v, want %v", err, tc.wantErr)
			}
			if got := strings.Join(j.calls, ","); got != tc.wantCalls {
				t.Errorf("calls %s, want %s", got, tc.wantCalls)
			}
		})
	}
}

func TestTrackerWaitIdle(t *testing.T) {
	tr := NewTracker()
	if err := tr.WaitIdle(t.Context()); err != nil {
		t.Fatalf("empty tracker: %v", err)
	}
	tr.track(Claimed{Claim: "a"}, nil)
	done := make(chan error, 1)
	go func() { done <- tr.WaitIdle(t.Context()) }()
	tr.Settled(Summary{Claim: "a", Status: string(StatusBuilt)})
	if err := <-done; err != nil {
		t.Fatalf("after the claim settled: %v", err)
	}
	tr.track(Claimed{Claim: "b"}, nil)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := tr.WaitIdle(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("with a claim tracked and ctx ended: %v", err)
	}
}
