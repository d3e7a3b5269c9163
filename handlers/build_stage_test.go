package handlers

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/refinery/refinery-worker/pipeline"
)

type buildsSeen struct{ results []pipeline.Result }

func (b *buildsSeen) ObserveBuild(r pipeline.Result) { b.results = append(b.results, r) }

func buildWork(cid string) *pipeline.Work {
	return &pipeline.Work{CorrelationID: cid, Claim: "c-" + cid,
		Job: &pipeline.Job{ID: "job-" + cid, Name: "pkg", Display: "Pkg", Version: "1.0", Attempt: 1}}
}

// One build through the stage: what reaches worker.results for each kind of
// runner answer, with the job log's tail, masking and metadata applied.
func TestBuildStagePublishesTheResult(t *testing.T) {
	for _, tc := range []struct {
		name      string
		runner    scriptedRunner
		logs      *memLogs
		replayOf  string
		published bool
		check     func(t *testing.T, w *pipeline.Work)
	}{
		{name: "built: no tail, log metadata merged, duration set",
			runner:    scriptedRunner{res: pipeline.Result{Status: pipeline.StatusBuilt, LogTail: []string{"runner's own"}}, lines: []string{"ok"}},
			logs:      &memLogs{meta: map[string]any{"stream_lines": 1}},
			published: true,
			check: func(t *testing.T, w *pipeline.Work) {
				r := w.Result
				if r.Status != pipeline.StatusBuilt || r.LogTail != nil || r.Metadata["stream_lines"] != 1 || r.Duration <= 0 {
					t.Errorf("result %+v", r)
				}
				if w.Job.LogPath != "/out/logs/job.log" {
					t.Errorf("log path %q", w.Job.LogPath)
				}
			}},
		{name: "failed: tail from the job log, secret masked everywhere",
			runner: scriptedRunner{res: pipeline.Result{Status: pipeline.StatusFailed, Reason: pipeline.ReasonExit, ExitCode: 2,
				Error: "exit 2 with tok-123", Metadata: map[string]any{"cmd": "pip --token tok-123", "n": 3}},
				lines: []string{"compiling", "token=tok-123 rejected"}},
			logs:      &memLogs{secret: "tok-123"},
			published: true,
			check: func(t *testing.T, w *pipeline.Work) {
				r := w.Result
				if want := []string{"compiling", "token=[REDACTED] rejected"}; !reflect.DeepEqual(r.LogTail, want) {
					t.Errorf("tail %q, want %q", r.LogTail, want)
				}
				if strings.Contains(r.Error, "tok-123") || strings.Contains(r.Metadata["cmd"].(string), "tok-123") || r.Metadata["n"] != 3 {
					t.Errorf("not masked: %+v", r)
				}
			}},
		{name: "job log cannot open: a runner failure is published",
			runner:    scriptedRunner{res: pipeline.Result{Status: pipeline.StatusBuilt}},
			logs:      &memLogs{err: errStage},
			published: true,
			check: func(t *testing.T, w *pipeline.Work) {
				if w.Result.Status != pipeline.StatusFailed || w.Result.Reason != pipeline.ReasonRunner || w.Result.Error != errStage.Error() {
					t.Errorf("result %+v", w.Result)
				}
			}},
		{name: "stopped by shutdown: nothing published",
			runner:    scriptedRunner{res: pipeline.Result{Status: pipeline.StatusFailed, Reason: pipeline.ReasonShutdown}},
			published: false},
		{name: "replay: a job id of its own",
			runner:    scriptedRunner{res: pipeline.Result{Status: pipeline.StatusBuilt}},
			replayOf:  "worker.jobs@5",
			published: true,
			check: func(t *testing.T, w *pipeline.Work) {
				if !strings.HasPrefix(w.Job.ID, "job-a-r") || len(w.Job.ID) != len("job-a-r")+8 {
					t.Errorf("job id %q", w.Job.ID)
				}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pub, seen := &memPublisher{}, &buildsSeen{}
			logs := tc.logs
			if logs == nil {
				logs = &memLogs{}
			}
			b := NewBuild(context.Background(), &tc.runner, logs, pub, NewRunning(), 1, discardLogger())
			b.Observe(seen)
			var startedIDs []string
			b.OnStart(func(_ context.Context, w *pipeline.Work) { startedIDs = append(startedIDs, w.CorrelationID) })
			w := buildWork("a")
			w.ReplayOf = tc.replayOf
			if next, err := b.Handle(context.Background(), w); next != "" || err != nil {
				t.Fatalf("Handle = %q, %v", next, err)
			}
			b.Wait()
			if got := len(pub.works) == 1; got != tc.published {
				t.Fatalf("published %d works, want published=%v", len(pub.works), tc.published)
			}
			if tc.published && pub.topic[0] != pipeline.TopicResults {
				t.Errorf("topic %s", pub.topic[0])
			}
			if logs.err == nil {
				if len(logs.opened) != 1 || !logs.opened[0].closed {
					t.Errorf("job log not opened and closed once: %d", len(logs.opened))
				}
				if len(startedIDs) != 1 || len(seen.results) != 1 {
					t.Errorf("on start %v, observed %d", startedIDs, len(seen.results))
				}
			}
			if tc.check != nil {
				tc.check(t, w)
			}
		})
	}
}

