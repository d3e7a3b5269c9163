package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/refinery/refinery-worker/pipeline"
)

type fakeGate struct {
	paused string
	disk   error
}

func (g fakeGate) Paused() string             { return g.paused }
func (g fakeGate) Disk(context.Context) error { return g.disk }

type fakeBuilds []RunningBuild

func (b fakeBuilds) List() []RunningBuild { return b }

type fakeItems int

func (n fakeItems) InFlight() int { return int(n) }

type fakeDrains struct{ d *pipeline.Drain }

func (f fakeDrains) Current() *pipeline.Drain { return f.d }

type fakeFailures []FailureNote

func (f fakeFailures) List() []FailureNote { return f }

type fakeIndex struct{}

func (fakeIndex) IndexStatus() any { return map[string]int{"wheels": 7} }

type fakeOutbox struct{ backlog, dead int }

func (o fakeOutbox) Backlog() int     { return o.backlog }
func (o fakeOutbox) DeadLetters() int { return o.dead }

func TestStatusDoc(t *testing.T) {
	cases := []struct {
		name   string
		gate   fakeGate
		outbox Outbox
		want   map[string]any // fields of the JSON document
		absent []string
	}{
		{name: "running, no control-plane", want: map[string]any{"worker_id": "w1", "intake": "file", "transport": "memory",
			"in_flight_items": float64(2)}, absent: []string{"paused", "disk", "outbox_backlog", "drain"}},
		{name: "paused, disk low, with outbox", gate: fakeGate{paused: "operator", disk: errors.New("low disk")},
			outbox: fakeOutbox{backlog: 3, dead: 1},
			want:   map[string]any{"paused": "operator", "disk": "low disk", "outbox_backlog": float64(3), "outbox_dead_letters": float64(1)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := NewStatus(StatusSources{WorkerID: "w1", Intake: "file", Transport: "memory", Gate: tc.gate,
				Builds: fakeBuilds{{CorrelationID: "c1"}}, Items: fakeItems(2), Drains: fakeDrains{},
				Failures: fakeFailures{}, Index: fakeIndex{}, Outbox: tc.outbox})
			b, err := json.Marshal(s.Doc())
			if err != nil {
				t.Fatal(err)
			}
			var doc map[string]any
			if err := json.Unmarshal(b, &doc); err != nil {
				t.Fatal(err)
			}
			for k, v := range tc.want {
				if doc[k] != v {
					t.Errorf("%s = %v, want %v", k, doc[k], v)
				}
			}
			for _, k := range tc.absent {
				if _, ok := doc[k]; ok {
					t.Errorf("%s present: %v", k, doc[k])
				}
			}
			if idx, _ := doc["index"].(map[string]any); idx["wheels"] != float64(7) {
				t.Errorf("index = %v", doc["index"])
			}
			if builds, _ := doc["builds"].([]any); len(builds) != 1 {
				t.Errorf("builds = %v", doc["builds"])
			}
		})
	}
}

func TestPrintStatus(t *testing.T) {
	cases := []struct {
		name    string
		token   string
		status  int
		body    string
		want    string
		wantErr string
	}{
		{name: "indented", token: "tok", status: 200, body: `{"worker_id":"w1"}`, want: "{\n  \"worker_id\": \"w1\"\n}\n"},
		{name: "refused", status: 401, body: "bad token\n", wantErr: "status: 401 Unauthorized: bad token"},
		{name: "not JSON", status: 200, body: "<html>", wantErr: "status: answer is not JSON"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/status" || r.Header.Get("X-Worker-Token") != tc.token {
					http.Error(w, "wrong request", http.StatusBadRequest)
					return
				}
				w.WriteHeader(tc.status)
				_, _ = w.Write([]byte(tc.body))
			}))
			defer srv.Close()
			var out bytes.Buffer
			err := PrintStatus(context.Background(), strings.TrimPrefix(srv.URL, "http://"), tc.token, &out)
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
			if out.String() != tc.want {
				t.Errorf("printed %q, want %q", out.String(), tc.want)
			}
		})
	}
}

func TestPrintStatusNamesTheAddressWhenNobodyServes(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	addr := strings.TrimPrefix(srv.URL, "http://")
	srv.Close()
	err := PrintStatus(context.Background(), addr, "", &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "is a worker serving on "+addr) {
		t.Errorf("err = %v", err)
	}
}
