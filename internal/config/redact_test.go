package config

import (
	"strings"
	"testing"
)

// Redacted shows every variable but never a secret: secrets set become
// [REDACTED], unset ones stay empty, and URL passwords are cut.
func TestRedacted(t *testing.T) {
	cfg, err := Load([]string{
		"WORKER_TOKEN=wt-secret-1", "CONTROL_PLANE_TOKEN=cp-secret-2", "OBJECT_STORE_SECRET_KEY=os-secret-3",
		"INDEX_URL=https://user:pw-secret-4@index.example/simple", "BATCH_SIZE=7",
		"EXTRA_INDEX_URL=https://a:pw-secret-5@a.example/simple https://b.example/simple",
		"REDIS_URL=redis://:pw-secret-6@redis:6379/0", "INDEX_PASSWORD=pw-secret-7",
		"ARTIFACT_STORE_SECRET_KEY=s3cr3t", "ARTIFACT_STORE_ACCESS_KEY=ak1",
		"ARTIFACT_STORE_URL=http://127.0.0.1:9000/wheels",
		`PLAN_OVERRIDES_JSON={"numpy":"1.26.4"}`, "KAFKA_BROKERS=k1:9092,k2:9092",
	})
	if err != nil {
		t.Fatal(err)
	}
	red := cfg.Redacted()
	for _, v := range red {
		if strings.Contains(v, "secret") || strings.Contains(v, "s3cr3t") {
			t.Errorf("Redacted shows a secret: %q", v)
		}
	}
	want := map[string]string{
		"WORKER_TOKEN":              "[REDACTED]",
		"CONTROL_PLANE_TOKEN":       "[REDACTED]",
		"OBJECT_STORE_SECRET_KEY":   "[REDACTED]",
		"INDEX_PASSWORD":            "[REDACTED]",
		"ARTIFACT_STORE_SECRET_KEY": "[REDACTED]",
		"ARTIFACT_STORE_ACCESS_KEY": "[REDACTED]",
		"INDEX_URL":                 "https://user:%5BREDACTED%5D@index.example/simple",
		"EXTRA_INDEX_URL":           "https://a:%5BREDACTED%5D@a.example/simple,https://b.example/simple",
		"REDIS_URL":                 "redis://:%5BREDACTED%5D@redis:6379/0",
		"ARTIFACT_STORE_URL":        "http://127.0.0.1:9000/wheels",
		"BATCH_SIZE":                "7",
		"QUEUE_BACKEND":             "file",
		"WORKER_RUN_CMD":            "refinery-build",
		"PLAN_OVERRIDES_JSON":       `{"numpy":"1.26.4"}`,
		"KAFKA_BROKERS":             "k1:9092,k2:9092",
		"SHUTDOWN_GRACE":            "30s",
		"CONTAINER_PRESET":          "rocky",
	}
	for k, v := range want {
		if red[k] != v {
			t.Errorf("Redacted()[%s] = %q, want %q", k, red[k], v)
		}
	}
	def, err := Load(nil)
	if err != nil {
		t.Fatal(err)
	}
	red = def.Redacted()
	for _, k := range []string{"WORKER_TOKEN", "PLAN_OVERRIDES_JSON", "EXTRA_INDEX_URL"} {
		if v, ok := red[k]; !ok || v != "" {
			t.Errorf("unset %s = %q (present %v), want empty", k, v, ok)
		}
	}
	for field, key := range envKeys() {
		if _, ok := red[key]; key != "" && !ok {
			t.Errorf("Redacted lacks %s (field %s)", key, field)
		}
	}
	if _, ok := red[""]; ok {
		t.Error("Redacted shows a field without a variable")
	}
}
