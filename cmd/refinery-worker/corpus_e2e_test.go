package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/refinery/refinery-worker/internal/testkit/pyfixture"
	"github.com/refinery/refinery-worker/pipeline"
)

// corpusSdist makes name-version.tar.gz holding setup.py and files.
func corpusSdist(t *testing.T, name, version, setup string, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	all := map[string]string{"PKG-INFO": fmt.Sprintf("Metadata-Version: 2.1\nName: %s\nVersion: %s\n", name, version), "setup.py": setup}
	for k, v := range files {
		all[k] = v
	}
	for path, body := range all {
		if err := tw.WriteHeader(&tar.Header{Name: name + "-" + version + "/" + path, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// corpusCases are the failures the classifier corpus holds: package name →
// its sdist. pipeline/diagnose/testdata/corpus/README.md describes them.
func corpusCases(t *testing.T) map[string][]byte {
	ext := func(name, module string) string {
		return fmt.Sprintf("from setuptools import setup, Extension\nsetup(name=%q, version=\"0.1\", ext_modules=[Extension(%q, sources=[%q])])\n", name, module, module+".c")
	}
	return map[string][]byte{
		"missing-header": corpusSdist(t, "missing-header", "0.1", ext("missing-header", "mh"),
			map[string]string{"mh.c": "#include <Python.h>\n#include <yaml.h>\n"}),
		"missing-tool": corpusSdist(t, "missing-tool", "0.1",
			"import subprocess\nsubprocess.check_call('swig -python -o wrap.c iface.i', shell=True)\nfrom setuptools import setup\nsetup(name=\"missing-tool\", version=\"0.1\")\n", nil),
		"python-header": corpusSdist(t, "python-header", "0.1", ext("python-header", "ph"),
			map[string]string{"ph.c": "#include <python2.7/Python.h>\n"}),
		"smoke-import": corpusSdist(t, "smoke-import", "0.1", ext("smoke-import", "smoke_import"),
			map[string]string{"smoke_import.c": `#include <Python.h>
static struct PyModuleDef mod = {PyModuleDef_HEAD_INIT, "smoke_import", NULL, -1, NULL};
PyMODINIT_FUNC PyInit_smoke_import(void) {
	PyObject *dep = PyImport_ImportModule("missing_runtime_dep");
	if (dep == NULL) return NULL;
	Py_DECREF(dep);
	return PyModule_Create(&mod);
}
`}),
		"slow-build": corpusSdist(t, "slow-build", "0.1",
			"import time\nprint('configuring: this takes a while', flush=True)\ntime.sleep(600)\nfrom setuptools import setup\nsetup(name=\"slow-build\", version=\"0.1\")\n", nil),
	}
}

// With REFINERY_WRITE_CORPUS=<dir>, build the corpus cases in the local
// debian image and write each job log (<case>.log) and its result
// (<case>.json: reason, exit code, error) to dir. Without it, skip.
func TestWriteFailureCorpus(t *testing.T) {
	dir := os.Getenv("REFINERY_WRITE_CORPUS")
	if dir == "" {
		t.Skip("set REFINERY_WRITE_CORPUS=<dir> to rebuild the classifier corpus")
	}
	bin := requirePodman(t)
	cases := corpusCases(t)
	files := map[string][]pyfixture.File{}
	var nodes []pipeline.PlanNode
	var queue []json.RawMessage
	for name, sdist := range cases {
		files[name] = []pyfixture.File{{Name: name + "-0.1.tar.gz", Data: sdist}}
		nodes = append(nodes, pipeline.PlanNode{Name: name, Version: "0.1", PythonTag: "cp311", PlatformTag: pyfixture.HostPlatformTag(), Action: "build"})
		queue = append(queue, json.RawMessage(fmt.Sprintf(`{"package":%q,"version":"0.1"}`, name)))
	}
	srv := pyfixture.ServeIndex(t, files)
	e := newEnv(t)
	id := randomID("rw-corpus-")
	for k, v := range map[string]string{"PODMAN_BIN": bin, "CONTAINER_IMAGE": builderImage, "CONTAINER_NETWORK": "host",
		"INDEX_URL": srv.URL + "/simple/", "WORKER_ID": id, "PLATFORM_TAG": pyfixture.HostPlatformTag(), "RUNNER_TIMEOUT_SEC": "40",
		"STOP_GRACE_SEC": "2", "BUILD_CONCURRENCY": "2"} {
		e.vars[k] = v
	}
	t.Cleanup(func() { _ = exec.Command(bin, "rm", "-f", "-t", "0", "--filter", "label=refinery.worker="+id).Run() })
	b, _ := json.Marshal(pipeline.Plan{RunID: "corpus", Nodes: nodes})
	if err := os.WriteFile(filepath.Join(e.out, "plan.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	e.writeQueue(t, queue)
	if stdout, stderr, code := e.run(t, "", "drain"); code != 0 {
		t.Fatalf("drain exit %d\n%s\n%s", code, stdout, stderr)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, en := range e.manifest(t) {
		logPath, _ := en.Metadata[pipeline.MetaLog].(string)
		data, err := os.ReadFile(filepath.Join(e.out, logPath))
		if err != nil {
			t.Fatalf("%s: %v", en.Name, err)
		}
		res, _ := json.MarshalIndent(map[string]any{"status": en.Status, "reason": en.Metadata[pipeline.MetaReason],
			"exit_code": en.Metadata[pipeline.MetaExitCode], "error": en.Metadata[pipeline.MetaError]}, "", "  ")
		if err := os.WriteFile(filepath.Join(dir, en.Name+".log"), data, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, en.Name+".json"), append(res, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
