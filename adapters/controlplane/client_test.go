package controlplane_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/refinery/refinery-worker/adapters/controlplane"
	"github.com/refinery/refinery-worker/adapters/controlplane/cpfake"
	"github.com/refinery/refinery-worker/handlers"
	"github.com/refinery/refinery-worker/pipeline"
)

func newPair(t *testing.T, fo cpfake.Options, co controlplane.Options) (*cpfake.Server, *controlplane.Client) {
	t.Helper()
	fake := cpfake.New(fo)
	ts := httptest.NewServer(fake)
	t.Cleanup(ts.Close)
	t.Cleanup(fake.ReleaseHangs)
	co.BaseURL = ts.URL
	if co.BaseBackoff == 0 {
		co.BaseBackoff = time.Millisecond
	}
	if co.MaxBackoff == 0 {
		co.MaxBackoff = 5 * time.Millisecond
	}
	c, err := controlplane.New(co)
	if err != nil {
		t.Fatal(err)
	}
	return fake, c
}

func TestRetryTable(t *testing.T) {
	entry := []pipeline.ManifestEntry{{Name: "lxml", Version: "5.2.1", Status: pipeline.StatusBuilt}}
	tests := []struct {
		name      string
		token     string // client token; the fake wants "tok"
		inject    func(*cpfake.Server)
		body      string // raw manifest body; "" sends entry
		attempts  int    // Request.MaxAttempts (sent with Send)
		wantErr   bool
		wantCode  int // HTTPError status expected, 0 for none
		retryable bool
		requests  int
		stored    int
	}{
		{name: "ok", requests: 1, stored: 1},
		{name: "500 then ok", inject: func(f *cpfake.Server) { f.FailNext(cpfake.Fail500, 2) }, requests: 3, stored: 1},
		{name: "reset then ok", inject: func(f *cpfake.Server) { f.FailNext(cpfake.FailReset, 1) }, requests: 2, stored: 1},
		{name: "hang then ok", inject: func(f *cpfake.Server) { f.FailNext(cpfake.FailHang, 1) }, requests: 2, stored: 1},
		{name: "500 always", inject: func(f *cpfake.Server) { f.SetFailure(cpfake.Fail500) }, wantErr: true, wantCode: 500, retryable: true, requests: 4},
		{name: "500 single attempt", inject: func(f *cpfake.Server) { f.SetFailure(cpfake.Fail500) }, attempts: 1,
			wantErr: true, wantCode: 500, retryable: true, requests: 1},
		{name: "500 then ok within two attempts", inject: func(f *cpfake.Server) { f.FailNext(cpfake.Fail500, 1) }, attempts: 2,
			requests: 2, stored: 1},
		{name: "400 not retried", body: "[]", wantErr: true, wantCode: 400, requests: 1},
		{name: "400 non-array", body: `{"name":"x"}`, wantErr: true, wantCode: 400, requests: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake, c := newPair(t, cpfake.Options{}, controlplane.Options{RequestTimeout: 300 * time.Millisecond})
			if tc.inject != nil {
				tc.inject(fake)
			}
			var err error
			if tc.attempts > 0 {
				body, _ := json.Marshal(entry)
				_, err = c.Send(context.Background(), controlplane.Request{Path: "/api/manifest", Body: body, MaxAttempts: tc.attempts})
			} else if tc.body != "" {
				_, err = c.Send(context.Background(), controlplane.Request{Path: "/api/manifest", Body: []byte(tc.body)})
			} else {
				err = c.PostManifest(context.Background(), entry)
			}
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if tc.wantCode != 0 {
				var he *controlplane.HTTPError
				if !errors.As(err, &he) || he.Status != tc.wantCode || he.Body == "" {
					t.Fatalf("err = %#v, want HTTPError %d with body", err, tc.wantCode)
				}
			}
			if err != nil && controlplane.IsRetryable(err) != tc.retryable {
				t.Errorf("IsRetryable = %v, want %v", !tc.retryable, tc.retryable)
			}
			if n := fake.CountRequests("POST", "/api/manifest"); n != tc.requests {
				t.Errorf("requests = %d, want %d", n, tc.requests)
			}
			if n := len(fake.Manifest()); n != tc.stored {
				t.Errorf("stored = %d, want %d", n, tc.stored)
			}
		})
	}
}

