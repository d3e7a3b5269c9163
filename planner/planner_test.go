package planner_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/refinery/refinery-worker/adapters/pyindex"
	"github.com/refinery/refinery-worker/internal/testkit/pyindextest"
	"github.com/refinery/refinery-worker/pipeline"
	"github.com/refinery/refinery-worker/pipeline/pep440"
	"github.com/refinery/refinery-worker/pipeline/reqfile"
	"github.com/refinery/refinery-worker/pipeline/resolve"
	"github.com/refinery/refinery-worker/planner"
)

const any3 = "py3-none-any"

// graph needs backtracking (httpkit 2.0 wants urlparse>=2, dbkit wants
// <2), has a yanked release (urlparse 1.9), requires-python exclusions
// (urlparse 2.1, serializer 2.0), markers (colorlog on win32 only,
// s390helper on s390x only), an extra (serializer[fast]), PEP 658 metadata
// (httpkit, dbkit), sdist-only packages and a platform wheel.
var graph = []pyindextest.Dist{
	{Name: "webapp", Version: "1.0", WheelTags: []string{any3},
		Requires: []string{"httpkit>=1", "DBKit", `colorlog; sys_platform == "win32"`, `s390helper; platform_machine == "s390x"`}},
	{Name: "httpkit", Version: "1.5", WheelTags: []string{any3}, PEP658: true, Requires: []string{"urlparse>=1,<2"}},
	{Name: "httpkit", Version: "2.0", WheelTags: []string{any3}, PEP658: true, Requires: []string{"urlparse>=2"}},
	{Name: "dbkit", Version: "1.0", WheelTags: []string{any3}, PEP658: true, Requires: []string{"urlparse<2", "serializer[fast]"}},
	{Name: "urlparse", Version: "1.0", WheelTags: []string{any3}},
	{Name: "urlparse", Version: "1.8", WheelTags: []string{any3}},
	{Name: "urlparse", Version: "1.9", WheelTags: []string{any3}, Yanked: "broken"},
	{Name: "urlparse", Version: "2.0", WheelTags: []string{any3}},
	{Name: "urlparse", Version: "2.1", WheelTags: []string{any3}, RequiresPython: ">=3.12"},
	{Name: "serializer", Version: "1.0", WheelTags: []string{any3}, Extras: []string{"fast"}, Requires: []string{`fastjson>=1; extra == "fast"`}},
	{Name: "serializer", Version: "2.0", WheelTags: []string{any3}, RequiresPython: ">=3.12"},
	{Name: "fastjson", Version: "1.0", WheelTags: []string{"cp311-cp311-manylinux2014_s390x", "cp311-cp311-manylinux2014_x86_64"}, Sdist: true},
	{Name: "fastjson", Version: "1.1", WheelTags: []string{"cp311-cp311-manylinux_2_28_s390x"}, Sdist: true},
	{Name: "s390helper", Version: "1.0", Sdist: true},
	{Name: "colorlog", Version: "1.0", WheelTags: []string{any3}},
}

func reuse(name, version string) pipeline.PlanNode {
	return pipeline.PlanNode{Name: name, Version: version, Action: "reuse", PythonTag: "py3", PlatformTag: "any"}
}

func build(name, version string) pipeline.PlanNode {
	return pipeline.PlanNode{Name: name, Version: version, Action: "build", PythonVersion: "3.11", PythonTag: "cp311", PlatformTag: "manylinux2014_s390x"}
}

func nodeString(n pipeline.PlanNode) string {
	return fmt.Sprintf("%s %s %s py=%s tag=%s plat=%s", n.Name, n.Version, n.Action, n.PythonVersion, n.PythonTag, n.PlatformTag)
}

