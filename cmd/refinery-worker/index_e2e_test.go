package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/refinery/refinery-worker/internal/testkit/wheeltest"
	"github.com/refinery/refinery-worker/pipeline"
)

// TestIndexRebuildAndVerify: `index rebuild` publishes the built wheels the
// manifest names (a publish that failed) and rewrites lost pages; `index
// verify` exits 0 on a whole index and 1 on a changed wheel.
func TestIndexRebuildAndVerify(t *testing.T) {
	e := newEnv(t)
	var entries []pipeline.ManifestEntry
	for _, s := range []wheeltest.Spec{{Name: "alpha", Version: "1.0"}, {Name: "beta", Version: "2.0"}} {
		path, err := wheeltest.Write(e.out, s)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(path)
		entries = append(entries, pipeline.ManifestEntry{Name: s.Name, Version: s.Version, Status: pipeline.StatusBuilt,
			Wheel: filepath.Base(path), Metadata: map[string]any{"wheels": []pipeline.Wheel{{File: filepath.Base(path), SHA256: sha256Hex(b)}}}})
	}
	// A failed entry's wheel (say, one the audit refused) is not published.
	bad, _ := wheeltest.Write(e.out, wheeltest.Spec{Name: "gamma", Version: "1.0"})
	entries = append(entries, pipeline.ManifestEntry{Name: "gamma", Version: "1.0", Status: pipeline.StatusFailed,
		Metadata: map[string]any{"wheels": []pipeline.Wheel{{File: filepath.Base(bad)}}}})
	b, _ := json.Marshal(entries)
	if err := os.WriteFile(filepath.Join(e.out, "manifest.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := e.run(t, "", "index", "rebuild")
	if code != 0 || !strings.Contains(stdout, "2 projects, 2 wheels") || !strings.Contains(stdout, "(2 published from the manifest)") {
		t.Fatalf("rebuild exit %d\n%s\n%s", code, stdout, stderr)
	}
	if _, err := os.Stat(filepath.Join(e.out, "simple", "gamma")); !os.IsNotExist(err) {
		t.Fatalf("a failed entry's wheel was published: %v", err)
	}
	if stdout, _, code := e.run(t, "", "index", "verify"); code != 0 || !strings.Contains(stdout, "2 files: 0 problems") {
		t.Fatalf("verify exit %d\n%s", code, stdout)
	}
	// Pages lost: rebuild writes them again from the wheels.
	os.Remove(filepath.Join(e.out, "simple", "alpha", "index.html"))
	os.Remove(filepath.Join(e.out, "simple", "index.json"))
	if _, _, code := e.run(t, "", "index", "verify"); code != 1 {
		t.Fatalf("verify with lost pages exit %d, want 1", code)
	}
	if stdout, stderr, code := e.run(t, "", "index", "rebuild"); code != 0 || !strings.Contains(stdout, "(0 published from the manifest)") {
		t.Fatalf("second rebuild exit %d\n%s\n%s", code, stdout, stderr)
	}
	if _, _, code := e.run(t, "", "index", "verify"); code != 0 {
		t.Fatalf("verify after rebuild exit %d", code)
	}
	wheel := filepath.Join(e.out, "simple", "beta", "beta-2.0-py3-none-any.whl")
	os.Remove(wheel) // a hard link: replace it rather than write through it
	os.WriteFile(wheel, []byte("changed"), 0o644)
	stdout, _, code = e.run(t, "", "index", "verify")
	if code != 1 || !strings.Contains(stdout, "MISMATCH: beta/beta-2.0-py3-none-any.whl: sha256") {
		t.Fatalf("verify of a changed wheel: exit %d\n%s", code, stdout)
	}
	if _, stderr, code := e.run(t, "", "index", "frobnicate"); code != 2 || !strings.Contains(stderr, "index rebuild|verify") {
		t.Fatalf("bad subcommand: exit %d %s", code, stderr)
	}
}

func TestIndexServeDefaultAndOff(t *testing.T) {
	for _, tc := range []struct {
		serve string
		want  int
	}{{"", http.StatusOK}, {"false", http.StatusNotFound}} {
		e := newEnv(t)
		if tc.serve != "" {
			e.vars["INDEX_SERVE"] = tc.serve
		}
		p := e.serve(t)
		resp, err := http.Get(p.url("/simple/"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("INDEX_SERVE=%q: GET /simple/ %d, want %d", tc.serve, resp.StatusCode, tc.want)
		}
		p.stop(t, syscall.SIGTERM)
	}
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
