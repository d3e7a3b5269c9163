package planner_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/refinery/refinery-worker/adapters/controlplane"
	"github.com/refinery/refinery-worker/adapters/controlplane/cpfake"
	"github.com/refinery/refinery-worker/adapters/objstore"
	"github.com/refinery/refinery-worker/internal/testkit/pyindextest"
	"github.com/refinery/refinery-worker/pipeline"
	"github.com/refinery/refinery-worker/planner"
)

// hidingControlPlane is the real client whose list leaves out some ids, as
// when an input is deleted between pop and list.
type hidingControlPlane struct {
	*controlplane.Client
	hide string
}

func (h hidingControlPlane) ListPendingInputs(ctx context.Context) ([]controlplane.PendingInput, error) {
	all, err := h.Client.ListPendingInputs(ctx)
	return slices.DeleteFunc(all, func(in controlplane.PendingInput) bool { return in.ID == h.hide }), err
}

type pollerEnv struct {
	fake   *cpfake.Server
	client *controlplane.Client
	store  *objstore.Store
	plan   *planner.Planner
}

func newPollerEnv(t *testing.T) *pollerEnv {
	t.Helper()
	idx, err := pyindextest.Start(graph, pyindextest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(idx.Close)
	fake := cpfake.New(cpfake.Options{Token: "tok"})
	cpSrv := httptest.NewServer(fake)
	t.Cleanup(cpSrv.Close)
	client, err := controlplane.New(controlplane.Options{BaseURL: cpSrv.URL, Token: "tok", MaxAttempts: 1, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	s3 := httptest.NewServer(gofakes3.New(s3mem.New()).Server())
	t.Cleanup(s3.Close)
	store, err := objstore.New(objstore.Config{Endpoint: s3.URL, Bucket: "inputs", AccessKey: "k", SecretKey: "s"})
	if err != nil {
		t.Fatal(err)
	}
	if err := store.EnsureBucket(context.Background(), ""); err != nil {
		t.Fatal(err)
	}
	return &pollerEnv{fake: fake, client: client, store: store, plan: newPlanner(t, idx, planner.Config{OutputDir: t.TempDir()})}
}

func requirementsMeta(typ string, reqs ...[2]string) map[string]any {
	var list []any
	for _, r := range reqs {
		list = append(list, map[string]any{"name": r[0], "version": r[1]})
	}
	return map[string]any{"type": typ, "requirements": list}
}

func TestPollerPlansPendingInputs(t *testing.T) {
	ctx := context.Background()
	env := newPollerEnv(t)
	if err := env.store.Put(ctx, "", "uploads/7/requirements.txt", []byte("webapp\nurlparse<1.9 # pinned below\n"), "text/plain"); err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{
		"meta":     env.fake.AddPendingInput(cpfake.PendingInput{Filename: "requirements.txt", SourceType: "upload", Metadata: requirementsMeta("requirements", [2]string{"urlparse", ">=1.0,<1.9"}, [2]string{"HTTPKit", "1.5"})}),
		"object":   env.fake.AddPendingInput(cpfake.PendingInput{Filename: "requirements.txt", ObjectBucket: "inputs", ObjectKey: "uploads/7/requirements.txt", Metadata: map[string]any{"type": "requirements"}}),
		"wheel":    env.fake.AddPendingInput(cpfake.PendingInput{Filename: "urlparse-1.0-py3-none-any.whl", Metadata: requirementsMeta("wheel", [2]string{"urlparse", "1.0"})}),
		"conflict": env.fake.AddPendingInput(cpfake.PendingInput{Filename: "r.txt", Metadata: requirementsMeta("requirements", [2]string{"httpkit", ">=2"}, [2]string{"dbkit", ""})}),
		"missing":  env.fake.AddPendingInput(cpfake.PendingInput{Filename: "gone.txt", ObjectBucket: "inputs", ObjectKey: "nope", Metadata: map[string]any{"type": "requirements"}}),
		"hidden":   env.fake.AddPendingInput(cpfake.PendingInput{Filename: "h.txt", Metadata: requirementsMeta("requirements", [2]string{"urlparse", ""})}),
	}
	p := planner.NewPoller(hidingControlPlane{env.client, ids["hidden"]}, env.store, env.plan, planner.PollerConfig{Batch: 3, Logger: quiet})

	total := 0
	for range 3 {
		n, err := p.Poll(ctx)
		if err != nil {
			t.Fatal(err)
		}
		total += n
	}
	if total != 3 {
		t.Errorf("planned %d inputs, want 3", total)
	}

	status := map[string]cpfake.PendingInput{}
	for _, in := range env.fake.PendingInputs() {
		status[in.ID] = in
	}
	for key, want := range map[string]string{"meta": "planned", "object": "planned", "wheel": "planned", "conflict": "failed", "missing": "failed", "hidden": "pending"} {
		if got := status[ids[key]].Status; got != want {
			t.Errorf("%s input status = %q, want %q (error %q)", key, got, want, status[ids[key]].Error)
		}
	}
	if e := status[ids["conflict"]].Error; !strings.Contains(e, "urlparse") || !strings.Contains(e, ">=2") {
		t.Errorf("conflict error = %q", e)
	}
	if e := status[ids["missing"]].Error; !strings.Contains(e, "gone.txt") {
		t.Errorf("missing object error = %q", e)
	}

	plans := map[int64][]string{}
	for _, rec := range env.fake.Plans() {
		if rec.PendingInputID == nil {
			t.Fatalf("plan %d posted without pending_input_id", rec.ID)
		}
		for _, raw := range rec.Plan {
			var n pipeline.PlanNode
			if err := json.Unmarshal(raw, &n); err != nil {
				t.Fatal(err)
			}
			plans[*rec.PendingInputID] = append(plans[*rec.PendingInputID], n.Name+"=="+n.Version)
		}
	}
	want := map[string][]string{
		"meta":   {"urlparse==1.8", "httpkit==1.5"},
		"object": {"webapp==1.0", "urlparse==1.8", "httpkit==1.5", "dbkit==1.0", "s390helper==1.0", "serializer==1.0", "fastjson==1.1"},
		"wheel":  {"urlparse==1.0"},
	}
	for key, nodes := range want {
		id := mustID(t, ids[key])
		if !slices.Equal(plans[id], nodes) {
			t.Errorf("%s plan = %v, want %v", key, plans[id], nodes)
		}
	}
}

func mustID(t *testing.T, s string) int64 {
	t.Helper()
	var id int64
	if err := json.Unmarshal([]byte(s), &id); err != nil {
		t.Fatal(err)
	}
	return id
}

func TestPollerWithoutObjectStore(t *testing.T) {
	env := newPollerEnv(t)
	id := env.fake.AddPendingInput(cpfake.PendingInput{Filename: "requirements.txt", ObjectKey: "k", Metadata: map[string]any{"type": "requirements"}})
	p := planner.NewPoller(env.client, nil, env.plan, planner.PollerConfig{Logger: quiet})
	if _, err := p.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	in := env.fake.PendingInputs()[0]
	if in.ID != id || in.Status != "failed" || !strings.Contains(in.Error, "OBJECT_STORE") {
		t.Errorf("input = %+v", in)
	}
	if n, err := p.Poll(context.Background()); n != 0 || err != nil {
		t.Errorf("empty round = %d, %v", n, err)
	}
}

// flakyStatus makes the fake control-plane fail the first status report.
type flakyStatus struct {
	*controlplane.Client
	fake  *cpfake.Server
	armed *bool
}

func (f flakyStatus) SetPendingInputStatus(ctx context.Context, id, status, errMsg string, opts ...controlplane.CallOption) error {
	if *f.armed {
		*f.armed = false
		f.fake.FailNext(cpfake.Fail500, 1)
	}
	return f.Client.SetPendingInputStatus(ctx, id, status, errMsg, opts...)
}

func TestPollerResendsUnreportedStatus(t *testing.T) {
	ctx := context.Background()
	env := newPollerEnv(t)
	id := env.fake.AddPendingInput(cpfake.PendingInput{Filename: "r.txt", Metadata: requirementsMeta("requirements", [2]string{"nope", ""})})
	armed := true
	p := planner.NewPoller(flakyStatus{env.client, env.fake, &armed}, env.store, env.plan, planner.PollerConfig{Logger: quiet})
	if _, err := p.Poll(ctx); err == nil || !strings.Contains(err.Error(), "kept for the next round") {
		t.Fatalf("first round: err = %v", err)
	}
	if in := env.fake.PendingInputs()[0]; in.Status != "planning" {
		t.Fatalf("after a lost report the input is %q", in.Status)
	}
	if _, err := p.Poll(ctx); err != nil {
		t.Fatalf("second round: %v", err)
	}
	if in := env.fake.PendingInputs()[0]; in.ID != id || in.Status != "failed" || !strings.Contains(in.Error, "nope") {
		t.Errorf("input = %+v", in)
	}
}
