package planner_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/refinery/refinery-worker/adapters/pyindex"
	"github.com/refinery/refinery-worker/internal/testkit/pyindextest"
	"github.com/refinery/refinery-worker/pipeline"
	"github.com/refinery/refinery-worker/planner"
)

type fakePoster struct {
	err    error
	posted []string
}

func (f *fakePoster) Post(_ context.Context, p *pipeline.Plan) error {
	f.posted = append(f.posted, p.RunID)
	return f.err
}

// newService is a Service over the graph index, writing to a temp dir.
func newService(t *testing.T, o planner.ServiceOptions) *planner.Service {
	t.Helper()
	idx, err := pyindextest.Start(graph, pyindextest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(idx.Close)
	o.Index = pyindex.Config{IndexURL: idx.URL(), PythonVersion: "3.11", CacheDir: t.TempDir(), Logger: quiet}
	o.Planner = planner.Config{PythonVersion: "3.11", PlatformTag: "manylinux2014_s390x", OutputDir: t.TempDir(), Logger: quiet}
	o.Jobs = planner.NewJobs(context.Background(), 4)
	o.Logger = quiet
	return planner.NewService(o)
}

func TestServiceRegenerate(t *testing.T) {
	cases := []struct {
		name         string
		requirements string // "" leaves REQUIREMENTS_PATH unset
		strategy     string
		overrides    map[string]string
		postErr      error
		wantErr      string
		wantPosted   bool
	}{
		{name: "plans, tells the plan source and posts", requirements: "urlparse<2\n", wantPosted: true},
		{name: "no REQUIREMENTS_PATH", wantErr: "REQUIREMENTS_PATH is not set"},
		{name: "post fails", requirements: "urlparse<2\n", postErr: errors.New("outbox full"), wantPosted: true,
			wantErr: "for the control-plane: outbox full"},
		{name: "bad strategy", requirements: "urlparse<2\n", strategy: "sideways", wantErr: "sideways"},
		{name: "bad override", requirements: "urlparse<2\n", overrides: map[string]string{"urlparse": "not a version"},
			wantErr: "PLAN_OVERRIDES_JSON: urlparse"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			poster, written := &fakePoster{err: tc.postErr}, 0
			o := planner.ServiceOptions{Poster: poster, Written: func() { written++ }, Strategy: tc.strategy, Overrides: tc.overrides}
			if tc.requirements != "" {
				o.RequirementsPath = writeRequirements(t, tc.requirements)
			}
			s := newService(t, o)
			plan, id, err := s.Regenerate(context.Background(), time.Minute)
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("Regenerate = %v, want error %q", err, tc.wantErr)
			}
			if tc.wantErr == "" && (plan == nil || len(plan.Nodes) != 1 || written != 1) {
				t.Errorf("plan %+v, plan source told %d times", plan, written)
			}
			if (len(poster.posted) == 1) != tc.wantPosted {
				t.Errorf("posted %v, want posted=%v", poster.posted, tc.wantPosted)
			}
			// The job stays visible at GET /plan/jobs/{id}.
			jp, done, jerr, found := s.Job(id)
			if !found || !done || (jerr == nil) != (err == nil) || (plan != nil && jp != plan) {
				t.Errorf("Job(%s) = %v %v %v %v", id, jp, done, jerr, found)
			}
		})
	}
}

func TestServiceJobUnknown(t *testing.T) {
	s := newService(t, planner.ServiceOptions{})
	if _, _, _, found := s.Job("nope"); found {
		t.Error("an unknown job was found")
	}
}

func TestServicePrint(t *testing.T) {
	s := newService(t, planner.ServiceOptions{})
	var out bytes.Buffer
	if err := s.Print(context.Background(), writeRequirements(t, "urlparse<2\n"), &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "urlparse") || !strings.Contains(out.String(), "1 packages, written to ") {
		t.Errorf("output:\n%s", out.String())
	}
	if err := s.Print(context.Background(), "/nonexistent/requirements.txt", &out); err == nil ||
		!strings.Contains(err.Error(), "plan /nonexistent/requirements.txt") {
		t.Errorf("missing file: %v", err)
	}
}
