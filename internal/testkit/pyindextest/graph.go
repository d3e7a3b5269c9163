package pyindextest

import (
	"fmt"
	"math/rand/v2"
)

// GraphSpec describes a generated index for resolver benchmarks and tests.
type GraphSpec struct {
	// Projects is how many projects the index has (g0000, g0001, ...).
	Projects int
	// Versions per project: 1.0, 2.0, ... (4 when 0).
	Versions int
	// BrokenPercent of the projects have a newest release that needs a
	// version of another project that does not exist.
	BrokenPercent float64
	// Roots is how many of the first projects are the requirements
	// (Projects/16, at least 1, when 0).
	Roots int
	// Seed makes the graph reproducible.
	Seed uint64
}

// Graph is a generated index with its requirements.
type Graph struct {
	Dists []Dist
	// Roots are requirement lines ("g0000", ...).
	Roots []string
	// Broken names the projects whose newest release cannot be used.
	Broken []string
}

// GraphName is the name of project i of a generated graph.
func GraphName(i int) string { return fmt.Sprintf("g%04d", i) }

// NewGraph builds a solvable graph: every version depends on up to three
// projects further down with bounds that all admit 2.0, so choosing 2.0
// everywhere is valid; reaching the newest usable versions takes
// backtracking over the broken newest releases and the upper bounds.
// Every file is a py3-none-any wheel with PEP 658 metadata on even
// projects, so pip installs nothing from source.
func NewGraph(spec GraphSpec) Graph {
	if spec.Versions == 0 {
		spec.Versions = 4
	}
	if spec.Roots == 0 {
		spec.Roots = max(1, spec.Projects/16)
	}
	r := rand.New(rand.NewPCG(spec.Seed, uint64(spec.Projects)))
	bounds := []string{"", ">=1.0", ">=2.0", "<3.0", "!=3.0", "<4.0", ">=1.0,<3.5"}
	brokenCount := int(float64(spec.Projects)*spec.BrokenPercent/100 + 0.5)
	broken := map[int]bool{}
	for len(broken) < brokenCount && len(broken) < spec.Projects {
		broken[r.IntN(spec.Projects)] = true
	}
	var g Graph
	for i := range spec.Roots {
		g.Roots = append(g.Roots, GraphName(i))
	}
	for i := range spec.Projects {
		if broken[i] {
			g.Broken = append(g.Broken, GraphName(i))
		}
		for v := 1; v <= spec.Versions; v++ {
			var deps []string
			if rest := spec.Projects - i - 1; rest > 0 {
				for range 1 + r.IntN(3) {
					j := i + 1 + r.IntN(rest)
					deps = append(deps, GraphName(j)+bounds[r.IntN(len(bounds))])
				}
			}
			if v == spec.Versions && broken[i] {
				deps = append(deps, GraphName(r.IntN(spec.Projects))+">=99")
			}
			g.Dists = append(g.Dists, Dist{
				Name: GraphName(i), Version: fmt.Sprintf("%d.0", v), Requires: deps,
				WheelTags: []string{"py3-none-any"}, PEP658: i%2 == 0,
			})
		}
	}
	return g
}
