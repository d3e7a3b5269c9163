package intake

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/refinery/refinery-worker/adapters/filequeue"
)

func TestOpenFile(t *testing.T) {
	for _, watch := range []bool{false, true} {
		path := filepath.Join(t.TempDir(), "q.json")
		q, err := Open(context.Background(), Options{Backend: "file", Watch: watch, Logger: slog.New(slog.DiscardHandler),
			File: filequeue.Options{Path: path, Owner: "w1"}})
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := q.Intake.(*filequeue.Queue); !ok {
			t.Errorf("intake is %T", q.Intake)
		}
		if (q.WaitItems != nil) != watch {
			t.Errorf("watch %v: WaitItems set %v", watch, q.WaitItems != nil)
		}
		if err := q.Ready(context.Background()); err != nil {
			t.Errorf("ready: %v", err)
		}
		if err := q.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	}
}

func TestOpenErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    Options
		want string
	}{
		{"unknown backend", Options{Backend: "sqs"}, "QUEUE_BACKEND=sqs is not available in this build"},
		{"queue file under a file", Options{Backend: "file", File: filequeue.Options{Path: "/etc/hostname/q.json", Owner: "w"}},
			"QUEUE_FILE=/etc/hostname/q.json: "},
		{"control-plane without a client", Options{Backend: "controlplane"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q, err := Open(context.Background(), tc.o)
			if err == nil || q != nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Open = %v, %v; want an error with %q", q, err, tc.want)
			}
		})
	}
}

func TestClaimNeverRedelivers(t *testing.T) {
	for _, tc := range []struct {
		backend string
		want    bool
	}{
		{"file", true},
		{"redis", true},
		{"kafka", false},        // a rebalance redelivers through Claim
		{"controlplane", false}, // an expired lease is popped again
		{"", false},
		{"sqs", false},
	} {
		if got := ClaimNeverRedelivers(tc.backend); got != tc.want {
			t.Errorf("ClaimNeverRedelivers(%q) = %v, want %v", tc.backend, got, tc.want)
		}
	}
}
