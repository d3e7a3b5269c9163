package outbox_test

import (
	"context"
	"testing"
	"time"

	"github.com/refinery/refinery-worker/adapters/controlplane"
	"github.com/refinery/refinery-worker/adapters/controlplane/cpfake"
	"github.com/refinery/refinery-worker/adapters/outbox"
)

// The outbox is the retry of a report: each delivery is one HTTP request,
// however many attempts the client is configured with, so that retries are
// not nested (a client retrying inside would hide the failures from the
// outbox and multiply the requests of an outage).
func TestDeliveryIsOneRequestPerTry(t *testing.T) {
	tests := []struct {
		name         string
		clientTries  int // controlplane.Options.MaxAttempts (0 = its default, 4)
		fail         int // the fake answers 500 this many times first
		wantRequests int
		wantFailures int64
	}{
		{"no failure", 0, 0, 1, 0},
		{"client default attempts", 0, 3, 4, 3},
		{"client with many attempts", 10, 5, 6, 5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake := cpfake.New(cpfake.Options{})
			ts, err := cpfake.Listen(fake, "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ts.Close()
			client, err := controlplane.New(controlplane.Options{BaseURL: ts.URL, Token: "tok", MaxAttempts: tc.clientTries,
				BaseBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond, Logger: quiet})
			if err != nil {
				t.Fatal(err)
			}
			box := openBox(t, t.TempDir(), client)
			fake.FailNext(cpfake.Fail500, tc.fail)
			ctx := context.Background()
			rec := outbox.Record{Key: "k", Group: "g", Kind: "event", Path: "/api/history",
				Body: []byte(`{"name":"a","version":"1","status":"built","detail":"x"}`)}
			if err := box.Add(ctx, rec); err != nil {
				t.Fatal(err)
			}
			stop := run(box)
			wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			defer cancel()
			if err := box.WaitEmpty(wctx); err != nil {
				t.Fatal(err)
			}
			stop()
			if n := fake.CountRequests("POST", "/api/history"); n != tc.wantRequests {
				t.Errorf("requests = %d, want %d", n, tc.wantRequests)
			}
			if st := box.Stats(); st.Failures != tc.wantFailures || st.Delivered != 1 {
				t.Errorf("stats = %+v, want %d failures seen by the outbox and 1 delivered", st, tc.wantFailures)
			}
		})
	}
}
