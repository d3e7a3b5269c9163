package diagnose

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/refinery/refinery-worker/pipeline"
)

// The corpus holds real job logs of failed builds in the local debian
// builder image (testdata/corpus/README.md says how they were made); the
// classifier labels each and quotes its decisive line.
func TestCorpus(t *testing.T) {
	rules := NewRules()
	for _, tc := range []struct {
		name    string
		class   pipeline.FailureClass
		summary string
	}{
		{"missing-header", pipeline.ClassMissingHeader, "mh.c:2:10: fatal error: yaml.h: No such file or directory"},
		{"missing-tool", pipeline.ClassMissingTool, "/bin/sh: 1: swig: not found"},
		{"python-header", pipeline.ClassPythonHeaders, "ph.c:1:10: fatal error: python2.7/Python.h: No such file or directory"},
		{"smoke-import", pipeline.ClassSmokeTest, "ModuleNotFoundError: No module named 'missing_runtime_dep'"},
		{"slow-build", pipeline.ClassTimeout, "container stopped (timeout) after"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join("testdata", "corpus")
			logText, err := os.ReadFile(filepath.Join(dir, tc.name+".log"))
			if err != nil {
				t.Fatal(err)
			}
			raw, err := os.ReadFile(filepath.Join(dir, tc.name+".json"))
			if err != nil {
				t.Fatal(err)
			}
			var facts struct {
				Status   pipeline.Status `json:"status"`
				Reason   string          `json:"reason"`
				ExitCode int             `json:"exit_code"`
				Error    string          `json:"error"`
			}
			if err := json.Unmarshal(raw, &facts); err != nil {
				t.Fatal(err)
			}
			res := pipeline.Result{Status: facts.Status, Reason: facts.Reason, ExitCode: facts.ExitCode, Error: facts.Error}
			f := rules.Classify(strings.Split(strings.TrimRight(string(logText), "\n"), "\n"), res)
			if f.Class != tc.class || !strings.HasPrefix(f.Summary, tc.summary) {
				t.Errorf("got (%s, %q), want (%s, %q…)", f.Class, f.Summary, tc.class, tc.summary)
			}
		})
	}
}
