package planner_test

import (
	"encoding/json"
	"errors"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/refinery/refinery-worker/adapters/pyindex"
	"github.com/refinery/refinery-worker/internal/testkit/pyindextest"
	"github.com/refinery/refinery-worker/pipeline/pep508"
	"github.com/refinery/refinery-worker/pipeline/reqfile"
	"github.com/refinery/refinery-worker/pipeline/resolve"
)

// needBinary skips when a binary is missing, or fails under CI=true so
// that CI never passes by skipping.
func needBinary(t *testing.T, why string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s: %v", why, err)
	}
	t.Skipf("%s: %v", why, err)
}

// pipGraph is graph made of pure-Python wheels only, so that pip resolves
// it without building anything.
func pipGraph() []pyindextest.Dist {
	var out []pyindextest.Dist
	for _, d := range graph {
		d.Sdist = false
		d.WheelTags = []string{any3}
		out = append(out, d)
	}
	return append(out,
		pyindextest.Dist{Name: "topcli", Version: "3.0", WheelTags: []string{any3}, Requires: []string{"webapp", "urlparse!=1.8", `colorlog>=1; python_version >= "3"`}},
		pyindextest.Dist{Name: "topcli", Version: "4.0rc1", WheelTags: []string{any3}},
	)
}

// TestResolutionMatchesPip compares the resolver with pip's own
// (pip install --dry-run --report) over the same test index.
func TestResolutionMatchesPip(t *testing.T) {
	python, err := exec.LookPath("python3")
	needBinary(t, "python3 is needed to compare with pip", err)
	probe, err := exec.CommandContext(t.Context(), python, "-c",
		"import pip, platform, sys; print('%d.%d' % sys.version_info[:2], platform.machine())").Output()
	needBinary(t, "python3 -m pip is needed to compare with pip", err)
	fields := strings.Fields(string(probe))
	pyVersion, machine := fields[0], fields[1]

	cases := []struct {
		name, reqs string
		noJSON     bool
		impossible bool
	}{
		{"backtracking and extras over PEP 691", "webapp\n", false, false},
		{"markers, yanked and pre-releases over PEP 503", "topcli\nurlparse>=1.0\n", true, false},
		{"yanked pinned", "webapp\nurlparse==1.9\nhttpkit<2\n", false, false},
		{"only a yanked release fits", "topcli\nurlparse>1.0\n", false, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			idx, err := pyindextest.Start(pipGraph(), pyindextest.Options{NoJSON: tc.noJSON})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(idx.Close)
			dir := t.TempDir()
			reqPath := filepath.Join(dir, "requirements.txt")
			if err := os.WriteFile(reqPath, []byte(tc.reqs), 0o644); err != nil {
				t.Fatal(err)
			}

			report := filepath.Join(dir, "report.json")
			cmd := exec.CommandContext(t.Context(), python, "-m", "pip", "install", "--isolated", "--dry-run",
				"--ignore-installed", "--no-cache-dir", "--disable-pip-version-check", "--quiet",
				"--report", report, "--index-url", idx.URL(), "-r", reqPath)
			out, pipErr := cmd.CombinedOutput()
			if tc.impossible != (pipErr != nil) {
				t.Fatalf("pip: %v (impossible: %v)\n%s", pipErr, tc.impossible, out)
			}

			client, err := pyindex.New(pyindex.Config{IndexURL: idx.URL(), PythonVersion: pyVersion, Logger: quiet})
			if err != nil {
				t.Fatal(err)
			}
			f, err := reqfile.ParseFile(reqPath)
			if err != nil {
				t.Fatal(err)
			}
			var roots []pep508.Requirement
			for _, e := range f.Requirements {
				roots = append(roots, e.Requirement)
			}
			res, err := resolve.New(client, resolve.Options{
				Env: pep508.TargetEnv(pyVersion, "manylinux2014_"+machine), Logger: quiet,
			}).Resolve(t.Context(), roots)
			if tc.impossible {
				var conflict *resolve.ConflictError
				if !errors.As(err, &conflict) {
					t.Fatalf("pip found no resolution; ours: %v, %v", res, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			pipPins := readPipReport(t, report)
			ours := map[string]string{}
			for _, p := range res.Packages {
				ours[p.Name] = p.Version.String()
			}
			if !maps.Equal(ours, pipPins) {
				t.Errorf("resolutions differ\n ours: %v\n  pip: %v", sorted(ours), sorted(pipPins))
			}
		})
	}
}

func readPipReport(t testing.TB, path string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var report struct {
		Install []struct {
			Metadata struct {
				Name    string `json:"name"`
				Version string `json:"version"`
			} `json:"metadata"`
		} `json:"install"`
	}
	if err := json.Unmarshal(b, &report); err != nil {
		t.Fatalf("pip report: %v", err)
	}
	out := map[string]string{}
	for _, i := range report.Install {
		out[pep508.NormalizeName(i.Metadata.Name)] = i.Metadata.Version
	}
	return out
}

func sorted(m map[string]string) []string {
	var out []string
	for k, v := range m {
		out = append(out, k+"=="+v)
	}
	slices.Sort(out)
	return out
}
