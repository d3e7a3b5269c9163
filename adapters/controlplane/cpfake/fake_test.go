package cpfake_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/refinery/refinery-worker/adapters/controlplane/cpfake"
)

func do(t *testing.T, ts *httptest.Server, method, path, body string, hdr map[string]string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(b))
}

func TestReferenceQuirks(t *testing.T) {
	tok := map[string]string{"X-Worker-Token": "tok"}
	tests := []struct {
		name, method, path, body string
		hdr                      map[string]string
		code                     int
		answer                   string // substring of the answer
	}{
		{"empty builds are null", "POST", "/api/build-queue/pop?max=3", "", tok, 200, `{"builds":null}`},
		{"empty ids are null", "POST", "/api/pending-inputs/pop", "", tok, 200, `{"ids":null}`},
		{"empty input list is null", "GET", "/api/pending-inputs", "", nil, 200, `null`},
		{"wrong token", "POST", "/api/build-queue/pop", "", map[string]string{"X-Worker-Token": "bad"}, 401, "invalid worker token"},
		{"token in query", "POST", "/api/build-queue/pop?token=tok", "", nil, 200, "builds"},
		{"no token on non-token endpoint", "POST", "/api/history", `{"name":"a","version":"1","status":"built"}`, nil, 200, "event recorded"},
		{"event without status", "POST", "/api/history", `{"name":"a","version":"1"}`, nil, 400, "error"},
		{"log without version", "POST", "/api/logs", `{"name":"a","content":"x"}`, nil, 400, "error"},
		{"log at the limit", "POST", "/api/logs", `{"name":"a","version":"1","content":"` + strings.Repeat("x", cpfake.MaxFullLogBody-39) + `"}`, nil, 200, "log saved"},
		{"log over the limit", "POST", "/api/logs", `{"name":"a","version":"1","content":"` + strings.Repeat("x", cpfake.MaxFullLogBody-38) + `"}`, nil, 413, "error"},
		{"manifest empty", "POST", "/api/manifest", `[]`, nil, 400, "error"},
		{"manifest not array", "POST", "/api/manifest", `{"name":"a"}`, nil, 400, "error"},
		{"plan without dag", "POST", "/api/plan", `{"run_id":"r","plan":[{"name":"a"}]}`, nil, 500, "error"},
		{"plan empty", "POST", "/api/plan", `{"run_id":"r","plan":[],"dag":null}`, nil, 400, "error"},
		{"no plan yet", "GET", "/api/plan/latest", "", nil, 404, "plan not found"},
		{"heartbeat (newer version)", "POST", "/api/worker/heartbeat", `{}`, tok, 200, "heartbeat recorded"},
		{"settings", "GET", "/api/settings", "", nil, 200, `"python_version":"3.11"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ts := httptest.NewServer(cpfake.New(cpfake.Options{Token: "tok"}))
			defer ts.Close()
			code, answer := do(t, ts, tc.method, tc.path, tc.body, tc.hdr)
			if code != tc.code || !strings.Contains(answer, tc.answer) {
				t.Fatalf("got %d %q, want %d containing %q", code, answer, tc.code, tc.answer)
			}
		})
	}
}

func TestStreamStoresLinesAsTheyCome(t *testing.T) {
	fake := cpfake.New(cpfake.Options{})
	ts := httptest.NewServer(fake)
	defer ts.Close()
	body := `{"seq":1,"content":"a","timestamp":1}` + "\n" +
		`{"seq":2,"content":"","timestamp":1}` + "\n" + // skipped
		`not json` + "\n" + // stored verbatim
		`{"seq":1,"content":"a again","timestamp":1}` + "\n" + // same seq: de-duplicated
		`{"seq":3,"content":"c","timestamp":1}`
	code, answer := do(t, ts, "POST", "/api/logs/stream/lxml/5.2.1?run_id=r&attempt=1", body, nil)
	if code != 200 || !strings.Contains(answer, "log stream ingested") {
		t.Fatalf("got %d %s", code, answer)
	}
	lines := fake.StreamLines(cpfake.StreamKey{Name: "lxml", Version: "5.2.1", RunID: "r", Attempt: "1"})
	if len(lines) != 3 || lines[0].Content != "a" || lines[1].Raw != "not json" || lines[2].Seq != 3 || fake.StreamDuplicates() != 1 {
		t.Fatalf("lines = %+v", lines)
	}
	long := `{"seq":4,"content":"` + strings.Repeat("x", cpfake.MaxStreamLine) + `"}` + "\n"
	if code, _ := do(t, ts, "POST", "/api/logs/stream/lxml/5.2.1?run_id=r&attempt=1", long, nil); code != 500 {
		t.Fatalf("long line: %d, want 500", code)
	}
}

func TestManifestBindingAndIdempotency(t *testing.T) {
	fake := cpfake.New(cpfake.Options{})
	ts := httptest.NewServer(fake)
	defer ts.Close()
	body := `[{"name":"a","version":"1","status":"built","python_tag":"cp311","PlatformTag":"any","WHEEL":"a.whl"}]`
	key := map[string]string{"Idempotency-Key": "k1"}
	for range 2 {
		if code, _ := do(t, ts, "POST", "/api/manifest", body, key); code != 200 {
			t.Fatalf("code %d", code)
		}
	}
	m := fake.Manifest()
	if len(m) != 1 || fake.Duplicates() != 1 {
		t.Fatalf("stored %d entries, %d duplicates", len(m), fake.Duplicates())
	}
	if m[0].PythonTag != "" || m[0].PlatformTag != "any" || m[0].Wheel != "a.whl" || m[0].Status != "built" {
		t.Fatalf("bound as %+v", m[0])
	}
}

func TestControlEndpoints(t *testing.T) {
	fake := cpfake.New(cpfake.Options{})
	ts := httptest.NewServer(fake)
	defer ts.Close()
	if code, _ := do(t, ts, "POST", "/_fake/builds", `[{"package":"numpy","version":"1.26.4"}]`, nil); code != 200 || len(fake.Builds()) != 1 {
		t.Fatalf("add builds: %d", code)
	}
	if code, _ := do(t, ts, "POST", "/_fake/failure?mode=500", "", nil); code != 200 {
		t.Fatal(code)
	}
	if code, _ := do(t, ts, "GET", "/api/settings", "", nil); code != 500 {
		t.Fatalf("failure mode not applied: %d", code)
	}
	if code, _ := do(t, ts, "POST", "/_fake/failure?mode=none", "", nil); code != 200 {
		t.Fatal(code)
	}
	if code, body := do(t, ts, "GET", "/_fake/state", "", nil); code != 200 || !strings.Contains(body, `"numpy"`) {
		t.Fatalf("state: %d %s", code, body)
	}
}