func TestTokenOnTokenEndpointsOnly(t *testing.T) {
	tests := []struct {
		token    string
		wantCode int
	}{{"tok", 0}, {"wrong", 401}, {"", 401}}
	for _, tc := range tests {
		fake, c := newPair(t, cpfake.Options{Token: "tok"}, controlplane.Options{Token: tc.token})
		fake.AddBuilds(cpfake.Build{Package: "numpy", Version: "1.26.4"})
		err := c.PostBuildStatus(context.Background(), controlplane.BuildStatus{Package: "numpy", Version: "1.26.4", Status: "built"})
		var he *controlplane.HTTPError
		if tc.wantCode == 0 && err != nil || tc.wantCode != 0 && (!errors.As(err, &he) || he.Status != tc.wantCode) {
			t.Fatalf("token %q: err = %v, want status %d", tc.token, err, tc.wantCode)
		}
		if tc.wantCode != 0 && fake.CountRequests("POST", "/api/builds/status") != 1 {
			t.Errorf("token %q: 401 was retried", tc.token)
		}
		// Non-token endpoints work whatever the token.
		if err := c.PostEvent(context.Background(), controlplane.Event{Name: "a", Version: "1", Status: "built"}); err != nil {
			t.Errorf("token %q: event: %v", tc.token, err)
		}
		for _, r := range fake.Requests() {
			if r.Token != tc.token {
				t.Errorf("request %s carried token %q, want %q", r.Path, r.Token, tc.token)
			}
		}
	}
}

func TestManifestBothSpellingsStored(t *testing.T) {
	fake, c := newPair(t, cpfake.Options{}, controlplane.Options{})
	e := pipeline.ManifestEntry{Name: "lxml", Version: "5.2.1", Status: pipeline.StatusBuilt, PythonTag: "cp311",
		PlatformTag: "manylinux2014_s390x", Wheel: "lxml-5.2.1-cp311-cp311-manylinux2014_s390x.whl",
		Metadata: map[string]any{"wheel_url": "s3://b/w.whl", "pack_urls": []any{"s3://b/p1"}}}
	if err := c.PostManifest(context.Background(), []pipeline.ManifestEntry{e}); err != nil {
		t.Fatal(err)
	}
	got := fake.Manifest()
	want := cpfake.ManifestRecord{Name: "lxml", Version: "5.2.1", Status: "built", PythonTag: "cp311",
		PlatformTag: "manylinux2014_s390x", Wheel: e.Wheel, WheelURL: "s3://b/w.whl", PackURLs: []string{"s3://b/p1"}}
	if len(got) != 1 || got[0].PythonTag != want.PythonTag || got[0].PlatformTag != want.PlatformTag ||
		got[0].Wheel != want.Wheel || got[0].WheelURL != want.WheelURL || len(got[0].PackURLs) != 1 || got[0].Status != "built" {
		t.Fatalf("stored %+v, want %+v", got, want)
	}

	// The quirk itself: snake_case alone is dropped by the fake, as by the reference.
	if _, err := c.Send(context.Background(), controlplane.Request{Path: "/api/manifest",
		Body: []byte(`[{"name":"six","version":"1.16.0","status":"reused","python_tag":"py3"}]`)}); err != nil {
		t.Fatal(err)
	}
	if g := fake.Manifest()[1]; g.Name != "six" || g.PythonTag != "" {
		t.Fatalf("snake_case-only entry stored as %+v; want python_tag dropped", g)
	}
}

