package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/refinery/refinery-worker/internal/cli"
)

// `refinery-worker config` shows values but never secrets.
func TestConfigCommandRedactsSecrets(t *testing.T) {
	var out, errOut bytes.Buffer
	code := run(t.Context(), []string{"config"}, []string{
		"WORKER_TOKEN=wt-secret-1", "CONTROL_PLANE_TOKEN=cp-secret-2", "OBJECT_STORE_SECRET_KEY=os-secret-3",
		"INDEX_URL=https://user:pw-secret-4@index.example/simple", "BATCH_SIZE=7",
	}, strings.NewReader(""), &out, &errOut)
	if code != 0 {
		t.Fatalf("config exit %d: %s", code, errOut.String())
	}
	s := out.String()
	for _, secret := range []string{"wt-secret-1", "cp-secret-2", "os-secret-3", "pw-secret-4"} {
		if strings.Contains(s, secret) {
			t.Errorf("config printed secret %q", secret)
		}
	}
	for _, want := range []string{"WORKER_TOKEN=[REDACTED]", "BATCH_SIZE=7", "QUEUE_BACKEND=file", "INDEX_URL=https://user:%5BREDACTED%5D@index.example/simple"} {
		if !strings.Contains(s, want) {
			t.Errorf("config output lacks %q:\n%s", want, s)
		}
	}
}

func TestBadConfigStopsStartWithExitCode2(t *testing.T) {
	var out, errOut bytes.Buffer
	code := run(t.Context(), []string{"drain"}, []string{"BATCH_SIZE=0", "SHUTDOWN_GRACE=never"}, strings.NewReader(""), &out, &errOut)
	if code != cli.ExitUsage {
		t.Fatalf("exit %d, want %d", code, cli.ExitUsage)
	}
	if !strings.Contains(errOut.String(), "BATCH_SIZE") || !strings.Contains(errOut.String(), "SHUTDOWN_GRACE") {
		t.Errorf("stderr does not name both variables:\n%s", errOut.String())
	}
}
