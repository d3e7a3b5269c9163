package main

import (
	"strings"
	"testing"
	"time"
)

// TestResolverConfig covers the planning variables: a full PYTHON_VERSION,
// the give-up limit, the index timeout and overrides naming one project
// under two spellings.
func TestResolverConfig(t *testing.T) {
	cfg, err := LoadConfig([]string{"PYTHON_VERSION=3.11.7", "RESOLVER_MAX_ATTEMPTS=500", "INDEX_TIMEOUT=5s"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.PythonVersion != "3.11" || cfg.PythonFullVersion != "3.11.7" {
		t.Errorf("python version = %q, full %q; want 3.11 and 3.11.7", cfg.PythonVersion, cfg.PythonFullVersion)
	}
	if cfg.ResolverMaxAttempts != 500 || cfg.IndexTimeout.D() != 5*time.Second {
		t.Errorf("max attempts %d, index timeout %s", cfg.ResolverMaxAttempts, cfg.IndexTimeout)
	}
	def, err := LoadConfig(nil)
	if err != nil {
		t.Fatal(err)
	}
	if def.PythonFullVersion != "3.11" || def.ResolverMaxAttempts != 20000 || def.IndexTimeout.D() != 30*time.Second {
		t.Errorf("defaults: full %q, max attempts %d, timeout %s", def.PythonFullVersion, def.ResolverMaxAttempts, def.IndexTimeout)
	}

	bad := []struct{ env, key string }{
		{"PYTHON_VERSION=3.11.7.1", "PYTHON_VERSION"},
		{"RESOLVER_MAX_ATTEMPTS=5", "RESOLVER_MAX_ATTEMPTS"},
		{"INDEX_TIMEOUT=1h", "INDEX_TIMEOUT"},
		{`PLAN_OVERRIDES_JSON={"ov-pkg":"1.0","Ov.Pkg":"2.0"}`, "PLAN_OVERRIDES_JSON"},
		{`PLAN_OVERRIDES_JSON={"ov-pkg":"1.0","OV_PKG":"1.0"}`, "PLAN_OVERRIDES_JSON"},
	}
	for _, b := range bad {
		_, err := LoadConfig([]string{b.env})
		if err == nil || !strings.Contains(err.Error(), b.key) {
			t.Errorf("%s: err = %v, want a problem naming %s", b.env, err, b.key)
		}
	}
}
