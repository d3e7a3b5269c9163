package handlers

import (
	"context"
	"reflect"
	"testing"

	"github.com/refinery/refinery-worker/pipeline"
)

func TestMatch(t *testing.T) {
	nodes := []pipeline.PlanNode{
		{Name: "PyYAML", Version: "6.0.1", PythonTag: "cp311", PlatformTag: "manylinux2014_s390x", Action: "build",
			Recipes: []pipeline.PlanRecipe{{Name: "dnf:libyaml-devel"}, {Name: "pip:cython"}}},
		{Name: "six", Version: "1.16.0", PythonTag: "py3", PlatformTag: "any", Action: "reuse"},
	}
	byName := func(n string) []pipeline.PlanNode {
		var out []pipeline.PlanNode
		for _, x := range nodes {
			if pipeline.NormalizeName(x.Name) == n {
				out = append(out, x)
			}
		}
		return out
	}
	cases := []struct {
		name      string
		req       pipeline.Item
		overrides map[string]string
		next      string
		status    pipeline.Status
		version   string
		recipes   []string
	}{
		{"name normalised, version equal", pipeline.Item{Package: "pyyaml", Version: "6.0.1"}, nil, pipeline.TopicJobs, "", "6.0.1",
			[]string{"dnf:libyaml-devel", "pip:cython"}},
		{"empty version takes the plan's", pipeline.Item{Package: "PyYaml"}, nil, pipeline.TopicJobs, "", "6.0.1", []string{"dnf:libyaml-devel", "pip:cython"}},
		{"PEP 440 equal versions match", pipeline.Item{Package: "pyyaml", Version: "6.0.1.0"}, nil, pipeline.TopicJobs, "", "6.0.1", nil},
		{"request recipes first, no duplicates", pipeline.Item{Package: "pyyaml", Version: "6.0.1", Recipes: []string{"pip:cython", "apt:libyaml-dev"}}, nil,
			pipeline.TopicJobs, "", "6.0.1", []string{"pip:cython", "apt:libyaml-dev", "dnf:libyaml-devel"}},
		{"other version is unmatched", pipeline.Item{Package: "pyyaml", Version: "5.4"}, nil, pipeline.TopicResults, pipeline.StatusUnmatched, "", nil},
		{"other platform tag is unmatched", pipeline.Item{Package: "pyyaml", PlatformTag: "manylinux2014_x86_64"}, nil, pipeline.TopicResults, pipeline.StatusUnmatched, "", nil},
		{"unknown package is unmatched", pipeline.Item{Package: "requests", Version: "2.32.3"}, nil, pipeline.TopicResults, pipeline.StatusUnmatched, "", nil},
		{"reuse node is reused", pipeline.Item{Package: "six"}, nil, pipeline.TopicResults, pipeline.StatusReused, "1.16.0", nil},
		{"override replaces the plan's version", pipeline.Item{Package: "pyyaml"}, map[string]string{"pyyaml": "6.0.2"}, pipeline.TopicJobs, "", "6.0.2", nil},
		{"override makes the old version unmatched", pipeline.Item{Package: "pyyaml", Version: "6.0.1"}, map[string]string{"pyyaml": "6.0.2"},
			pipeline.TopicResults, pipeline.StatusUnmatched, "", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, err := pipeline.ValidateItem(tc.req)
			if err != nil {
				t.Fatal(err)
			}
			w := &pipeline.Work{Request: req, Plan: &pipeline.PlanRef{RunID: "r", Nodes: byName(req.Name)}}
			m := NewMatch(MatchDefaults{PythonVersion: "3.11", PlatformTag: "manylinux2014_s390x", Overrides: tc.overrides})
			next, err := m.Handle(context.Background(), w)
			if err != nil || next != tc.next {
				t.Fatalf("next = %q (%v), want %q; result %+v", next, err, tc.next, w.Result)
			}
			if tc.status != "" && w.Result.Status != tc.status {
				t.Errorf("status = %s, want %s", w.Result.Status, tc.status)
			}
			if tc.version != "" && w.Job.Version != tc.version {
				t.Errorf("job version = %s, want %s", w.Job.Version, tc.version)
			}
			if tc.recipes != nil && !reflect.DeepEqual(w.Job.Recipes, tc.recipes) {
				t.Errorf("recipes = %v, want %v", w.Job.Recipes, tc.recipes)
			}
			if w.Job != nil && (w.Job.ID == "" || w.Job.Attempt != 1) {
				t.Errorf("job id %q attempt %d", w.Job.ID, w.Job.Attempt)
			}
		})
	}
}

func TestMatchRejectsHostilePlanNode(t *testing.T) {
	req, _ := pipeline.ValidateItem(pipeline.Item{Package: "evil"})
	w := &pipeline.Work{Request: req, Plan: &pipeline.PlanRef{Nodes: []pipeline.PlanNode{{Name: "evil", Version: "1.0",
		PlatformTag: "x --privileged", Action: "build"}}}}
	next, _ := NewMatch(MatchDefaults{PythonVersion: "3.11", PlatformTag: "p"}).Handle(context.Background(), w)
	if next != pipeline.TopicResults || w.Result.Status != pipeline.StatusFailed || w.Job != nil {
		t.Fatalf("hostile plan node: next=%s result=%+v job=%+v", next, w.Result, w.Job)
	}
}
