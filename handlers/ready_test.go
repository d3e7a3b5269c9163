package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
)

// An advisory check's error is reported (checks, degraded) without making
// the worker not ready; any other failed check does.
func TestReadyAdvisoryChecks(t *testing.T) {
	errDown := errors.New("control-plane: connection refused")
	errToken := errors.New("control-plane rejects the worker token")
	advisory := func(err error) bool { return errors.Is(err, errDown) }
	tests := []struct {
		name     string
		err      error
		code     int
		degraded bool
	}{
		{"ok", nil, http.StatusOK, false},
		{"advisory error: still ready", errDown, http.StatusOK, true},
		{"other error: not ready", errToken, http.StatusServiceUnavailable, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(NewHTTP(HTTPOptions{Ready: []ReadyCheck{
				{Name: "control_plane", Check: func(context.Context) error { return tc.err }, Advisory: advisory}}}))
			defer srv.Close()
			resp, err := http.Get(srv.URL + "/ready")
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body struct {
				Ready    bool              `json:"ready"`
				Checks   map[string]string `json:"checks"`
				Degraded []string          `json:"degraded"`
			}
			if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.code || (len(body.Degraded) > 0) != tc.degraded {
				t.Errorf("answer %d %+v, want %d degraded %v", resp.StatusCode, body, tc.code, tc.degraded)
			}
			if tc.err != nil && body.Checks["control_plane"] != tc.err.Error() {
				t.Errorf("check reported %q, want the reason", body.Checks["control_plane"])
			}
		})
	}
}
