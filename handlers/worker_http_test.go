package handlers

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

type noPause struct{}

func (noPause) Pause(string) {}
func (noPause) Resume()      {}

func TestNewWorkerHTTP(t *testing.T) {
	simple := t.TempDir()
	if err := os.WriteFile(filepath.Join(simple, "index.html"), []byte("<html>index</html>"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name      string
		simpleDir string
		wantIndex int
	}{
		{"with the index", simple, http.StatusOK},
		{"without", "", http.StatusNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, err := NewWorkerHTTP(WorkerHTTPOptions{HTTPOptions: HTTPOptions{Token: "tok", Logger: slog.New(slog.DiscardHandler)},
				Ops: OpsOptions{Pause: noPause{}, Cancel: NewRunning()}, SimpleDir: tc.simpleDir,
				Status: StatusSources{WorkerID: "w9", Gate: fakeGate{}, Builds: fakeBuilds{}, Items: fakeItems(0),
					Drains: fakeDrains{}, Failures: fakeFailures{}, Index: fakeIndex{}}})
			if err != nil {
				t.Fatal(err)
			}
			get := func(path, token string) (int, string) {
				req := httptest.NewRequest(http.MethodGet, path, nil)
				if token != "" {
					req.Header.Set("X-Worker-Token", token)
				}
				rec := httptest.NewRecorder()
				e.ServeHTTP(rec, req)
				b, _ := io.ReadAll(rec.Body)
				return rec.Code, string(b)
			}
			if code, body := get("/status", "tok"); code != http.StatusOK || !strings.Contains(body, `"worker_id":"w9"`) {
				t.Errorf("/status = %d %s", code, body)
			}
			if code, _ := get("/status", ""); code != http.StatusUnauthorized {
				t.Errorf("/status without token = %d", code)
			}
			if code, _ := get("/health", ""); code != http.StatusOK {
				t.Errorf("/health = %d", code)
			}
			if code, _ := get("/simple/", ""); code != tc.wantIndex {
				t.Errorf("/simple/ = %d, want %d", code, tc.wantIndex)
			}
		})
	}
}