func TestFullLogCutKeepsTail(t *testing.T) {
	fake, c := newPair(t, cpfake.Options{}, controlplane.Options{})
	var b strings.Builder
	for i := 0; b.Len() < 1_500_000; i++ {
		b.WriteString("line \"quoted\" <tag> é \x01 ")
		b.WriteString(strings.Repeat("x", i%50))
		b.WriteString("\n")
	}
	b.WriteString("THE LAST LINE\n")
	content := b.String()
	cut, err := c.PostFullLog(context.Background(), controlplane.FullLog{Name: "lxml", Version: "5.2.1", Status: "failed", Content: content})
	if err != nil {
		t.Fatal(err)
	}
	logs := fake.FullLogs()
	if len(logs) != 1 || cut == 0 {
		t.Fatalf("logs = %d, cut = %d", len(logs), cut)
	}
	got := logs[0].Content
	if !strings.HasPrefix(got, "[refinery-worker: log truncated") || !strings.HasSuffix(got, "THE LAST LINE\n") {
		t.Fatalf("stored log does not start with the marker and end with the tail: %q ... %q", got[:80], got[len(got)-40:])
	}
	marker, tail, _ := strings.Cut(got, "\n")
	if !strings.HasSuffix(content, tail) || len(tail)+cut != len(content) {
		t.Fatalf("tail is not the end of the content (marker %q)", marker)
	}
	body, _, err := controlplane.EncodeFullLog(controlplane.FullLog{Name: "lxml", Version: "5.2.1", Content: content}, 0)
	if err != nil || len(body) > controlplane.MaxFullLogBody {
		t.Fatalf("body %d bytes, err %v", len(body), err)
	}
}

func TestFullLogOverLimitIs413AtFake(t *testing.T) {
	_, c := newPair(t, cpfake.Options{}, controlplane.Options{})
	body := `{"name":"a","version":"1","content":"` + strings.Repeat("x", controlplane.MaxFullLogBody) + `"}`
	_, err := c.Send(context.Background(), controlplane.Request{Path: "/api/logs", Body: []byte(body)})
	var he *controlplane.HTTPError
	if !errors.As(err, &he) || he.Status != http.StatusRequestEntityTooLarge {
		t.Fatalf("err = %v, want 413", err)
	}
}

func TestPlanAlwaysSendsDag(t *testing.T) {
	fake, c := newPair(t, cpfake.Options{}, controlplane.Options{MaxAttempts: 1})
	p, err := pipeline.DecodePlan([]byte(`{"run_id":"r1","plan":[{"name":"six","version":"1.16.0","action":"reuse","x":1}],"extra":true}`))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.PostPlan(context.Background(), controlplane.PlanUpload{Plan: *p}); err != nil {
		t.Fatalf("plan without dag: %v", err)
	}
	// The quirk: a body without dag is a 500 at the fake.
	_, err = c.Send(context.Background(), controlplane.Request{Path: "/api/plan", Body: []byte(`{"run_id":"r","plan":[{}]}`)})
	var he *controlplane.HTTPError
	if !errors.As(err, &he) || he.Status != 500 {
		t.Fatalf("raw plan without dag: %v, want 500", err)
	}
	sp, err := c.LatestPlan(context.Background())
	if err != nil || sp.ID != 1 || sp.Plan.RunID != "r1" || len(sp.Plan.Nodes) != 1 || string(sp.Plan.Nodes[0].Extra["x"]) != "1" {
		t.Fatalf("latest = %+v, %v", sp, err)
	}
	if got := fake.Plans(); string(got[0].DAG) != "null" {
		t.Errorf("dag stored as %s", got[0].DAG)
	}
	if _, err := c.GetPlan(context.Background(), 9); !errors.Is(err, controlplane.ErrPlanNotFound) {
		t.Errorf("GetPlan(9) = %v, want ErrPlanNotFound", err)
	}
}