func newPlanner(t *testing.T, idx *pyindextest.Server, cfg planner.Config) *planner.Planner {
	t.Helper()
	client, err := pyindex.New(pyindex.Config{IndexURL: idx.URL(), PythonVersion: "3.11", CacheDir: t.TempDir(), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	cfg.PythonVersion, cfg.PlatformTag, cfg.Logger = "3.11", "manylinux2014_s390x", quiet
	p, err := planner.New(client, client, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

var quiet = slog.New(slog.DiscardHandler)

func writeRequirements(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "requirements.txt")
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestPlanNodeByNode(t *testing.T) {
	pinnedNodes := []pipeline.PlanNode{
		reuse("webapp", "1.0"), reuse("httpkit", "1.5"), reuse("dbkit", "1.0"), build("s390helper", "1.0"),
		reuse("urlparse", "1.0"), reuse("serializer", "1.0"), build("fastjson", "1.1"),
	}
	eagerNodes := append([]pipeline.PlanNode(nil), pinnedNodes...)
	eagerNodes[4] = reuse("urlparse", "1.8")
	overridden := append([]pipeline.PlanNode(nil), pinnedNodes...)
	overridden[1] = reuse("httpkit", "2.0")
	overridden[4] = reuse("urlparse", "2.0")
	// Eager, with fastjson pinned by the requirements: a root, so second.
	pinnedFastjson := []pipeline.PlanNode{
		reuse("webapp", "1.0"),
		{Name: "fastjson", Version: "1.0", Action: "reuse", PythonTag: "cp311", PlatformTag: "manylinux2014_s390x"},
		reuse("httpkit", "1.5"), reuse("dbkit", "1.0"), build("s390helper", "1.0"),
		reuse("urlparse", "1.8"), reuse("serializer", "1.0"),
	}

	tests := []struct {
		name      string
		strategy  resolve.Strategy
		overrides map[string]pep440.Version
		reqs      string
		want      []pipeline.PlanNode
	}{
		{"pinned", resolve.Pinned, nil, "webapp\n", pinnedNodes},
		{"eager", resolve.Eager, nil, "webapp\n", eagerNodes},
		{"override", resolve.Pinned, map[string]pep440.Version{"urlparse": pep440.MustParse("2.0")}, "webapp\n", overridden},
		{"explicit pin", resolve.Eager, nil, "webapp\nFastJSON==1.0\n", pinnedFastjson},
	}
	for _, index := range []struct {
		name string
		opts pyindextest.Options
	}{{"pep691", pyindextest.Options{}}, {"pep503", pyindextest.Options{NoJSON: true}}} {
		idx, err := pyindextest.Start(graph, index.opts)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(idx.Close)
		for _, tt := range tests {
			t.Run(index.name+"/"+tt.name, func(t *testing.T) {
				out := t.TempDir()
				p := newPlanner(t, idx, planner.Config{Strategy: tt.strategy, Overrides: tt.overrides, OutputDir: out})
				f, err := reqfile.ParseFile(writeRequirements(t, tt.reqs))
				if err != nil {
					t.Fatal(err)
				}
				in := planner.Input{Wheels: map[string]pep440.Version{"URLParse": pep440.MustParse("1.0")}}
				for _, e := range f.Requirements {
					in.Requirements = append(in.Requirements, e.Requirement)
				}
				plan, err := p.PlanInput(context.Background(), in)
				if err != nil {
					t.Fatal(err)
				}
				if len(plan.Nodes) != len(tt.want) {
					t.Errorf("plan has %d nodes, want %d", len(plan.Nodes), len(tt.want))
				}
				for i := range max(len(plan.Nodes), len(tt.want)) {
					var got, want string
					if i < len(plan.Nodes) {
						got = nodeString(plan.Nodes[i])
					}
					if i < len(tt.want) {
						want = nodeString(tt.want[i])
					}
					if got != want {
						t.Errorf("node %d = %q, want %q", i, got, want)
					}
				}
				b, err := os.ReadFile(filepath.Join(out, "plan.json"))
				if err != nil {
					t.Fatal(err)
				}
				onDisk, err := pipeline.DecodePlan(b)
				if err != nil {
					t.Fatal(err)
				}
				if onDisk.RunID != plan.RunID || len(onDisk.Nodes) != len(plan.Nodes) || len(plan.RunID) != 12 {
					t.Errorf("plan.json run_id %q nodes %d; returned %q %d", onDisk.RunID, len(onDisk.Nodes), plan.RunID, len(plan.Nodes))
				}
			})
		}
	}
}

func TestPlanFromFileFreshRunIDs(t *testing.T) {
	idx, err := pyindextest.Start(graph, pyindextest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(idx.Close)
	out := t.TempDir()
	p := newPlanner(t, idx, planner.Config{OutputDir: out})
	path := writeRequirements(t, "urlparse<2 # comment\n-c constraints.txt\n")
	if err := os.WriteFile(filepath.Join(filepath.Dir(path), "constraints.txt"), []byte("urlparse!=1.8\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	first, err := p.Plan(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	second, err := p.Plan(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	if first.RunID == second.RunID {
		t.Errorf("run_id reused: %s", first.RunID)
	}
	if len(first.Nodes) != 1 || first.Nodes[0].Version != "1.0" {
		t.Errorf("plan = %+v", first.Nodes)
	}
	entries, _ := os.ReadDir(out)
	if len(entries) != 1 || entries[0].Name() != "plan.json" {
		t.Errorf("output dir holds %v", entries)
	}
}

func TestPlanErrors(t *testing.T) {
	idx, err := pyindextest.Start(graph, pyindextest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(idx.Close)
	tests := []struct {
		reqs  string
		check func(error) bool
		want  string
	}{
		{"httpkit>=2\ndbkit\n", func(err error) bool { var c *resolve.ConflictError; return errors.As(err, &c) }, "urlparse"},
		{"nope\n", func(err error) bool { return errors.Is(err, resolve.ErrNotFound) }, "nope"},
		{"ok\n-e .\n", func(err error) bool { var le *reqfile.LineError; return errors.As(err, &le) && le.Line == 2 }, "editable"},
		{"urlparse>=2.1\n", func(err error) bool { var c *resolve.ConflictError; return errors.As(err, &c) }, ">=2.1"},
	}
	for _, tt := range tests {
		p := newPlanner(t, idx, planner.Config{OutputDir: t.TempDir()})
		_, err := p.Plan(context.Background(), writeRequirements(t, tt.reqs))
		if err == nil || !tt.check(err) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: err = %v", tt.reqs, err)
		}
	}
	p := newPlanner(t, idx, planner.Config{MaxDeps: 3})
	if _, err := p.Plan(context.Background(), writeRequirements(t, "webapp\n")); !errors.Is(err, resolve.ErrTooManyDeps) || !strings.Contains(err.Error(), "MAX_DEPS=3") {
		t.Errorf("max deps: err = %v", err)
	}
}
