package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/refinery/refinery-worker/adapters/podman"
	"github.com/refinery/refinery-worker/internal/cli"
	"github.com/refinery/refinery-worker/internal/config"
)

// `config` prints the container command actually run, and every preset the
// configuration check accepts is one the podman adapter knows (debian is
// the image `task image:local` builds).
func TestConfigDefaultsAreTheOnesUsed(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run(t.Context(), []string{"config"}, nil, strings.NewReader(""), &out, &errOut); code != 0 {
		t.Fatalf("config exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "\nWORKER_RUN_CMD=refinery-build\n") {
		t.Errorf("config does not print WORKER_RUN_CMD=refinery-build:\n%s", out.String())
	}
	for _, preset := range []string{"debian", "rocky", "fedora", "ubuntu"} {
		cfg, err := config.Load([]string{"CONTAINER_PRESET=" + preset, "OUTPUT_DIR=/o", "CACHE_DIR=/c"})
		if err != nil {
			t.Fatalf("CONTAINER_PRESET=%s: %v", preset, err)
		}
		c, err := podman.NewCommander(podmanOptions(cfg))
		if err != nil {
			t.Errorf("CONTAINER_PRESET=%s passes the configuration check but not the podman adapter: %v", preset, err)
			continue
		}
		if preset == "debian" && c.Image() != podman.LocalImage {
			t.Errorf("debian preset image %s, want %s", c.Image(), podman.LocalImage)
		}
	}
}

// enqueue refuses what the drain would reject (bad names, versions,
// recipes, not_before), naming the line and field, and adds nothing then.
func TestEnqueueRejectsWhatTheDrainWould(t *testing.T) {
	dir := t.TempDir()
	queue := filepath.Join(dir, "q.json")
	environ := []string{"QUEUE_FILE=" + queue, "OUTPUT_DIR=" + filepath.Join(dir, "o"), "CACHE_DIR=" + filepath.Join(dir, "c")}
	enq := func(stdin string, args ...string) (int, string) {
		var out, errOut bytes.Buffer
		code := run(t.Context(), append([]string{"enqueue"}, args...), environ, strings.NewReader(stdin), &out, &errOut)
		return code, errOut.String()
	}
	if code, msg := enq(`{"package":"good","version":"1.0"}` + "\n"); code != 0 {
		t.Fatalf("good item refused: %d %s", code, msg)
	}
	before, _ := os.ReadFile(queue)
	cases := []struct {
		stdin string
		args  []string
		want  string
	}{
		{"", []string{"--package", "not a name!"}, "package"},
		{"", []string{"--package", "ok", "--version", "not-a-version"}, "version"},
		{"", []string{"--package", "ok", "--recipes", "curl:x"}, "recipes[0]"},
		{`{"package":"ok"}` + "\n" + `{"package":"bad name"}` + "\n", nil, "line 2"},
		{`{"package":"ok","not_before":1e30}` + "\n", nil, "not_before"},
		{`["not","an","object"]` + "\n", nil, "line 1"},
	}
	for _, tc := range cases {
		code, msg := enq(tc.stdin, tc.args...)
		if code != cli.ExitUsage || !strings.Contains(msg, tc.want) {
			t.Errorf("enqueue %v %q: exit %d, stderr %q; want exit 2 naming %q", tc.args, tc.stdin, code, msg, tc.want)
		}
	}
	if after, _ := os.ReadFile(queue); !bytes.Equal(before, after) {
		t.Errorf("refused items changed the queue:\n%s", after)
	}
}
