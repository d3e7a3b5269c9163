package planner_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/refinery/refinery-worker/adapters/controlplane"
	"github.com/refinery/refinery-worker/adapters/pyindex"
	"github.com/refinery/refinery-worker/internal/testkit/pyindextest"
	"github.com/refinery/refinery-worker/pipeline"
	"github.com/refinery/refinery-worker/pipeline/resolve"
	"github.com/refinery/refinery-worker/planner"
)

func wheelHash(t *testing.T, d pyindextest.Dist) string {
	t.Helper()
	body, err := d.Wheel(any3)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(body)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// TestPlanEnforcesHashes: --hash is checked against the files the plan
// names, and any --hash turns on pip's hash-checking mode.
func TestPlanEnforcesHashes(t *testing.T) {
	app, lib := wheel("happ", "1.0", "hlib"), wheel("hlib", "1.0")
	dists := []pyindextest.Dist{app, lib, wheel("happ", "0.9")}
	good := "happ==1.0 --hash=" + wheelHash(t, app) + "\nhlib==1.0 --hash=" + wheelHash(t, lib) + "\n"
	wrong := "sha256:" + strings.Repeat("ab", 32)
	tests := []struct {
		name, reqs string
		want       string // "" for success
	}{
		{"matching hashes", good, ""},
		{"wrong hash", "happ==1.0 --hash=" + wrong + "\nhlib==1.0 --hash=" + wheelHash(t, lib) + "\n", "hash mismatch"},
		{"unpinned in hash mode", "happ>=1.0 --hash=" + wheelHash(t, app) + "\nhlib==1.0 --hash=" + wheelHash(t, lib) + "\n", "not pinned with =="},
		{"dependency without hash", "happ==1.0 --hash=" + wheelHash(t, app) + "\n", "hlib==1.0 (required by happ 1.0)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan, err := planOn(t, dists, planner.Config{}, tt.reqs)
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if got := versions(plan); !slices.Equal(got, []string{"happ==1.0", "hlib==1.0"}) {
					t.Errorf("plan = %v", got)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tt.want)
			}
		})
	}

	// An index announcing the hash the requirements give, over a file that
	// does not have it: the download is checked, not the announcement.
	idx, err := pyindextest.Start(dists, pyindextest.Options{WrongHashes: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(idx.Close)
	tampered := func(d pyindextest.Dist) string {
		body, _ := d.Wheel(any3)
		sum := sha256.Sum256(append([]byte("tampered"), body...))
		return "sha256:" + hex.EncodeToString(sum[:])
	}
	reqs := "happ==1.0 --hash=" + tampered(app) + "\nhlib==1.0 --hash=" + tampered(lib) + "\n"
	_, err = newPlanner(t, idx, planner.Config{}).Plan(t.Context(), writeRequirements(t, reqs))
	if !errors.Is(err, pyindex.ErrHashMismatch) {
		t.Errorf("err = %v, want a hash mismatch found on download", err)
	}
}

// TestPlanOverrides: an override is written with the index's spelling of
// the version, and one naming a project outside the graph is reported.
func TestPlanOverrides(t *testing.T) {
	dists := []pyindextest.Dist{wheel("ov-pkg", "1.0"), wheel("ov-pkg", "2.0")}
	var logs bytes.Buffer
	idx, err := pyindextest.Start(dists, pyindextest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(idx.Close)
	client, err := pyindex.New(pyindex.Config{IndexURL: idx.URL(), PythonVersion: "3.11", Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	overrides, err := resolve.ParseOverrides(`{"ov-pkg":"1.0.0","not-in-graph":"3"}`)
	if err != nil {
		t.Fatal(err)
	}
	p, err := planner.New(client, client, planner.Config{PythonVersion: "3.11", PlatformTag: "manylinux2014_s390x",
		Overrides: overrides, Logger: jsonLogger(&logs)})
	if err != nil {
		t.Fatal(err)
	}
	plan, err := p.Plan(t.Context(), writeRequirements(t, "ov-pkg\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := versions(plan); !slices.Equal(got, []string{"ov-pkg==1.0"}) {
		t.Errorf("plan = %v, want the index's spelling ov-pkg==1.0", got)
	}
	if !strings.Contains(logs.String(), `"package":"not-in-graph"`) || !strings.Contains(logs.String(), `"level":"WARN"`) {
		t.Errorf("no warning about the unused override in:\n%s", logs.String())
	}

	for _, raw := range []string{`{"ov-pkg":"1.0","Ov.Pkg":"2.0"}`, `{"ov-pkg":"1.0","OV_PKG":"1.0"}`} {
		if _, err := resolve.ParseOverrides(raw); err == nil || !strings.Contains(err.Error(), "ov-pkg") {
			t.Errorf("%s: err = %v, want two spellings refused", raw, err)
		}
	}
}

// TestPlanFullPythonVersion: python_full_version markers use the micro
// version of PYTHON_VERSION.
func TestPlanFullPythonVersion(t *testing.T) {
	dists := []pyindextest.Dist{
		wheel("fullpy", "1.0", `micro-dep; python_full_version >= "3.11.5"`), wheel("micro-dep", "1.0"),
	}
	idx, err := pyindextest.Start(dists, pyindextest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(idx.Close)
	for _, tc := range []struct {
		python string
		want   []string
	}{
		{"3.11.7", []string{"fullpy==1.0", "micro-dep==1.0"}},
		{"3.11", []string{"fullpy==1.0"}}, // 3.11 counts as 3.11.0
	} {
		client, err := pyindex.New(pyindex.Config{IndexURL: idx.URL(), PythonVersion: tc.python, Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		p, err := planner.New(client, client, planner.Config{PythonVersion: tc.python, PlatformTag: "manylinux2014_s390x", Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		plan, err := p.Plan(t.Context(), writeRequirements(t, "fullpy\n"))
		if err != nil {
			t.Fatal(err)
		}
		if got := versions(plan); !slices.Equal(got, tc.want) {
			t.Errorf("python %s: plan = %v, want %v", tc.python, got, tc.want)
		}
		if plan.Nodes[0].PythonTag != "py3" && plan.Nodes[0].PythonVersion != "" {
			t.Errorf("python %s: node %+v", tc.python, plan.Nodes[0])
		}
	}
}

// TestPlanUnknownDependencies: an sdist-only release whose metadata does
// not declare its dependencies statically is marked in plan.json, in the
// plan table and in the plan the control-plane gets.
func TestPlanUnknownDependencies(t *testing.T) {
	dists := []pyindextest.Dist{
		{Name: "oldmeta", Version: "1.0", Sdist: true, SdistMetadataVersion: "2.1", Requires: []string{"hidden"}},
		{Name: "dynmeta", Version: "1.0", Sdist: true, SdistDynamic: []string{"Requires-Dist"}, Requires: []string{"hidden"}},
		{Name: "staticmeta", Version: "1.0", Sdist: true, Requires: []string{"hidden"}},
		wheel("hidden", "1.0"),
	}
	out := t.TempDir()
	plan, err := planOn(t, dists, planner.Config{OutputDir: out}, "oldmeta\ndynmeta\nstaticmeta\n")
	if err != nil {
		t.Fatal(err)
	}
	var unknown []string
	for _, n := range plan.Nodes {
		if planner.DependenciesUnknown(n) {
			unknown = append(unknown, n.Name)
		}
	}
	if !slices.Equal(unknown, []string{"oldmeta", "dynmeta"}) {
		t.Errorf("nodes marked unknown = %v, want oldmeta and dynmeta", unknown)
	}
	written, err := os.ReadFile(filepath.Join(out, planner.PlanFile))
	if err != nil {
		t.Fatal(err)
	}
	var onDisk struct {
		Plan []map[string]json.RawMessage `json:"plan"`
	}
	if err := json.Unmarshal(written, &onDisk); err != nil {
		t.Fatal(err)
	}
	var meta struct {
		Dependencies string `json:"dependencies"`
	}
	if err := json.Unmarshal(onDisk.Plan[0]["metadata"], &meta); err != nil || meta.Dependencies != "unknown" {
		t.Errorf("plan.json oldmeta metadata = %s (%v)", onDisk.Plan[0]["metadata"], err)
	}
	body, err := controlplane.EncodePlan(controlplane.PlanUpload{Plan: *plan})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(body), `"metadata":{"dependencies":"unknown"}`) {
		t.Errorf("control-plane plan does not carry the mark: %s", body)
	}
	var table bytes.Buffer
	if err := planner.WriteTable(&table, plan); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(table.String(), "dependencies unknown") || !strings.Contains(table.String(), "oldmeta 1.0, dynmeta 1.0") {
		t.Errorf("table does not show the unknown dependencies:\n%s", table.String())
	}
}

// TestPlanPinnedKeepsPreviousPlan: with a plan.json already in OUTPUT_DIR,
// pinned keeps its versions while eager takes the newest.
func TestPlanPinnedKeepsPreviousPlan(t *testing.T) {
	dists := []pyindextest.Dist{wheel("keepme", "1.0"), wheel("keepme", "2.0")}
	for _, tc := range []struct {
		strategy resolve.Strategy
		want     string
	}{{resolve.Pinned, "keepme==1.0"}, {resolve.Eager, "keepme==2.0"}} {
		t.Run(string(tc.strategy), func(t *testing.T) {
			out := t.TempDir()
			prev := &pipeline.Plan{RunID: "previous", Nodes: []pipeline.PlanNode{{Name: "KeepMe", Version: "1.0", Action: "reuse"}}}
			if err := planner.WritePlan(out, prev); err != nil {
				t.Fatal(err)
			}
			plan, err := planOn(t, dists, planner.Config{OutputDir: out, Strategy: tc.strategy}, "keepme\n")
			if err != nil {
				t.Fatal(err)
			}
			if got := versions(plan); !slices.Equal(got, []string{tc.want}) {
				t.Errorf("plan = %v, want %s", got, tc.want)
			}
		})
	}
	// Without a previous plan both take the newest.
	plan, err := planOn(t, dists, planner.Config{OutputDir: t.TempDir()}, "keepme\n")
	if err != nil {
		t.Fatal(err)
	}
	if got := versions(plan); !slices.Equal(got, []string{"keepme==2.0"}) {
		t.Errorf("pinned without a previous plan = %v", got)
	}
}

func jsonLogger(w io.Writer) *slog.Logger { return slog.New(slog.NewJSONHandler(w, nil)) }

// TestPlanBrokenPagesAndMetadata: a page without readable links says so,
// an href that is not a URL is skipped rather than fetched, and a release
// whose metadata gives another version is passed over, as pip does.
func TestPlanBrokenPagesAndMetadata(t *testing.T) {
	liar := wheel("liar", "2.0")
	liar.MetadataVersionClaim = "1.5"
	dists := []pyindextest.Dist{liar, wheel("liar", "1.0"), wheel("junk", "1.0"), wheel("badhref", "1.0")}
	idx, err := pyindextest.Start(dists, pyindextest.Options{RawPages: map[string]string{
		"junk":    "<html><body>\x00\x01 not an index <<<>>></body>",
		"badhref": `<html><body><a href="%zz">badhref-1.0-py3-none-any.whl</a></body></html>`,
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(idx.Close)
	p := newPlanner(t, idx, planner.Config{})
	plan, err := p.Plan(t.Context(), writeRequirements(t, "liar\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := versions(plan); !slices.Equal(got, []string{"liar==1.0"}) {
		t.Errorf("plan = %v, want liar 2.0 (whose metadata says 1.5) passed over", got)
	}
	for _, name := range []string{"junk", "badhref"} {
		_, err := p.Plan(t.Context(), writeRequirements(t, name+"\n"))
		if err == nil || !strings.Contains(err.Error(), "no usable file") || strings.Contains(err.Error(), "unsupported protocol") {
			t.Errorf("%s: err = %v, want it to say the page lists no usable file", name, err)
		}
	}
}
