package cpfake_test

import (
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/refinery/refinery-worker/adapters/controlplane/cpfake"
)

// The build queue leases as the newer control-plane does: a popped row is
// leased (not building), offered again after the lease timeout, and a row
// put back pending with a backoff_until ahead waits for it.
func TestBuildQueueLeases(t *testing.T) {
	tests := []struct {
		name    string
		timeout time.Duration
		report  string // a status reported after the first pop, "" for none
		again   bool   // the second pop offers the row again
	}{
		{"leased rows stay leased without a timeout", 0, "", false},
		{"a lease past its timeout is offered again", time.Nanosecond, "", true},
		{"a building row is not re-offered", time.Nanosecond, `{"package":"numpy","version":"1.0","status":"building"}`, false},
		{"pending with backoff_until ahead waits", 0,
			fmt.Sprintf(`{"package":"numpy","version":"1.0","status":"pending","backoff_until":%d}`, time.Now().Add(time.Hour).Unix()), false},
		{"pending with backoff_until passed is offered", 0,
			fmt.Sprintf(`{"package":"numpy","version":"1.0","status":"pending","backoff_until":%d}`, time.Now().Add(-time.Second).Unix()), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake := cpfake.New(cpfake.Options{LeaseTimeout: tc.timeout})
			ts := httptest.NewServer(fake)
			defer ts.Close()
			fake.AddBuilds(cpfake.Build{Package: "numpy", Version: "1.0"})
			if code, body := do(t, ts, "POST", "/api/build-queue/pop?max=5", "", nil); code != 200 || !strings.Contains(body, `"numpy"`) {
				t.Fatalf("first pop: %d %s", code, body)
			}
			if st := fake.Builds()[0]; st.Status != "leased" || st.Attempts != 1 {
				t.Fatalf("after the pop: %+v, want leased with attempts 1", st)
			}
			if tc.report != "" {
				if code, _ := do(t, ts, "POST", "/api/builds/status", tc.report, nil); code != 200 {
					t.Fatalf("status: %d", code)
				}
			}
			_, body := do(t, ts, "POST", "/api/build-queue/pop?max=5", "", nil)
			if got := strings.Contains(body, `"numpy"`); got != tc.again {
				t.Fatalf("second pop %s, want the row offered again: %v", body, tc.again)
			}
			if tc.again && fake.Builds()[0].Leases != 2 {
				t.Errorf("leases = %d, want 2", fake.Builds()[0].Leases)
			}
		})
	}
}

// A manifest entry's CreatedAt is kept when sent (PascalCase binding) and
// stamped with the time of receipt when not (snake_case created_at is
// dropped, as every snake_case key is).
func TestManifestCreatedAt(t *testing.T) {
	fake := cpfake.New(cpfake.Options{})
	ts := httptest.NewServer(fake)
	defer ts.Close()
	before := time.Now()
	body := `[{"name":"a","version":"1","status":"built","CreatedAt":"2026-01-02T03:04:05.5Z"},` +
		`{"name":"b","version":"1","status":"built","created_at":"2026-01-02T03:04:05Z"}]`
	if code, _ := do(t, ts, "POST", "/api/manifest", body, nil); code != 200 {
		t.Fatalf("code %d", code)
	}
	m := fake.Manifest()
	if want := time.Date(2026, 1, 2, 3, 4, 5, 5e8, time.UTC); !m[0].CreatedAt.Equal(want) {
		t.Errorf("a: CreatedAt %s, want %s", m[0].CreatedAt, want)
	}
	if m[1].CreatedAt.Before(before) {
		t.Errorf("b: CreatedAt %s, want the time of receipt", m[1].CreatedAt)
	}
}