// An operator's cancel stops the build with reason cancelled; asked with
// requeue, the result says so, so the requeue policy sends the item back.
func TestBuildStageCancel(t *testing.T) {
	for _, requeue := range []bool{false, true} {
		t.Run(map[bool]string{false: "cancel", true: "cancel and requeue"}[requeue], func(t *testing.T) {
			runner := &scriptedRunner{block: true, started: make(chan pipeline.Job, 1)}
			pub, running := &memPublisher{}, NewRunning()
			b := NewBuild(context.Background(), runner, &memLogs{}, pub, running, 1, discardLogger())
			if _, err := b.Handle(context.Background(), buildWork("a")); err != nil {
				t.Fatal(err)
			}
			job := <-runner.started
			if running.Len() != 1 {
				t.Fatalf("running %d builds, want 1", running.Len())
			}
			if !running.Cancel(job.ID, requeue) {
				t.Fatal("Cancel by job id found no build")
			}
			b.Wait()
			if running.Len() != 0 || len(pub.works) != 1 {
				t.Fatalf("running %d, published %d", running.Len(), len(pub.works))
			}
			r := pub.works[0].Result
			if r.Reason != pipeline.ReasonCancelled || (r.Metadata[MetaRequeueRequested] == true) != requeue {
				t.Errorf("result %+v", r)
			}
		})
	}
}

// With every slot taken, Handle waits; it gives up with the caller's context,
// and starts nothing once the worker is shutting down.
func TestBuildStageSlots(t *testing.T) {
	runner := &scriptedRunner{block: true, started: make(chan pipeline.Job, 1)}
	base, stop := context.WithCancelCause(context.Background())
	pub := &memPublisher{}
	b := NewBuild(base, runner, &memLogs{}, pub, NewRunning(), 1, discardLogger())
	if _, err := b.Handle(context.Background(), buildWork("a")); err != nil {
		t.Fatal(err)
	}
	<-runner.started

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := b.Handle(ctx, buildWork("b")); !errors.Is(err, context.Canceled) {
		t.Errorf("Handle with a cancelled caller and no free slot: %v, want context.Canceled", err)
	}

	stop(pipeline.ErrShutdown)
	if next, err := b.Handle(context.Background(), buildWork("c")); next != "" || err != nil {
		t.Errorf("Handle during shutdown = %q, %v", next, err)
	}
	b.Wait()
	if len(pub.works) != 0 {
		t.Errorf("a build stopped by shutdown published %+v", pub.works[0].Result)
	}
	if _, err := b.Handle(context.Background(), buildWork("d")); err != nil {
		t.Errorf("Handle after Wait: %v", err)
	}
}

func TestAlnum(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"a-b_c.D9", 8, "abcD9"},
		{"0123456789", 4, "0123"},
		{"--", 3, ""},
		{"ünï", 5, "n"},
	} {
		if got := alnum(tc.in, tc.n); got != tc.want {
			t.Errorf("alnum(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}
