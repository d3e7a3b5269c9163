package cpfake_test

import (
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/refinery/refinery-worker/adapters/controlplane/cpfake"
)

// The two modelled versions differ in routes, stored fields, lease marks and
// chunk trimming; the version can be switched at run time.
func TestVersions(t *testing.T) {
	tok := map[string]string{"X-Worker-Token": "tok"}
	tests := []struct {
		version   cpfake.Version
		heartbeat int    // answer code
		smoke     int    // answer code
		popMark   string // row status after a pop
		summary   string // stored failure_summary
		duration  bool   // duration_ms stored
		trimmed   int
	}{
		{cpfake.VersionOld, 404, 404, "building", "", false, 0},
		{cpfake.VersionNew, 200, 200, "leased", "missing zlib.h", true, 2},
	}
	for _, tc := range tests {
		t.Run(string(tc.version), func(t *testing.T) {
			fake := cpfake.New(cpfake.Options{Token: "tok", LogChunkMax: 3})
			ts := httptest.NewServer(fake)
			defer ts.Close()
			if code, _ := do(t, ts, "POST", "/_fake/version?v="+string(tc.version), "", nil); code != 200 || fake.Version() != tc.version {
				t.Fatalf("switch: %d, version %s", code, fake.Version())
			}
			if code, _ := do(t, ts, "POST", "/_fake/version?v=bad", "", nil); code != 400 {
				t.Errorf("bad version answered %d, want 400", code)
			}
			hb := `{"worker_id":"w","run_id":"r-1","plan_pool_size":2}`
			if code, _ := do(t, ts, "POST", "/api/worker/heartbeat", hb, tok); code != tc.heartbeat {
				t.Errorf("heartbeat %d, want %d", code, tc.heartbeat)
			}
			if tc.heartbeat == 200 && fake.Heartbeats()[0]["run_id"] != "r-1" {
				t.Errorf("heartbeat stored %v", fake.Heartbeats())
			}
			fake.AddBuilds(cpfake.Build{Package: "zlibby", Version: "1.0"})
			code, smoke := do(t, ts, "POST", "/api/worker/smoke", "", tok)
			if code != tc.smoke || (code == 200 && smoke != `{"detail":"smoke-ok","queue_length":1}`) {
				t.Errorf("smoke %d %s, want %d", code, smoke, tc.smoke)
			}
			if code, _ := do(t, ts, "POST", "/api/worker/smoke", "", nil); tc.smoke == 200 && code != 401 {
				t.Errorf("smoke without token %d, want 401", code)
			}
			do(t, ts, "POST", "/api/build-queue/pop?max=5", "", tok)
			if b := fake.Builds()[0]; b.Status != tc.popMark {
				t.Errorf("after the pop: %s, want %s", b.Status, tc.popMark)
			}
			st := `{"package":"zlibby","version":"1.0","status":"failed","attempts":1,"error":"x","failure_summary":"missing zlib.h","hint_ids":["zlib"]}`
			do(t, ts, "POST", "/api/builds/status", st, tok)
			if got := fake.BuildStatuses()[0].FailureSummary; got != tc.summary {
				t.Errorf("failure_summary %q, want %q", got, tc.summary)
			}
			if got := fake.Builds()[0].FailureSummary; got != tc.summary {
				t.Errorf("row failure_summary %q, want %q", got, tc.summary)
			}
			do(t, ts, "POST", "/api/history", `{"name":"zlibby","version":"1.0","status":"failed","duration_ms":1234,"matched_hint_ids":["zlib"]}`, nil)
			if ev := fake.Events()[0]; (ev.DurationMS != nil) != tc.duration || (ev.DurationMS != nil && *ev.DurationMS != 1234) {
				t.Errorf("duration_ms %v, want stored: %v", ev.DurationMS, tc.duration)
			}
			var lines []string
			for i := range 5 {
				lines = append(lines, fmt.Sprintf(`{"seq":%d,"content":"line %d"}`, i, i))
			}
			do(t, ts, "POST", "/api/logs/stream/zlibby/1.0?run_id=r&attempt=1", strings.Join(lines, "\n"), tok)
			key := cpfake.StreamKey{Name: "zlibby", Version: "1.0", RunID: "r", Attempt: "1"}
			if fake.TrimmedChunks() != tc.trimmed || len(fake.StreamLines(key)) != 5-tc.trimmed {
				t.Errorf("trimmed %d, kept %d; want %d trimmed", fake.TrimmedChunks(), len(fake.StreamLines(key)), tc.trimmed)
			}
			if tc.trimmed > 0 && fake.StreamLines(key)[0].Content != "line 2" {
				t.Errorf("oldest kept chunk %+v, want line 2", fake.StreamLines(key)[0])
			}
		})
	}
}
