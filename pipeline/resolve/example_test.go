package resolve_test

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/refinery/refinery-worker/pipeline/pep440"
	"github.com/refinery/refinery-worker/pipeline/pep508"
	"github.com/refinery/refinery-worker/pipeline/resolve"
)

// tinyIndex serves two projects from memory.
type tinyIndex map[string]map[string][]string

func (ix tinyIndex) Releases(_ context.Context, name string) ([]resolve.Release, error) {
	var out []resolve.Release
	for v := range ix[name] {
		out = append(out, resolve.Release{Version: pep440.MustParse(v)})
	}
	return out, nil
}

func (ix tinyIndex) Dependencies(_ context.Context, name string, v pep440.Version) (resolve.Dependencies, error) {
	var reqs []pep508.Requirement
	for _, s := range ix[name][v.String()] {
		r, err := pep508.ParseRequirement(s)
		if err != nil {
			return resolve.Dependencies{}, err
		}
		reqs = append(reqs, r)
	}
	return resolve.Dependencies{Requires: reqs, Known: true}, nil
}

func ExampleResolver_Resolve() {
	index := tinyIndex{
		"requests": {"2.31.0": {"urllib3<3,>=1.21.1", `PySocks!=1.5.7; extra == "socks"`}},
		"urllib3":  {"1.26.18": nil, "2.2.1": nil, "3.0.0": nil},
		"pysocks":  {"1.7.1": nil},
	}
	overrides, _ := resolve.ParseOverrides(`{"URLLIB3": "==1.26.18"}`)
	r := resolve.New(index, resolve.Options{
		Env:       pep508.TargetEnv("3.11", "manylinux2014_s390x"),
		Overrides: overrides,
		Logger:    slog.New(slog.DiscardHandler),
	})
	root, _ := pep508.ParseRequirement("requests[socks]>=2.31")
	res, err := r.Resolve(context.Background(), []pep508.Requirement{root})
	if err != nil {
		panic(err)
	}
	for _, p := range res.Packages {
		fmt.Println(p.Name, p.Version, p.Depth, p.Overridden)
	}
	// Output:
	// requests 2.31.0 0 false
	// urllib3 1.26.18 1 true
	// pysocks 1.7.1 1 false
}
