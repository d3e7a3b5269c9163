package main

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/refinery/refinery-worker/internal/testkit/pyindextest"
)

// `refinery-worker plan` with a plan.json already in OUTPUT_DIR: pinned
// keeps its versions, eager takes the newest, and a full PYTHON_VERSION
// decides python_full_version markers.
func TestPlanStrategyFromCLI(t *testing.T) {
	idx, err := pyindextest.Start([]pyindextest.Dist{
		{Name: "lib", Version: "2.0", WheelTags: []string{"py3-none-any"}},
		{Name: "lib", Version: "2.5", WheelTags: []string{"py3-none-any"}},
		{Name: "app", Version: "1.0", WheelTags: []string{"py3-none-any"}, Requires: []string{"lib", `micro; python_full_version >= "3.11.5"`}},
		{Name: "micro", Version: "1.0", WheelTags: []string{"py3-none-any"}},
	}, pyindextest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(idx.Close)
	row := func(name string) *regexp.Regexp { return regexp.MustCompile(`(?m)^` + name + `\s+(\S+)\s`) }
	for _, tc := range []struct {
		strategy, python, lib string
		micro                 bool
	}{
		{"pinned", "3.11", "2.0", false},
		{"eager", "3.11", "2.5", false},
		{"pinned", "3.11.7", "2.0", true},
	} {
		t.Run(tc.strategy+"-"+tc.python, func(t *testing.T) {
			e := newEnv(t)
			req := filepath.Join(e.dir, "requirements.txt")
			if err := os.WriteFile(req, []byte("app\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			previous := `{"run_id":"previous","plan":[{"name":"lib","version":"2.0","action":"reuse"}],"dag":null}`
			if err := os.MkdirAll(e.out, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(e.out, "plan.json"), []byte(previous), 0o644); err != nil {
				t.Fatal(err)
			}
			e.vars["REQUIREMENTS_PATH"] = req
			e.vars["INDEX_URL"] = idx.URL()
			e.vars["UPGRADE_STRATEGY"] = tc.strategy
			e.vars["PYTHON_VERSION"] = tc.python
			out, stderr, code := e.run(t, "", "plan")
			if code != 0 {
				t.Fatalf("plan = %d\n%s\n%s", code, out, stderr)
			}
			m := row("lib").FindStringSubmatch(out)
			if m == nil || m[1] != tc.lib {
				t.Errorf("lib row %v, want version %s\n%s", m, tc.lib, out)
			}
			if got := row("micro").MatchString(out); got != tc.micro {
				t.Errorf("micro planned: %v, want %v\n%s", got, tc.micro, out)
			}
		})
	}
}
