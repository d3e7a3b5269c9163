package resolve

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/refinery/refinery-worker/pipeline/pep440"
	"github.com/refinery/refinery-worker/pipeline/pep508"
)

// randomGraph makes n packages p0..p(n-1) with versions 1..3, each version
// depending on up to three other packages with random bounds.
func randomGraph(r *rand.Rand, n int) memIndex {
	ops := []string{"<", ">=", "==", "==", "!=", ""}
	ix := memIndex{}
	for i := range n {
		name := fmt.Sprintf("p%d", i)
		ix[name] = map[string][]string{}
		for v := 1; v <= 3; v++ {
			var deps []string
			for range r.IntN(4) {
				dep := r.IntN(n)
				if dep == i {
					continue
				}
				op := ops[r.IntN(len(ops))]
				spec := ""
				if op != "" {
					spec = fmt.Sprintf("%s%d", op, 1+r.IntN(3))
				}
				deps = append(deps, fmt.Sprintf("p%d%s", dep, spec))
			}
			ix[name][fmt.Sprintf("%d", v)] = deps
		}
	}
	return ix
}

type parsedGraph map[string]map[int][]pep508.Requirement

func parseGraph(ix memIndex) parsedGraph {
	out := parsedGraph{}
	for name, vs := range ix {
		out[name] = map[int][]pep508.Requirement{}
		for v, deps := range vs {
			var n int
			fmt.Sscan(v, &n)
			for _, d := range deps {
				r, _ := pep508.ParseRequirement(d)
				out[name][n] = append(out[name][n], r)
			}
		}
	}
	return out
}

// valid reports whether assignment (package → version, 0 = absent) meets
// the roots and every present package's dependencies.
func valid(g parsedGraph, roots []pep508.Requirement, assign map[string]int) bool {
	check := func(r pep508.Requirement) bool {
		v := assign[r.Key()]
		return v != 0 && r.Specifiers.Contains(pep440.MustParse(fmt.Sprint(v)), true)
	}
	for _, r := range roots {
		if !check(r) {
			return false
		}
	}
	for name, v := range assign {
		if v == 0 {
			continue
		}
		for _, r := range g[name][v] {
			if !check(r) {
				return false
			}
		}
	}
	return true
}

// bruteForce reports whether any assignment is valid.
func bruteForce(g parsedGraph, roots []pep508.Requirement, n int) bool {
	assign := map[string]int{}
	var try func(i int) bool
	try = func(i int) bool {
		if i == n {
			return valid(g, roots, assign)
		}
		for v := range 4 {
			assign[fmt.Sprintf("p%d", i)] = v
			if try(i + 1) {
				return true
			}
		}
		return false
	}
	return try(0)
}

// TestResolveAgainstBruteForce checks on random graphs that the resolver
// (backjumping included) finds a resolution exactly when one exists, and
// that what it finds is valid.
func TestResolveAgainstBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	const size = 5
	env := pep508.TargetEnv("3.11", "manylinux2014_s390x")
	solvable, graphs := 0, 300
	if raceEnabled {
		graphs = 40 // the brute force is slow under the race detector
	}
	for n := range graphs {
		ix := randomGraph(r, size)
		var roots []pep508.Requirement
		for i := range 1 + r.IntN(2) {
			req, _ := pep508.ParseRequirement(fmt.Sprintf("p%d>=%d", i, 1+r.IntN(2)))
			roots = append(roots, req)
		}
		g := parseGraph(ix)
		want := bruteForce(g, roots, size)
		res, err := New(ix, Options{Env: env, Logger: quiet, Prefetch: -1}).Resolve(context.Background(), roots)
		if want != (err == nil) {
			t.Fatalf("graph %d %v roots %v: brute force %v, resolver %v", n, ix, roots, want, err)
		}
		if err != nil {
			continue
		}
		solvable++
		assign := map[string]int{}
		for _, p := range res.Packages {
			var v int
			fmt.Sscan(p.Version.String(), &v)
			assign[p.Name] = v
		}
		if !valid(g, roots, assign) {
			t.Fatalf("graph %d %v roots %v: invalid resolution %v", n, ix, roots, assign)
		}
	}
	t.Logf("%d of %d random graphs solvable", solvable, graphs)
}
