package handlers

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/refinery/refinery-worker/pipeline"
)

// The registry behind /status and cancel: lookups by correlation id or job
// id, the requeue wish, the listing oldest first with each log's last line.
func TestRunning(t *testing.T) {
	type build struct {
		cid, jobID string
		started    time.Time
		lines      []string
	}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	builds := []build{
		{"k2", "job-2", t0.Add(2 * time.Second), nil},
		{"k1", "job-1", t0, []string{"first", "last line"}},
		{"k3", "job-3", t0.Add(time.Second), []string{"only"}},
	}
	for _, tc := range []struct {
		name      string
		cancel    string
		requeue   bool
		found     bool
		cancelled string // correlation id whose context ends
	}{
		{name: "by correlation id", cancel: "k1", found: true, cancelled: "k1"},
		{name: "by job id, with requeue", cancel: "job-3", requeue: true, found: true, cancelled: "k3"},
		{name: "unknown id", cancel: "nope"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := NewRunning()
			ctxs := map[string]context.Context{}
			for _, b := range builds {
				ctx, cancel := context.WithCancelCause(context.Background())
				t.Cleanup(func() { cancel(nil) })
				ctxs[b.cid] = ctx
				log := &memJobLog{}
				for _, l := range b.lines {
					_, _ = log.Write([]byte(l + "\n"))
				}
				r.add(&pipeline.Work{CorrelationID: b.cid, Job: &pipeline.Job{ID: b.jobID, Name: "n" + b.cid, Version: "1", Attempt: 1}}, cancel, log)
				r.builds[b.cid].started = b.started
			}
			if got := r.Cancel(tc.cancel, tc.requeue); got != tc.found {
				t.Fatalf("Cancel(%q) = %v, want %v", tc.cancel, got, tc.found)
			}
			for cid, ctx := range ctxs {
				ended := ctx.Err() != nil
				if ended != (cid == tc.cancelled) {
					t.Errorf("build %s: context ended %v", cid, ended)
				}
				if ended && !errors.Is(context.Cause(ctx), pipeline.ErrCancelled) {
					t.Errorf("build %s: cause %v, want ErrCancelled", cid, context.Cause(ctx))
				}
				if want := cid == tc.cancelled && tc.requeue; r.requeueRequested(cid) != want {
					t.Errorf("build %s: requeue requested %v, want %v", cid, !want, want)
				}
			}
			list := r.List()
			if len(list) != 3 || r.Len() != 3 {
				t.Fatalf("List %d, Len %d, want 3", len(list), r.Len())
			}
			for i, want := range []struct{ cid, last string }{{"k1", "last line"}, {"k3", "only"}, {"k2", ""}} {
				if list[i].CorrelationID != want.cid || list[i].LastLine != want.last || list[i].Running <= 0 {
					t.Errorf("List[%d] = %+v, want %s with last line %q", i, list[i], want.cid, want.last)
				}
			}
			r.remove("k1")
			if r.Len() != 2 || r.Cancel("k1", false) || r.requeueRequested("k1") {
				t.Error("a removed build is still known")
			}
		})
	}
}