func TestHeartbeat404IsNotSupported(t *testing.T) {
	_, c := newPair(t, cpfake.Options{Version: cpfake.VersionOld}, controlplane.Options{})
	if err := c.Heartbeat(context.Background(), controlplane.Heartbeat{WorkerID: "w"}); !errors.Is(err, controlplane.ErrNotSupported) {
		t.Fatalf("err = %v, want ErrNotSupported", err)
	}
	fake, c := newPair(t, cpfake.Options{Version: cpfake.VersionNew}, controlplane.Options{})
	if err := c.Heartbeat(context.Background(), controlplane.Heartbeat{WorkerID: "w"}); err != nil || len(fake.Heartbeats()) != 1 {
		t.Fatalf("enabled heartbeat: %v", err)
	}
}

func TestBuildQueueAndInputs(t *testing.T) {
	fake, c := newPair(t, cpfake.Options{Token: "tok"}, controlplane.Options{Token: "tok"})
	ctx := context.Background()
	if got, err := c.PopBuilds(ctx, 5); err != nil || got != nil {
		t.Fatalf("empty pop = %v, %v; want nil (null)", got, err)
	}
	for range 120 {
		fake.AddBuilds(cpfake.Build{Package: "numpy", Version: "1.26.4", Attempts: 1})
	}
	got, err := c.PopBuilds(ctx, 500)
	if err != nil || len(got) != cpfake.MaxPop || got[0].Attempts != 2 {
		t.Fatalf("pop = %d builds (first %+v), %v", len(got), got[0], err)
	}
	if ids, err := c.PopPendingInputs(ctx, 10); err != nil || ids != nil {
		t.Fatalf("empty input pop = %v, %v", ids, err)
	}
	id := fake.AddPendingInput(cpfake.PendingInput{Filename: "requirements.txt", Metadata: map[string]any{"type": "requirements"}})
	ids, err := c.PopPendingInputs(ctx, 10)
	if err != nil || len(ids) != 1 || ids[0] != id {
		t.Fatalf("input pop = %v, %v", ids, err)
	}
	list, err := c.ListPendingInputs(ctx)
	if err != nil || len(list) != 1 || list[0].Filename != "requirements.txt" {
		t.Fatalf("list = %+v, %v", list, err)
	}
	if err := c.SetPendingInputStatus(ctx, id, "failed", "resolver"); err != nil || fake.PendingInputs()[0].Status != "failed" {
		t.Fatalf("status: %v", err)
	}
	s, err := c.Settings(ctx)
	if err != nil || s["python_version"] != "3.11" {
		t.Fatalf("settings = %v, %v", s, err)
	}
}

func TestPlanSource(t *testing.T) {
	fake, c := newPair(t, cpfake.Options{}, controlplane.Options{MaxAttempts: 1})
	ps := controlplane.NewPlanSource(c, time.Nanosecond)
	ctx := context.Background()
	if _, _, err := ps.Current(ctx); !errors.Is(err, handlers.ErrNoPlan) {
		t.Fatalf("no plan: %v", err)
	}
	p, _ := pipeline.DecodePlan([]byte(`{"run_id":"r1","plan":[{"name":"six","version":"1.16.0","action":"reuse"}]}`))
	if err := c.PostPlan(ctx, controlplane.PlanUpload{Plan: *p}); err != nil {
		t.Fatal(err)
	}
	a, src, err := ps.Current(ctx)
	if err != nil || a.RunID != "r1" || src != "control-plane plan 1" {
		t.Fatalf("current = %v %q %v", a, src, err)
	}
	b, _, _ := ps.Current(ctx)
	if a != b {
		t.Error("same plan served as a new pointer")
	}
	fake.SetFailure(cpfake.Fail500)
	if c2, _, err := ps.Current(ctx); err != nil || c2 != a {
		t.Errorf("outage: %v", err)
	}
	fake.SetFailure(cpfake.FailNone)
	if byID, err := ps.ByID(ctx, 1); err != nil || byID.RunID != "r1" {
		t.Errorf("ByID = %v, %v", byID, err)
	}
}
