package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseInterval(t *testing.T) {
	cases := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"", 0, true}, {"0", 0, true}, {"90", 90 * time.Second, true}, {"1.5", 1500 * time.Millisecond, true},
		{"90s", 90 * time.Second, true}, {"5m", 5 * time.Minute, true}, {" 2h ", 2 * time.Hour, true},
		{"-5", 0, false}, {"-1s", 0, false}, {"soon", 0, false}, {"5 minutes", 0, false},
	}
	for _, tc := range cases {
		got, err := ParseInterval(tc.in)
		if (err == nil) != tc.ok || (tc.ok && got.D() != tc.want) {
			t.Errorf("ParseInterval(%q) = %v, %v; want %v ok=%v", tc.in, got.D(), err, tc.want, tc.ok)
		}
	}
}

func TestLoadConfigDefaults(t *testing.T) {
	cfg, err := LoadConfig(nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.QueueBackend != "file" || cfg.OutputDir != "/output" || cfg.CacheDir != "/cache" || cfg.BatchSize != 50 ||
		cfg.RunnerTimeoutSec != 900 || cfg.MaxRequeueAttempts != 3 || cfg.RequeueOnFailure || cfg.PythonVersion != "3.11" ||
		cfg.PlatformTag != "manylinux2014_s390x" || cfg.WorkerHTTPAddr != ":9000" || cfg.ShutdownGrace.D() != 30*time.Second ||
		cfg.WorkerAutorunInterval != 0 || cfg.WorkerID == "" || cfg.MemorySoftLimit != 120<<20 {
		t.Errorf("defaults differ from docs/control-plane.md: %+v", cfg)
	}
}

// Every bad variable is reported at once, each named with its reason.
func TestLoadConfigListsEveryBadVariable(t *testing.T) {
	_, err := LoadConfig([]string{
		"QUEUE_BACKEND=carrier-pigeon", "BATCH_SIZE=lots", "MAX_REQUEUE_ATTEMPTS=-1", "REQUEUE_ON_FAILURE=maybe",
		"WORKER_AUTORUN_INTERVAL=soon", "PLATFORM_TAG=x --privileged", "PLAN_OVERRIDES_JSON={bad", "CONTAINER_PRESET=arch",
		"CONTROL_PLANE_URL=ftp://x", "RUNNER_TIMEOUT_SEC=0", "MEMORY_SOFT_LIMIT=lots", "SMOKE_TEST=pytest | tee log",
	})
	var ce *ConfigError
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v, want *ConfigError", err)
	}
	for _, v := range []string{"QUEUE_BACKEND", "BATCH_SIZE", "MAX_REQUEUE_ATTEMPTS", "REQUEUE_ON_FAILURE",
		"WORKER_AUTORUN_INTERVAL", "PLATFORM_TAG", "PLAN_OVERRIDES_JSON", "CONTAINER_PRESET", "CONTROL_PLANE_URL", "RUNNER_TIMEOUT_SEC",
		"MEMORY_SOFT_LIMIT", "SMOKE_TEST"} {
		found := false
		for _, p := range ce.Problems {
			if strings.HasPrefix(p, v+": ") {
				found = true
			}
		}
		if !found {
			t.Errorf("no problem reported for %s in:\n%s", v, err)
		}
	}
}

func TestOverridesNormalised(t *testing.T) {
	cfg, err := LoadConfig([]string{`PLAN_OVERRIDES_JSON={"NumPy": "1.26.4", "zope_interface": "==6.4"}`})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.PlanOverrides["numpy"] != "1.26.4" || cfg.PlanOverrides["zope-interface"] != "6.4" {
		t.Errorf("overrides = %v", cfg.PlanOverrides)
	}
}

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
	if code != exitUsage {
		t.Fatalf("exit %d, want %d", code, exitUsage)
	}
	if !strings.Contains(errOut.String(), "BATCH_SIZE") || !strings.Contains(errOut.String(), "SHUTDOWN_GRACE") {
		t.Errorf("stderr does not name both variables:\n%s", errOut.String())
	}
}
