package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/refinery/refinery-worker/adapters/podman"
	"github.com/refinery/refinery-worker/pipeline"
)

// requireS390xImage skips (fails with REFINERY_REQUIRE_REAL=1) unless the
// s390x builder image exists and runs here (natively or emulated).
func requireS390xImage(t *testing.T, bin string) string {
	t.Helper()
	image := podman.ArchImage("s390x")
	out, err := exec.Command(bin, "run", "--rm", "--pull=never", "--network=none", "--arch", "s390x", image, "uname", "-m").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "s390x" {
		what := "the s390x builder image " + image + " running on this host (sh scripts/setup-emulation.sh s390x && sh scripts/build-local-image.sh s390x)"
		if os.Getenv("REFINERY_REQUIRE_REAL") == "1" {
			t.Fatalf("%s is required (REFINERY_REQUIRE_REAL=1): %v %s", what, err, out)
		}
		t.Skipf("skipping: %s not available: %v %s", what, err, out)
	}
	return image
}

// The default target (manylinux2014_s390x) with the host's own image is a
// start error naming both machines, not a build of wrong wheels.
func TestPodmanStartRefusesImageOfAnotherMachine(t *testing.T) {
	if runtime.GOARCH == "s390x" {
		t.Skip("skipping: the host is s390x, so its native image fits the default target")
	}
	bin := requirePodman(t)
	e, _ := podmanEnv(t, bin)
	e.vars["PLATFORM_TAG"] = "manylinux2014_s390x"
	e.writeQueue(t, []json.RawMessage{json.RawMessage(`{"package":"tiny_ext","version":"0.1"}`)})
	stdout, stderr, code := e.run(t, "", "drain")
	want := "builder image " + builderImage + " is for amd64 but the target manylinux2014_s390x needs s390x"
	if code == 0 || !strings.Contains(stderr+stdout, want) {
		t.Fatalf("drain exit %d, want a start error containing %q\n%s\n%s", code, want, stdout, stderr)
	}
	if _, err := os.Stat(filepath.Join(e.out, "tiny_ext-0.1-cp311-cp311-linux_x86_64.whl")); err == nil {
		t.Error("a wheel was built although the worker refused to start")
	}
}

// Through the whole worker on any host: an sdist from the local index is
// built in the s390x image under emulation, retagged manylinux, smoke tested,
// and recorded with the delivered wheel's name and platform tag.
func TestPodmanEmulatedS390xPipeline(t *testing.T) {
	t.Parallel() // own dirs, ports, control-plane and worker id: waits mostly, so it runs beside the others
	bin := requirePodman(t)
	image := requireS390xImage(t, bin)
	e, id := podmanEnv(t, bin)
	const target = "manylinux_2_36_s390x"
	e.vars["CONTAINER_IMAGE"] = image
	e.vars["PLATFORM_TAG"] = target
	p := pipeline.Plan{RunID: "emulated-e2e", Nodes: []pipeline.PlanNode{
		{Name: "tiny-ext", Version: "0.1", PythonTag: "cp311", PlatformTag: target, Action: "build"}}}
	b, _ := json.Marshal(p)
	if err := os.WriteFile(filepath.Join(e.out, "plan.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	e.writeQueue(t, []json.RawMessage{json.RawMessage(`{"package":"tiny_ext","version":"0.1"}`)})
	stdout, stderr, code := e.run(t, "", "drain")
	if code != 0 {
		t.Fatalf("drain exit %d\n%s\n%s", code, stdout, stderr)
	}
	entries := e.manifest(t)
	if len(entries) != 1 {
		t.Fatalf("manifest %+v", entries)
	}
	en := entries[0]
	if en.Status != pipeline.StatusBuilt || !strings.HasPrefix(en.Wheel, "tiny_ext-0.1-cp311-cp311-manylinux") ||
		en.PlatformTag != pipeline.WheelPlatformTag(en.Wheel) || !strings.HasSuffix(en.PlatformTag, "_s390x") {
		t.Fatalf("entry %+v, want built with a manylinux s390x wheel and its platform tag\n%s", en, stderr)
	}
	if _, err := os.Stat(filepath.Join(e.out, en.Wheel)); err != nil {
		t.Errorf("the recorded wheel is not in OUTPUT_DIR: %v", err)
	}
	audit, _ := en.Metadata["audit"].(map[string]any)
	if audit["arch"] != "s390x" {
		t.Errorf("metadata.audit = %v, want arch s390x", audit)
	}
	log, err := os.ReadFile(filepath.Join(e.out, en.Metadata[pipeline.MetaLog].(string)))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(log), "smoke: imported tiny_ext") || strings.Contains(string(log), "does not match the expected platform") {
		t.Errorf("job log lacks the smoke test or has podman's platform warning:\n%s", log)
	}
	if c := containers(t, bin, id); len(c) != 0 {
		t.Errorf("containers left: %v", c)
	}
}
