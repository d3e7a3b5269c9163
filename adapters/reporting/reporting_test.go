package reporting

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/refinery/refinery-worker/adapters/planfile"
	"github.com/refinery/refinery-worker/pipeline"
)

var quiet = slog.New(slog.DiscardHandler)

func TestOpenWithoutAControlPlaneIsNil(t *testing.T) {
	l, err := Open(context.Background(), Options{CacheDir: t.TempDir(), Logger: quiet})
	if err != nil || l != nil {
		t.Fatalf("Open = %v, %v; want nil, nil", l, err)
	}
	if l.Backlog() != 0 || l.DeadLetters() != 0 || l.StageReporter() != nil || l.LogOptions() != nil {
		t.Error("a nil Link reports a backlog or a reporter")
	}
	plans := planfile.New(t.TempDir() + "/plan.json")
	if src, poster, err := l.StagePlans(plans, t.TempDir()); err != nil || src != plans || poster != nil {
		t.Errorf("StagePlans on a nil Link = %v, %v, %v; want the plans themselves", src, poster, err)
	}
}

// The link sends heartbeats with the worker's numbers and closes cleanly.
func TestLinkHeartbeatsAndCloses(t *testing.T) {
	beats := make(chan map[string]any, 16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/worker/heartbeat" {
			var hb map[string]any
			b, _ := io.ReadAll(r.Body)
			_ = json.Unmarshal(b, &hb)
			select {
			case beats <- hb:
			default:
			}
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	l, err := Open(context.Background(), Options{BaseURL: srv.URL, Token: "t0ken-value", WorkerID: "w1",
		OutputDir: t.TempDir(), CacheDir: t.TempDir(), HeartbeatInterval: time.Hour, ActiveBuilds: func() int { return 3 },
		PoolSize: 4, PlanPoolSize: 1, CloseWait: time.Second, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	hb := <-beats
	if hb["worker_id"] != "w1" || hb["active_builds"] != float64(3) || hb["build_pool_size"] != float64(4) {
		t.Errorf("heartbeat %v", hb)
	}
	if l.Client() == nil || l.Reporter() == nil || l.StageReporter() == nil || l.Backlog() != 0 || len(l.LogOptions()) != 1 {
		t.Error("an open Link lacks its parts")
	}
	src, poster, err := l.StagePlans(planfile.New(t.TempDir()+"/plan.json"), t.TempDir())
	if err != nil || poster == nil || src != poster {
		t.Errorf("StagePlans = %v, %v, %v; want the poster as the source", src, poster, err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
}

type lastRun string

func (r lastRun) LastRunID() string { return string(r) }

type planAt struct {
	plan *pipeline.Plan
	err  error
}

func (p planAt) Current(context.Context) (*pipeline.Plan, string, error) { return p.plan, "", p.err }

func TestRunIDs(t *testing.T) {
	cases := []struct {
		name     string
		reported string
		plan     planAt
		want     string
	}{
		{"the latest outcome's run wins", "run-out", planAt{plan: &pipeline.Plan{RunID: "run-plan"}}, "run-out"},
		{"else the local plan's", "", planAt{plan: &pipeline.Plan{RunID: "run-plan"}}, "run-plan"},
		{"no plan", "", planAt{}, ""},
		{"unreadable plan", "", planAt{err: errors.New("bad json")}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := (runIDs{reporter: lastRun(tc.reported), plans: tc.plan}).current(); got != tc.want {
				t.Errorf("current = %q, want %q", got, tc.want)
			}
		})
	}
}
