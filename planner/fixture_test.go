package planner_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/refinery/refinery-worker/internal/testkit/pyindextest"
	"github.com/refinery/refinery-worker/pipeline"
	"github.com/refinery/refinery-worker/planner"
)

// fixtureIndex mirrors what PyPI offers for the shared fixture
// requirements: lxml and numpy have no s390x wheels, PyYAML and
// zope.interface do, the rest are pure Python.
var fixtureIndex = []pyindextest.Dist{
	{Name: "lxml", Version: "5.2.1", WheelTags: []string{"cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64"}, Sdist: true, RequiresPython: ">=3.6"},
	{Name: "lxml", Version: "5.2.2", WheelTags: []string{"cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64"}, Sdist: true},
	{Name: "numpy", Version: "1.26.4", WheelTags: []string{"cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64", "cp311-cp311-musllinux_1_1_x86_64"}, Sdist: true, RequiresPython: ">=3.9"},
	{Name: "PyYAML", Version: "6.0.1", WheelTags: []string{"cp311-cp311-manylinux_2_17_s390x.manylinux2014_s390x"}, Sdist: true, RequiresPython: ">=3.6"},
	{Name: "PyYAML", Version: "7.0", WheelTags: []string{"py3-none-any"}},
	{Name: "requests", Version: "2.31.0", WheelTags: []string{"py3-none-any"}, PEP658: true, Extras: []string{"socks"},
		Requires: []string{"charset-normalizer<4,>=2", "idna<4,>=2.5", "urllib3<3,>=1.21.1", "certifi>=2017.4.17", `PySocks!=1.5.7,>=1.5.6; extra == "socks"`}},
	{Name: "requests", Version: "2.32.3", WheelTags: []string{"py3-none-any"}, PEP658: true, Extras: []string{"socks"}, RequiresPython: ">=3.8",
		Requires: []string{"charset-normalizer<4,>=2", "idna<4,>=2.5", "urllib3<3,>=1.21.1", "certifi>=2017.4.17", `PySocks!=1.5.7,>=1.5.6; extra == "socks"`}},
	{Name: "zope.interface", Version: "6.4", WheelTags: []string{"cp311-cp311-manylinux_2_5_s390x.manylinux1_s390x.manylinux_2_17_s390x.manylinux2014_s390x"}, Requires: []string{"setuptools"}},
	{Name: "setuptools", Version: "70.0.0", WheelTags: []string{"py3-none-any"}},
	{Name: "six", Version: "1.16.0", WheelTags: []string{"py2.py3-none-any"}, Sdist: true},
	{Name: "charset_normalizer", Version: "3.3.2", WheelTags: []string{"py3-none-any", "cp311-cp311-manylinux_2_17_s390x.manylinux2014_s390x"}},
	{Name: "charset_normalizer", Version: "3.4.0", WheelTags: []string{"py3-none-any"}},
	{Name: "idna", Version: "3.3", WheelTags: []string{"py3-none-any"}},
	{Name: "idna", Version: "3.7", WheelTags: []string{"py3-none-any"}},
	{Name: "urllib3", Version: "1.26.18", WheelTags: []string{"py2.py3-none-any"}},
	{Name: "urllib3", Version: "2.2.1", WheelTags: []string{"py3-none-any"}},
	{Name: "urllib3", Version: "3.0.0", WheelTags: []string{"py3-none-any"}},
	{Name: "certifi", Version: "2024.2.2", WheelTags: []string{"py3-none-any"}},
	{Name: "PySocks", Version: "1.7.1", WheelTags: []string{"py3-none-any"}},
	{Name: "PySocks", Version: "1.5.7", WheelTags: []string{"py3-none-any"}},
}

// TestPlanSharedFixture plans ../shared/fixtures/requirements.txt (copied
// to testdata with a constraints file) for cp311 on manylinux2014_s390x.
func TestPlanSharedFixture(t *testing.T) {
	idx, err := pyindextest.Start(fixtureIndex, pyindextest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(idx.Close)
	p := newPlanner(t, idx, planner.Config{OutputDir: t.TempDir()})
	// One --hash turns on hash-checking mode, as with pip: the file as
	// uploaded is refused with the lines that lack a pin or a hash.
	_, err = p.Plan(context.Background(), "testdata/requirements.txt")
	if err == nil || !strings.Contains(err.Error(), "hash-checking mode") || !strings.Contains(err.Error(), "lxml==5.2.1 has no --hash") {
		t.Fatalf("err = %v, want hash-checking mode to refuse the unhashed lines", err)
	}
	plan, err := p.Plan(context.Background(), "testdata/requirements-unhashed.txt")
	if err != nil {
		t.Fatal(err)
	}
	tagged := func(name, version, python, platform string) pipeline.PlanNode {
		return pipeline.PlanNode{Name: name, Version: version, Action: "reuse", PythonTag: python, PlatformTag: platform}
	}
	want := []pipeline.PlanNode{
		build("lxml", "5.2.1"),
		build("numpy", "1.26.4"),
		tagged("pyyaml", "6.0.1", "cp311", "manylinux2014_s390x"),
		reuse("requests", "2.32.3"),
		tagged("zope-interface", "6.4", "cp311", "manylinux2014_s390x"), // the target's own spelling
		reuse("six", "1.16.0"),
		tagged("charset-normalizer", "3.3.2", "cp311", "manylinux2014_s390x"),
		reuse("idna", "3.7"),      // constraints: >=3.4
		reuse("urllib3", "2.2.1"), // constraints: <3
		reuse("certifi", "2024.2.2"),
		reuse("pysocks", "1.7.1"),
		reuse("setuptools", "70.0.0"),
	}
	var got, wantS []string
	for _, n := range plan.Nodes {
		got = append(got, nodeString(n))
	}
	for _, n := range want {
		wantS = append(wantS, nodeString(n))
	}
	if !slices.Equal(got, wantS) {
		t.Errorf("plan:\n got  %q\n want %q", got, wantS)
	}
}
