package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/refinery/refinery-worker/adapters/controlplane/cpfake"
	"github.com/refinery/refinery-worker/internal/testkit/pyfixture"
	"github.com/refinery/refinery-worker/pipeline"
)

// yamlExt is a C extension that includes <yaml.h>: the debian builder image
// lacks libyaml-dev (its zlib.h comes with python3-dev, so zlib cannot
// play this part).
const yamlExt = `#include <Python.h>
#include <yaml.h>
static PyObject *size(PyObject *self, PyObject *args) { return PyLong_FromSize_t(sizeof(yaml_parser_t)); }
static PyMethodDef methods[] = {{"size", size, METH_NOARGS, "parser size"}, {NULL, NULL, 0, NULL}};
static struct PyModuleDef mod = {PyModuleDef_HEAD_INIT, "yaml_ext", NULL, -1, methods};
PyMODINIT_FUNC PyInit_yaml_ext(void) { return PyModule_Create(&mod); }
`

// The end-to-end auto-fix: the build fails on the missing header,
// the fake control-plane's catalog has a hint for it, the worker retries at
// once with apt:libyaml-dev (installed from the Debian mirror in the
// container), and the retry is built; both attempts and the hint id are in
// the manifest and at the control-plane.
func TestAutoFixRetriesWithHintRecipes(t *testing.T) {
	t.Parallel() // own dirs, index server, runner and worker id: it waits on podman, so it runs beside the others
	bin := requirePodman(t)
	fake, cp := startFake(t, "")
	fake.SetHints([]cpfake.Hint{
		{ID: "decoy-ffi", Pattern: `fatal error: ffi\.h: No such file`, Confidence: 0.9, Recipes: map[string][]string{"apt": {"libffi-dev"}}},
		{ID: "libyaml-header", Pattern: `fatal error: yaml\.h: No such file or directory`, Confidence: 0.95,
			Recipes:   map[string][]string{"apt": {"libyaml-dev"}, "dnf": {"libyaml-devel"}},
			AppliesTo: map[string][]string{"package_patterns": {"yaml-*"}}},
		{ID: "other-package", Pattern: `yaml\.h`, Confidence: 0.99, Recipes: map[string][]string{"apt": {"libyaml-0-2"}},
			AppliesTo: map[string][]string{"packages": {"someone-else"}}},
	})
	e := newEnv(t)
	id := randomID("rw-e2e-")
	srv := pyfixture.ServeIndex(t, map[string][]pyfixture.File{
		"yaml-ext": {{Name: "yaml-ext-0.1.tar.gz", Data: pyfixture.Sdist(t, "yaml-ext", "yaml_ext", "0.1", yamlExt)}},
	})
	for k, v := range map[string]string{"PODMAN_BIN": bin, "CONTAINER_IMAGE": builderImage, "CONTAINER_NETWORK": "host",
		"INDEX_URL": srv.URL + "/simple/", "WORKER_ID": id, "PLATFORM_TAG": pyfixture.HostPlatformTag(), "RUNNER_TIMEOUT_SEC": "600",
		"STOP_GRACE_SEC": "2", "CONTROL_PLANE_URL": cp.URL, "AUTO_FIX": "true", "AUTO_FIX_MIN_CONFIDENCE": "0.8"} {
		e.vars[k] = v
	}
	t.Cleanup(func() { _ = exec.Command(bin, "rm", "-f", "-t", "0", "--filter", "label=refinery.worker="+id).Run() })
	p := pipeline.Plan{RunID: "autofix-e2e", Nodes: []pipeline.PlanNode{
		{Name: "yaml-ext", Version: "0.1", PythonTag: "cp311", PlatformTag: pyfixture.HostPlatformTag(), Action: "build"}}}
	b, _ := json.Marshal(p)
	if err := os.WriteFile(filepath.Join(e.out, "plan.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	e.writeQueue(t, []json.RawMessage{json.RawMessage(`{"package":"yaml-ext","version":"0.1"}`)})

	// Attempt 1 fails and goes back at once; attempt 2 is the next drain's.
	for i := range 2 {
		if stdout, stderr, code := e.run(t, "", "drain"); code != 0 {
			t.Fatalf("drain %d exit %d\n%s\n%s", i+1, code, stdout, stderr)
		}
	}
	var first, second pipeline.ManifestEntry
	for _, en := range e.manifest(t) {
		switch en.Metadata[pipeline.MetaAttempt] {
		case float64(1):
			first = en
		case float64(2):
			second = en
		}
	}
	f, ok := pipeline.FailureOf(first.Metadata)
	if first.Status != pipeline.StatusRetry || !ok || f.Class != pipeline.ClassMissingHeader ||
		!strings.Contains(f.Summary, "yaml.h: No such file") || len(f.Hints) != 1 || f.Hints[0].ID != "libyaml-header" {
		t.Fatalf("attempt 1 = %s %+v (failure %+v)", first.Status, first.Metadata, f)
	}
	recipes := anyStrings(second.Metadata[pipeline.MetaRecipes])
	if second.Status != pipeline.StatusBuilt || !slices.Contains(recipes, "apt:libyaml-dev") ||
		!slices.Equal(anyStrings(second.Metadata[pipeline.MetaAutoFixHints]), []string{"libyaml-header"}) {
		t.Fatalf("attempt 2 = %s %+v", second.Status, second.Metadata)
	}
	log, err := os.ReadFile(filepath.Join(e.out, second.Metadata[pipeline.MetaLog].(string)))
	if err != nil || !strings.Contains(string(log), "apt-get install libyaml-dev") {
		t.Fatalf("attempt 2 log does not show the recipe installed (%v):\n%s", err, log)
	}

	// Reports left in the outbox by the drains go out at the next start.
	events := func() map[string]cpfake.EventRecord {
		m := map[string]cpfake.EventRecord{}
		for _, ev := range fake.Events() {
			m[ev.Status] = ev
		}
		return m
	}
	if len(events()) < 2 {
		w := e.serve(t)
		eventually(t, 60*time.Second, "both events delivered", func() bool { return len(events()) >= 2 })
		w.stop(t, syscall.SIGTERM)
	}
	ev := events()
	if r := ev["retry"]; !slices.Contains(r.MatchedHintIDs, "libyaml-header") || !strings.HasPrefix(r.Detail, "[missing_header] ") {
		t.Errorf("retry event: hints %v, detail %q", r.MatchedHintIDs, r.Detail)
	}
	if b := ev["built"]; !slices.Contains(b.MatchedHintIDs, "libyaml-header") {
		t.Errorf("built event: hints %v", b.MatchedHintIDs)
	}
}
