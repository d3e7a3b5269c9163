package main

import (
	"archive/zip"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/refinery/refinery-worker/internal/testkit/pyfixture"
	"github.com/refinery/refinery-worker/pipeline"
)

const builderImage = "localhost/refinery-builder-debian:latest"

// requirePodman skips when podman or the local builder image is missing,
// unless REFINERY_REQUIRE_REAL=1 (CI), where that is a failure.
func requirePodman(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("podman")
	if err == nil {
		err = exec.Command(bin, "image", "exists", builderImage).Run()
	}
	if err != nil {
		what := "podman with the image " + builderImage + " (task setup:podman image:local)"
		if os.Getenv("REFINERY_REQUIRE_REAL") == "1" {
			t.Fatalf("%s is required (REFINERY_REQUIRE_REAL=1): %v", what, err)
		}
		t.Skipf("skipping: %s not available: %v", what, err)
	}
	return bin
}

func randomID(prefix string) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// podmanEnv is a test worker that builds in real containers on the host
// network (pip in the container fetches from the test's index on 127.0.0.1).
func podmanEnv(t *testing.T, bin string) (*testEnv, string) {
	e := newEnv(t)
	id := randomID("rw-e2e-")
	srv := pyfixture.ServeIndex(t, map[string][]pyfixture.File{
		"tiny-ext": {{Name: "tiny-ext-0.1.tar.gz", Data: pyfixture.Sdist(t, "tiny-ext", "tiny_ext", "0.1", pyfixture.CModule("tiny_ext"))}},
		"broken-ext": {{Name: "broken-ext-0.1.tar.gz", Data: pyfixture.Sdist(t, "broken-ext", "broken_ext", "0.1",
			"#include <Python.h>\nthis is not C;\n")}},
	})
	for k, v := range map[string]string{"PODMAN_BIN": bin, "CONTAINER_IMAGE": builderImage, "CONTAINER_NETWORK": "host",
		"INDEX_URL": srv.URL + "/simple/", "WORKER_ID": id, "PLATFORM_TAG": pyfixture.HostPlatformTag(), "RUNNER_TIMEOUT_SEC": "300",
		"STOP_GRACE_SEC": "2"} {
		e.vars[k] = v
	}
	p := pipeline.Plan{RunID: "podman-e2e", Nodes: []pipeline.PlanNode{
		{Name: "tiny-ext", Version: "0.1", PythonTag: "cp311", PlatformTag: pyfixture.HostPlatformTag(), Action: "build"},
		{Name: "broken-ext", Version: "0.1", PythonTag: "cp311", PlatformTag: pyfixture.HostPlatformTag(), Action: "build"},
	}}
	b, _ := json.Marshal(p)
	if err := os.WriteFile(filepath.Join(e.out, "plan.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = exec.Command(bin, "rm", "-f", "-t", "0", "--filter", "label=refinery.worker="+id).Run() })
	return e, id
}

func containers(t *testing.T, bin, id string) []string {
	t.Helper()
	out, err := exec.Command(bin, "ps", "-a", "-q", "--filter", "label=refinery.worker="+id).Output()
	if err != nil {
		t.Fatalf("podman ps: %v", err)
	}
	return strings.Fields(string(out))
}

// The end-to-end check: a tiny C extension served as an sdist goes
// from the file queue through the whole pipeline into a verified wheel; a
// compiler error ends failed with the end of its log.
func TestPodmanPipelineBuildsRealWheel(t *testing.T) {
	t.Parallel() // own dirs, ports, control-plane and worker id: waits mostly, so it runs beside the others
	bin := requirePodman(t)
	e, id := podmanEnv(t, bin)
	e.writeQueue(t, []json.RawMessage{
		json.RawMessage(`{"package":"tiny_ext","version":"0.1"}`),
		json.RawMessage(`{"package":"broken-ext","version":"0.1"}`),
	})
	e.vars["BUILD_CONCURRENCY"] = "2"
	stdout, stderr, code := e.run(t, "", "drain")
	if code != 0 {
		t.Fatalf("drain exit %d\n%s\n%s", code, stdout, stderr)
	}
	byName := map[string]pipeline.ManifestEntry{}
	for _, en := range e.manifest(t) {
		byName[en.Name] = en
	}
	tiny, broken := byName["tiny-ext"], byName["broken-ext"]
	wantTag := "cp311-cp311-" + pyfixture.HostPlatformTag()
	if tiny.Status != pipeline.StatusBuilt || tiny.Wheel != "tiny_ext-0.1-"+wantTag+".whl" {
		t.Fatalf("tiny-ext entry = %+v\n%s", tiny, stdout)
	}
	data, err := os.ReadFile(filepath.Join(e.out, tiny.Wheel))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	wheels, _ := tiny.Metadata[pipeline.MetaWheels].([]any)
	if len(wheels) != 1 || wheels[0].(map[string]any)["sha256"] != hex.EncodeToString(sum[:]) {
		t.Errorf("manifest wheels %v do not carry the file's sha256 %x", wheels, sum)
	}
	if tag := wheelTag(t, filepath.Join(e.out, tiny.Wheel)); tag != wantTag {
		t.Errorf("WHEEL Tag = %q, want %q", tag, wantTag)
	}
	if broken.Status != pipeline.StatusFailed || !strings.Contains(strings.Join(anyStrings(broken.Metadata["log_tail"]), "\n"), "error") {
		t.Errorf("broken-ext entry = %+v, want failed with the compiler error in log_tail", broken)
	}
	if c := containers(t, bin, id); len(c) != 0 {
		t.Errorf("containers left: %v", c)
	}
}

// SIGKILL the worker during a build: the container outlives it; the next
// start removes it and builds the item again; nothing is left running.
func TestPodmanCrashRemovesOrphanAndRebuilds(t *testing.T) {
	t.Parallel() // own dirs, ports, control-plane and worker id: waits mostly, so it runs beside the others
	bin := requirePodman(t)
	e, id := podmanEnv(t, bin)
	e.writeQueue(t, []json.RawMessage{json.RawMessage(`{"package":"tiny-ext","version":"0.1"}`)})
	e.vars["WORKER_RUN_CMD"] = "sleep 600"
	e.vars["LOG_LEVEL"] = "info"
	p := e.serve(t)
	eventually(t, 60*time.Second, "the build container to run", func() bool { return len(containers(t, bin, id)) == 1 })
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = p.cmd.Wait()
	if c := containers(t, bin, id); len(c) != 1 {
		t.Fatalf("after SIGKILL of the worker: containers %v, want the orphan still there", c)
	}
	delete(e.vars, "WORKER_RUN_CMD")
	p2 := e.serve(t)
	eventually(t, 240*time.Second, "the item built after restart", func() bool {
		m := e.manifest(t)
		return len(m) == 1 && m[0].Status == pipeline.StatusBuilt
	})
	p2.stop(t, syscall.SIGTERM)
	if !logHas(p2.stderr.String(), "removed leftover containers", "count", float64(1)) {
		t.Errorf("second start did not report removing the orphan:\n%s", p2.stderr)
	}
	if c := containers(t, bin, id); len(c) != 0 {
		t.Errorf("containers left: %v", c)
	}
}

func wheelTag(t *testing.T, path string) string {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	for _, f := range zr.File {
		if strings.HasSuffix(f.Name, ".dist-info/WHEEL") {
			rc, _ := f.Open()
			b, _ := io.ReadAll(rc)
			rc.Close()
			for _, l := range strings.Split(string(b), "\n") {
				if v, ok := strings.CutPrefix(l, "Tag: "); ok {
					return strings.TrimSpace(v)
				}
			}
		}
	}
	return ""
}

func anyStrings(v any) []string {
	list, _ := v.([]any)
	out := make([]string, 0, len(list))
	for _, x := range list {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

// logHas reports whether a JSON log line with msg has key == value.
func logHas(log, msg, key string, value any) bool {
	for _, l := range strings.Split(log, "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) == nil && m["msg"] == msg && m[key] == value {
			return true
		}
	}
	return false
}
