package planner_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/refinery/refinery-worker/internal/testkit/pyindextest"
	"github.com/refinery/refinery-worker/pipeline"
	"github.com/refinery/refinery-worker/pipeline/resolve"
	"github.com/refinery/refinery-worker/planner"
)

// planOn starts an index of dists, plans reqs on it and returns the plan.
func planOn(t *testing.T, dists []pyindextest.Dist, cfg planner.Config, reqs string) (*pipeline.Plan, error) {
	t.Helper()
	idx, err := pyindextest.Start(dists, pyindextest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(idx.Close)
	return newPlanner(t, idx, cfg).Plan(t.Context(), writeRequirements(t, reqs))
}

func versions(plan *pipeline.Plan) []string {
	var out []string
	for _, n := range plan.Nodes {
		out = append(out, n.Name+"=="+n.Version)
	}
	slices.Sort(out)
	return out
}

func wheel(name, version string, requires ...string) pyindextest.Dist {
	return pyindextest.Dist{Name: name, Version: version, WheelTags: []string{any3}, Requires: requires}
}

// TestPlanMissingDependencyBacktracks: a dependency no index has fails
// only the release that needs it; an older release is chosen, as pip does.
func TestPlanMissingDependencyBacktracks(t *testing.T) {
	dists := []pyindextest.Dist{
		wheel("tool", "3.0", "no-such-project"),
		wheel("tool", "2.0", "ghost>=5"),
		wheel("tool", "1.0", "ghost"),
		wheel("ghost", "1.0"),
	}
	plan, err := planOn(t, dists, planner.Config{}, "tool\n")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := versions(plan), []string{"ghost==1.0", "tool==1.0"}; !slices.Equal(got, want) {
		t.Errorf("plan = %v, want %v", got, want)
	}

	// With nothing to fall back on, the error says which project is missing.
	_, err = planOn(t, dists[:1], planner.Config{}, "tool\n")
	if !errors.Is(err, resolve.ErrNotFound) || !strings.Contains(err.Error(), "no-such-project") {
		t.Errorf("err = %v, want a not-found conflict naming no-such-project", err)
	}
}

// TestPlanLineOrderDoesNotMatter: a pre-release or a yanked release that a
// later requirement names is chosen whatever the order of the lines.
func TestPlanLineOrderDoesNotMatter(t *testing.T) {
	yanked := wheel("yk9", "1.1")
	yanked.Yanked = "broken"
	dists := []pyindextest.Dist{
		wheel("pre6", "1.0"), wheel("pre6", "2.0a1"), wheel("hostq", "1.0", "pre6>=2.0a1"),
		wheel("yk9", "1.0"), yanked, wheel("hosty", "1.0", "yk9==1.1"),
	}
	tests := []struct {
		reqs string
		want []string
	}{
		{"pre6\nhostq\n", []string{"hostq==1.0", "pre6==2.0a1"}},
		{"hostq\npre6\n", []string{"hostq==1.0", "pre6==2.0a1"}},
		{"yk9\nhosty\n", []string{"hosty==1.0", "yk9==1.1"}},
		{"hosty\nyk9\n", []string{"hosty==1.0", "yk9==1.1"}},
		// Without a requirement naming them they stay out.
		{"pre6\nyk9\n", []string{"pre6==1.0", "yk9==1.0"}},
	}
	for _, tt := range tests {
		t.Run(strings.ReplaceAll(tt.reqs, "\n", " "), func(t *testing.T) {
			plan, err := planOn(t, dists, planner.Config{}, tt.reqs)
			if err != nil {
				t.Fatal(err)
			}
			if got := versions(plan); !slices.Equal(got, tt.want) {
				t.Errorf("plan = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestPlanSolvesBrokenNewestReleases: 320 projects × 4 versions where 3%
// of the newest releases need a version that does not exist (pip finds a
// valid set) resolve within the default give-up limit to a valid set; a
// low limit gives up with an error naming the packages fought over.
func TestPlanSolvesBrokenNewestReleases(t *testing.T) {
	g := pyindextest.NewGraph(pyindextest.GraphSpec{Projects: 320, BrokenPercent: 3, Seed: 1})
	plan, err := planOn(t, g.Dists, planner.Config{}, strings.Join(g.Roots, "\n"))
	if err != nil {
		t.Fatal(err)
	}
	assign := map[string]string{}
	for _, n := range plan.Nodes {
		assign[n.Name] = n.Version
	}
	if err := checkGraphAssignment(g, assign); err != nil {
		t.Fatalf("invalid plan: %v", err)
	}

	_, err = planOn(t, g.Dists, planner.Config{MaxAttempts: 3}, strings.Join(g.Roots, "\n"))
	var tc *resolve.TooComplexError
	if !errors.As(err, &tc) {
		t.Fatalf("err = %v, want the resolver to give up", err)
	}
	if len(tc.Packages) == 0 || !strings.Contains(err.Error(), "fighting over "+tc.Packages[0]) ||
		!strings.Contains(err.Error(), "RESOLVER_MAX_ATTEMPTS=3") {
		t.Errorf("error %q does not name the packages fought over and the limit", err)
	}
}
