package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/refinery/refinery-worker/internal/testkit/pyfixture"
	"github.com/refinery/refinery-worker/pipeline"
)

// A failed podman build that prints a token (whole, split across writes, on
// stderr) with an index password in INDEX_URL: no secret reaches
// manifest.json, the job log, the worker's output, or any process command line
// on the host while the build runs; the container still gets INDEX_URL.
func TestPodmanSecretsStayOutOfManifestAndCommandLines(t *testing.T) {
	t.Parallel() // own dirs, ports, control-plane and worker id: waits mostly, so it runs beside the others
	bin := requirePodman(t)
	const (
		token    = "tok-5b7e9c1d2a"
		password = "idx-pass-4821"
	)
	e := newEnv(t)
	id := randomID("rw-e2e-")
	t.Cleanup(func() { _ = exec.Command(bin, "rm", "-f", "-t", "0", "--filter", "label=refinery.worker="+id).Run() })
	for k, v := range map[string]string{"PODMAN_BIN": bin, "CONTAINER_IMAGE": builderImage, "CONTAINER_NETWORK": "none",
		"WORKER_ID": id, "STOP_GRACE_SEC": "1", "BUILD_API_TOKEN": token, "PLATFORM_TAG": pyfixture.HostPlatformTag(),
		"INDEX_URL": "http://builder:" + password + "@127.0.0.1:9/simple/",
		// The token is printed whole but is never whole on the command line
		// itself (printf joins its halves); the polling below needs a build
		// that lasts.
		"WORKER_RUN_CMD": `sh -c 'printf "%s%s on stdout\n" tok-5b7e 9c1d2a; printf "split tok-5b" >&2; sleep 0.3; ` +
			`printf "7e9c1d2a on stderr\n" >&2; echo "index host ${INDEX_URL#*@}"; sleep 3; exit 3'`,
	} {
		e.vars[k] = v
	}
	e.writeQueue(t, []json.RawMessage{json.RawMessage(`{"package":"leaky","version":"1.0"}`)})
	e.writePlan(t, []string{"leaky"})

	c := e.command("drain")
	var stdout, stderr bytes.Buffer
	c.Stdout, c.Stderr = &stdout, &stderr
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	// Read every process's command line while the build runs, as `ps` would.
	var seen []string
	var wg sync.WaitGroup
	done := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-done:
				return
			default:
			}
			if l := cmdlinesWith(password); len(l) > 0 {
				seen = append(seen, l...)
			}
		}
	}()
	err := c.Wait()
	close(done)
	wg.Wait()
	if err != nil {
		t.Fatalf("drain: %v\n%s\n%s", err, stdout.String(), stderr.String())
	}
	if len(seen) > 0 {
		t.Errorf("the index password is on a process command line: %q", seen[0])
	}

	m := e.manifest(t)
	if len(m) != 1 || m[0].Status != pipeline.StatusFailed {
		t.Fatalf("manifest = %+v, want one failed entry", m)
	}
	tail := strings.Join(anyStrings(m[0].Metadata["log_tail"]), "\n")
	for _, want := range []string{"[REDACTED] on stdout", "split [REDACTED] on stderr", "index host 127.0.0.1:9/simple/"} {
		if !strings.Contains(tail, want) {
			t.Errorf("log_tail lacks %q:\n%s", want, tail)
		}
	}
	logFile, _ := m[0].Metadata["log"].(string)
	logData, err := os.ReadFile(filepath.Join(e.out, logFile))
	if err != nil {
		t.Fatalf("job log %q: %v", logFile, err)
	}
	manifestData, _ := os.ReadFile(filepath.Join(e.out, "manifest.json"))
	for what, data := range map[string]string{"manifest.json": string(manifestData), "job log": string(logData),
		"drain stdout": stdout.String(), "drain stderr": stderr.String()} {
		for _, secret := range []string{token, password, "tok-5b7e9c", "5b7e9c1d2a"} {
			if strings.Contains(data, secret) {
				i := strings.Index(data, secret)
				t.Errorf("%s holds the secret %q: ...%s...", what, secret, data[max(0, i-200):i+len(secret)])
			}
		}
	}
}

// cmdlinesWith returns the command lines of the host's processes that
// contain s.
func cmdlinesWith(s string) []string {
	dirs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	var out []string
	for _, p := range dirs {
		b, err := os.ReadFile(p)
		if err == nil && bytes.Contains(b, []byte(s)) {
			out = append(out, strings.ReplaceAll(string(b), "\x00", " "))
		}
	}
	return out
}
