package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/refinery/refinery-worker/internal/testkit/pyfixture"
	"github.com/refinery/refinery-worker/pipeline"
)

// TestPodmanBuiltWheelInstallsFromTheWorkersIndex: the worker builds a C
// extension in a real container, publishes it, and serves it; pip in the
// builder image (native here: the emulated s390x image is a separate
// build) installs it from the serving worker's /simple/ over the host's
// loopback and imports it.
func TestPodmanBuiltWheelInstallsFromTheWorkersIndex(t *testing.T) {
	t.Parallel() // own dirs, ports, control-plane and worker id: waits mostly, so it runs beside the others
	bin := requirePodman(t)
	e, _ := podmanEnv(t, bin)
	addr := freeAddr(t)
	e.vars["WORKER_HTTP_ADDR"] = addr
	e.vars["PUBLIC_URL"] = "http://" + addr
	e.writeQueue(t, []json.RawMessage{json.RawMessage(`{"package":"tiny_ext","version":"0.1"}`)})
	c := e.command("serve")
	var stderr bytes.Buffer
	c.Stderr = &lockedWriter{w: &stderr}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = c.Process.Kill()
		_ = c.Wait()
		if t.Failed() {
			t.Logf("worker stderr:\n%s", tail(stderr.String(), 3000))
		}
	})
	waitHTTP(t, "http://"+addr+"/health")
	wheel := "tiny_ext-0.1-cp311-cp311-" + pyfixture.HostPlatformTag() + ".whl"
	var entry pipeline.ManifestEntry
	eventually(t, 5*time.Minute, "tiny-ext built and recorded", func() bool {
		for _, en := range e.manifest(t) {
			if en.Name == "tiny-ext" {
				entry = en
				return true
			}
		}
		return false
	})
	wantURL := "http://" + addr + "/simple/tiny-ext/" + wheel
	if entry.Status != pipeline.StatusBuilt || entry.Metadata["wheel_url"] != wantURL {
		t.Fatalf("entry %+v, want built with wheel_url %s", entry, wantURL)
	}

	script := `set -e
python3 -m pip install --disable-pip-version-check --no-cache-dir --no-input --target /tmp/site \
  --index-url "$INDEX" tiny-ext==0.1
PYTHONPATH=/tmp/site python3 -c 'import tiny_ext; print("answer", tiny_ext.answer())'`
	out, err := exec.Command(bin, "run", "--rm", "--network=host", "-e", "INDEX=http://"+addr+"/simple/",
		builderImage, "sh", "-c", script).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "answer 42") {
		t.Fatalf("pip install in the builder image: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), wheel) {
		t.Fatalf("pip did not install the worker's wheel %s:\n%s", wheel, out)
	}

	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(metrics), "refinery_index_wheels_published_total 1") {
		t.Fatalf("metrics lack the published wheel:\n%s", metrics)
	}
	req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/status", nil)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var status struct {
		Index struct{ Projects, Wheels int } `json:"index"`
	}
	json.NewDecoder(resp.Body).Decode(&status)
	resp.Body.Close()
	if status.Index.Projects != 1 || status.Index.Wheels != 1 {
		t.Fatalf("/status index %+v", status.Index)
	}
	if stdout, stderr, code := e.run(t, "", "index", "verify"); code != 0 {
		t.Fatalf("index verify exit %d\n%s\n%s", code, stdout, stderr)
	}
}

// TestPodmanBuiltWheelUploadedToTheArtifactStore: with ARTIFACT_STORE_URL
// (gofakes3 over HTTP on loopback) and a control-plane (cpfake), a wheel
// built in a real container is stored with its metadata file, and the
// manifest's wheel_url and the control-plane's WheelURL name the object.
func TestPodmanBuiltWheelUploadedToTheArtifactStore(t *testing.T) {
	t.Parallel() // own dirs, ports, control-plane and worker id: waits mostly, so it runs beside the others
	bin := requirePodman(t)
	e, _ := podmanEnv(t, bin)
	s3 := httptest.NewServer(gofakes3.New(s3mem.New()).Server())
	defer s3.Close()
	fake, cp := startFake(t, "cp-token")
	e.vars["ARTIFACT_STORE_URL"] = s3.URL + "/wheels/farm"
	e.vars["ARTIFACT_STORE_ACCESS_KEY"] = "ak"
	e.vars["ARTIFACT_STORE_SECRET_KEY"] = "sk-secret-value"
	e.vars["CONTROL_PLANE_URL"] = cp.URL
	e.vars["CONTROL_PLANE_TOKEN"] = "cp-token"
	e.writeQueue(t, []json.RawMessage{json.RawMessage(`{"package":"tiny_ext","version":"0.1"}`)})
	stdout, stderr, code := e.run(t, "", "drain")
	if code != 0 {
		t.Fatalf("drain exit %d\n%s\n%s", code, stdout, stderr)
	}
	wheel := "tiny_ext-0.1-cp311-cp311-" + pyfixture.HostPlatformTag() + ".whl"
	wantURL := s3.URL + "/wheels/farm/tiny-ext/" + wheel
	var entry pipeline.ManifestEntry
	for _, en := range e.manifest(t) {
		if en.Name == "tiny-ext" {
			entry = en
		}
	}
	if entry.Status != pipeline.StatusBuilt || entry.Metadata["wheel_url"] != wantURL {
		t.Fatalf("entry %+v, want wheel_url %s", entry, wantURL)
	}
	// drain waits a few seconds for uploads; index verify checks the objects.
	if stdout, stderr, code := e.run(t, "", "index", "verify"); code != 0 {
		t.Fatalf("index verify exit %d\n%s\n%s", code, stdout, stderr)
	}
	resp, err := http.Get(wantURL)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	local, _ := os.ReadFile(filepath.Join(e.out, "simple", "tiny-ext", wheel))
	if resp.StatusCode != 200 || !bytes.Equal(got, local) {
		t.Fatalf("stored wheel: %d, %d bytes, local %d", resp.StatusCode, len(got), len(local))
	}
	eventually(t, 30*time.Second, "the report at the control-plane", func() bool {
		for _, m := range fake.Manifest() {
			if m.Name == "tiny-ext" && m.WheelURL == wantURL {
				return true
			}
		}
		return false
	})
	if strings.Contains(stdout+stderr, "sk-secret-value") {
		t.Fatal("the store's secret key was printed")
	}
	// A stored object that changes is a mismatch: verify exits non-zero.
	req, _ := http.NewRequest(http.MethodPut, wantURL, strings.NewReader("tampered"))
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 {
		t.Fatalf("tamper: %v %v", err, resp)
	}
	if stdout, _, code := e.run(t, "", "index", "verify"); code != 1 || !strings.Contains(stdout, "MISMATCH: stored tiny-ext/"+wheel) {
		t.Fatalf("verify after tampering: exit %d\n%s", code, stdout)
	}
}
