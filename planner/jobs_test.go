package planner_test

import (
	"context"
	"errors"
	"testing"

	"github.com/refinery/refinery-worker/pipeline"
	"github.com/refinery/refinery-worker/planner"
)

func TestJobsOutliveTheirCaller(t *testing.T) {
	base, stop := context.WithCancel(context.Background())
	defer stop()
	jobs := planner.NewJobs(base, 1)
	release := make(chan struct{})
	job := jobs.Start(func(ctx context.Context) (*pipeline.Plan, error) {
		select {
		case <-release:
			return &pipeline.Plan{RunID: "r1"}, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	})

	caller, cancel := context.WithCancel(context.Background())
	cancel() // the HTTP budget is spent
	if _, err := job.Wait(caller); !errors.Is(err, context.Canceled) || job.Finished() {
		t.Fatalf("Wait = %v, finished %v", err, job.Finished())
	}
	got, ok := jobs.Get(job.ID)
	if !ok || got != job {
		t.Fatal("running job not found")
	}
	close(release)
	plan, err := got.Wait(context.Background())
	if err != nil || plan.RunID != "r1" {
		t.Fatalf("plan %v, %v", plan, err)
	}

	// keep=1: a second finished job pushes the first out.
	second := jobs.Start(func(context.Context) (*pipeline.Plan, error) { return nil, errors.New("conflict") })
	if _, err := second.Wait(context.Background()); err == nil {
		t.Fatal("error lost")
	}
	if _, ok := jobs.Get(job.ID); ok {
		t.Error("oldest finished job kept beyond keep=1")
	}
	if _, ok := jobs.Get(second.ID); !ok {
		t.Error("newest finished job forgotten")
	}
}

func TestJobsStopWithBase(t *testing.T) {
	base, stop := context.WithCancel(context.Background())
	jobs := planner.NewJobs(base, 0)
	job := jobs.Start(func(ctx context.Context) (*pipeline.Plan, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	})
	stop()
	if _, err := job.Wait(context.Background()); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v", err)
	}
}
