package diagnose

import (
	"strings"
	"testing"

	"github.com/refinery/refinery-worker/pipeline"
)

func TestClassify(t *testing.T) {
	exit1 := pipeline.Result{Status: pipeline.StatusFailed, Reason: pipeline.ReasonExit, ExitCode: 1, Error: "build exited with code 1"}
	tests := []struct {
		name    string
		lines   []string
		res     pipeline.Result
		class   pipeline.FailureClass
		summary string
	}{
		{"missing header", []string{
			"building 'zz._zz' extension",
			"gcc -pthread -Wall -Werror=format-security -fPIC -I/usr/include/python3.12 -c zz.c -o build/zz.o",
			"zz.c:1:10: fatal error: zlib.h: No such file or directory",
			"compilation terminated.",
			"error: command '/usr/bin/gcc' failed with exit code 1",
			"ERROR: Failed building wheel for zz",
		}, exit1, pipeline.ClassMissingHeader, "zz.c:1:10: fatal error: zlib.h: No such file or directory"},
		{"python headers", []string{
			"x.c:2:10: fatal error: Python.h: No such file or directory",
			"error: command 'gcc' failed with exit code 1",
		}, exit1, pipeline.ClassPythonHeaders, "x.c:2:10: fatal error: Python.h: No such file or directory"},
		{"missing library", []string{
			"/usr/bin/ld: cannot find -lssl: No such file or directory",
			"collect2: error: ld returned 1 exit status",
		}, exit1, pipeline.ClassMissingLibrary, "/usr/bin/ld: cannot find -lssl: No such file or directory"},
		{"pkg-config", []string{
			"Package libffi was not found in the pkg-config search path.",
		}, exit1, pipeline.ClassMissingLibrary, "Package libffi was not found in the pkg-config search path."},
		{"missing tool", []string{
			"running build_ext",
			"/bin/sh: 1: swig: not found",
			"error: command 'swig' failed with exit code 127",
		}, exit1, pipeline.ClassMissingTool, "/bin/sh: 1: swig: not found"},
		{"command not found", []string{"bash: line 1: cmake: command not found"}, exit1,
			pipeline.ClassMissingTool, "bash: line 1: cmake: command not found"},
		{"rust", []string{
			"error: can't find Rust compiler",
			"ERROR: Failed building wheel for cryptography",
		}, exit1, pipeline.ClassRustToolchain, "error: can't find Rust compiler"},
		{"arch", []string{"#error unsupported architecture s390x"}, exit1,
			pipeline.ClassUnsupportedArch, "#error unsupported architecture s390x"},
		{"network", []string{
			"WARNING: Retrying ... Failed to establish a new connection: [Errno -3] Temporary failure in name resolution",
			"ERROR: Could not find a version that satisfies the requirement setuptools>=40.8.0 (from versions: none)",
		}, exit1, pipeline.ClassNetwork, "WARNING: Retrying ... Failed to establish a new connection: [Errno -3] Temporary failure in name resolution"},
		{"resolver", []string{
			"Collecting foo",
			"ERROR: ResolutionImpossible: for help visit https://pip.pypa.io/",
		}, exit1, pipeline.ClassUnknown, "ERROR: ResolutionImpossible: for help visit https://pip.pypa.io/"},
		{"build-time import", []string{
			"Traceback (most recent call last):",
			"ModuleNotFoundError: No module named 'Cython'",
			"error: subprocess-exited-with-error",
		}, exit1, pipeline.ClassMissingTool, "ModuleNotFoundError: No module named 'Cython'"},
		{"test failure", []string{"FAILED tests/test_a.py::test_x - AssertionError", "===== 1 failed, 3 passed in 0.2s ====="}, exit1,
			pipeline.ClassTestFailure, "FAILED tests/test_a.py::test_x - AssertionError"},
		{"oom by exit code", []string{"[ 40%] Building CXX object big.cpp.o"},
			pipeline.Result{Status: pipeline.StatusFailed, Reason: pipeline.ReasonExit, ExitCode: 137, Error: "build exited with code 137"},
			pipeline.ClassOOM, "build exited with code 137 (killed: out of memory)"},
		{"oom line", []string{"g++: fatal error: Killed signal terminated program cc1plus", "virtual memory exhausted: Cannot allocate memory"}, exit1,
			pipeline.ClassOOM, "virtual memory exhausted: Cannot allocate memory"},
		{"timeout", []string{"Building wheel for slow (pyproject.toml): started", "refinery: container stopped (timeout) after 10s, exit code 137"},
			pipeline.Result{Status: pipeline.StatusFailed, Reason: pipeline.ReasonTimeout, ExitCode: 137, Error: "container stopped (timeout) after 10s, exit code 137"},
			pipeline.ClassTimeout, "container stopped (timeout) after 10s, exit code 137"},
		{"smoke import", []string{"refinery: smoke test: x.whl", "ModuleNotFoundError: No module named 'zz._zz'"},
			pipeline.Result{Status: pipeline.StatusFailed, Reason: pipeline.ReasonSmokeTest, Error: "smoke test of x.whl failed with exit code 1"},
			pipeline.ClassSmokeTest, "ModuleNotFoundError: No module named 'zz._zz'"},
		{"smoke without import line", []string{"refinery: smoke test: x.whl"},
			pipeline.Result{Status: pipeline.StatusFailed, Reason: pipeline.ReasonSmokeTest, Error: "smoke test of x.whl failed with exit code 3"},
			pipeline.ClassSmokeTest, "smoke test of x.whl failed with exit code 3"},
		{"platform mismatch", nil,
			pipeline.Result{Status: pipeline.StatusFailed, Reason: pipeline.ReasonPlatformMismatch, Error: "wheel is x86_64, target s390x"},
			pipeline.ClassPlatformMismatch, "wheel is x86_64, target s390x"},
		{"only progress lines", []string{"Collecting foo", "Building wheel for foo (pyproject.toml): started", "error: subprocess-exited-with-error"}, exit1,
			pipeline.ClassUnknown, "build exited with code 1"},
		{"empty", nil, pipeline.Result{Status: pipeline.StatusFailed}, pipeline.ClassUnknown, ""},
	}
	rules := NewRules()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := rules.Classify(tt.lines, tt.res)
			if f.Class != tt.class || f.Summary != tt.summary {
				t.Errorf("got (%s, %q), want (%s, %q)", f.Class, f.Summary, tt.class, tt.summary)
			}
		})
	}
}

func TestClassifyClipsSummary(t *testing.T) {
	long := "error: " + strings.Repeat("é", 400)
	f := NewRules().Classify([]string{long}, pipeline.Result{})
	if len(f.Summary) > MaxSummary+len("…") || !strings.HasSuffix(f.Summary, "…") {
		t.Fatalf("summary not clipped: %d bytes", len(f.Summary))
	}
}
