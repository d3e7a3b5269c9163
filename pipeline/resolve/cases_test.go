package resolve

import (
	"context"
	"slices"
	"testing"

	"github.com/refinery/refinery-worker/pipeline/pep508"
)

// TestResolveFollowsAllDemands covers, in memory, what the planner tests
// cover on a local index: a missing project is a conflict to backtrack
// from, and pre-releases and yanked releases that a later demand names
// are chosen whatever the order of the roots.
func TestResolveFollowsAllDemands(t *testing.T) {
	ix := memIndex{
		"tool":  {"3.0": {"no-such-project"}, "2.0": {"ghost>=5"}, "1.0": {"ghost"}},
		"ghost": {"1.0": nil},
		"pre6":  {"1.0": nil, "2.0a1": nil},
		"hostq": {"1.0": {"pre6>=2.0a1"}},
		"yk9":   {"1.0": nil, "1.1!yanked": nil},
		"hosty": {"1.0": {"yk9==1.1"}},
		// via an extra: the demand exists because wantx asked for x[fast].
		"x":     {"1.0": {`pre6>=2.0a1; extra == "fast"`}},
		"wantx": {"1.0": {"x[fast]"}},
	}
	env := pep508.TargetEnv("3.11", "manylinux2014_s390x")
	tests := []struct {
		roots, want []string
	}{
		{[]string{"tool"}, []string{"tool==1.0", "ghost==1.0"}},
		{[]string{"pre6", "hostq"}, []string{"pre6==2.0a1", "hostq==1.0"}},
		{[]string{"hostq", "pre6"}, []string{"hostq==1.0", "pre6==2.0a1"}},
		{[]string{"yk9", "hosty"}, []string{"yk9==1.1", "hosty==1.0"}},
		{[]string{"pre6", "wantx"}, []string{"pre6==2.0a1", "wantx==1.0", "x==1.0"}},
		{[]string{"pre6", "yk9"}, []string{"pre6==1.0", "yk9==1.0"}},
	}
	for _, tt := range tests {
		res, err := New(ix, Options{Env: env, Logger: quiet}).Resolve(context.Background(), reqs(t, tt.roots...))
		if err != nil {
			t.Errorf("%v: %v", tt.roots, err)
			continue
		}
		if got := pins(res); !slices.Equal(got, tt.want) {
			t.Errorf("%v: resolution = %v, want %v", tt.roots, got, tt.want)
		}
	}
}
