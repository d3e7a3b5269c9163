package controlplane

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/refinery/refinery-worker/pipeline"
)

// ErrNotSupported is returned by Heartbeat and Smoke when the control-plane
// has no such endpoint (404, as on the older version).
var ErrNotSupported = errors.New("control-plane does not support this call")

// CallOption changes one call.
type CallOption func(*Request)

// WithIdempotencyKey sends key as the Idempotency-Key header.
func WithIdempotencyKey(key string) CallOption {
	return func(r *Request) { r.IdempotencyKey = key }
}

func (c *Client) post(ctx context.Context, path string, body []byte, opts []CallOption) ([]byte, error) {
	req := Request{Method: http.MethodPost, Path: path, Body: body}
	for _, o := range opts {
		o(&req)
	}
	return c.Send(ctx, req)
}

// PostManifest sends entries to POST /api/manifest (see EncodeManifest).
func (c *Client) PostManifest(ctx context.Context, entries []pipeline.ManifestEntry, opts ...CallOption) error {
	b, err := EncodeManifest(entries)
	if err != nil {
		return err
	}
	_, err = c.post(ctx, "/api/manifest", b, opts)
	return err
}

// PostFullLog sends a full log to POST /api/logs, cut to fit (see
// EncodeFullLog); it returns how many content bytes were cut.
func (c *Client) PostFullLog(ctx context.Context, l FullLog, opts ...CallOption) (cut int, err error) {
	b, cut, err := EncodeFullLog(l, MaxFullLogBody)
	if err != nil {
		return 0, err
	}
	_, err = c.post(ctx, "/api/logs", b, opts)
	return cut, err
}

// PostEvent sends an event to POST /api/history.
func (c *Client) PostEvent(ctx context.Context, ev Event, opts ...CallOption) error {
	b, err := marshal(ev)
	if err != nil {
		return err
	}
	_, err = c.post(ctx, "/api/history", b, opts)
	return err
}

// PostPlan sends a plan to POST /api/plan, always with a dag key.
func (c *Client) PostPlan(ctx context.Context, p PlanUpload, opts ...CallOption) error {
	b, err := EncodePlan(p)
	if err != nil {
		return err
	}
	_, err = c.post(ctx, "/api/plan", b, opts)
	return err
}

// PostBuildStatus sends POST /api/builds/status. Only for builds leased with
// PopBuilds: the reference corrupts its table on unknown package/version.
func (c *Client) PostBuildStatus(ctx context.Context, st BuildStatus, opts ...CallOption) error {
	b, err := marshal(st)
	if err != nil {
		return err
	}
	_, err = c.post(ctx, "/api/builds/status", b, opts)
	return err
}

// Heartbeat sends POST /api/worker/heartbeat. A 404 is ErrNotSupported
// (wrapped): the caller should stop sending heartbeats.
func (c *Client) Heartbeat(ctx context.Context, hb Heartbeat) error {
	b, err := marshal(hb)
	if err != nil {
		return err
	}
	_, err = c.post(ctx, "/api/worker/heartbeat", b, nil)
	var he *HTTPError
	if errors.As(err, &he) && he.Status == http.StatusNotFound {
		return fmt.Errorf("heartbeat: %w", ErrNotSupported)
	}
	return err
}

// LeasedBuild is one build leased from the control-plane's build queue.
type LeasedBuild struct {
	Package     string   `json:"package"`
	Version     string   `json:"version"`
	PythonTag   string   `json:"python_tag"`
	PlatformTag string   `json:"platform_tag"`
	Attempts    int      `json:"attempts"`
	RunID       string   `json:"run_id"`
	PlanID      int64    `json:"plan_id"`
	Recipes     []string `json:"recipes"`
	HintIDs     []string `json:"hint_ids"`
}

// PopBuilds leases up to max builds (clamped to 1..100, the control-plane's
// cap), with attempts incremented. The newer control-plane marks the rows
// leased (pending again after its lease timeout unless reported building),
// the older marks them building (never offered again); each must get a
// final PostBuildStatus. A retry after a lost answer would strand the leases
// of the first pop (until the lease timeout, on the newer version), so a pop
// is attempted once.
func (c *Client) PopBuilds(ctx context.Context, max int) ([]LeasedBuild, error) {
	path := "/api/build-queue/pop?max=" + strconv.Itoa(clampPop(max))
	b, err := c.sendOnce(ctx, path)
	if err != nil {
		return nil, err
	}
	var out struct {
		Builds []LeasedBuild `json:"builds"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("decode build-queue pop: %w", err)
	}
	return out.Builds, nil
}

// clampPop keeps a pop's max within what the control-plane accepts (1..100).
func clampPop(n int) int { return min(max(n, 1), 100) }

// sendOnce posts without retry (for calls whose effect must not be repeated
// blindly, such as pops).
func (c *Client) sendOnce(ctx context.Context, path string) ([]byte, error) {
	return c.Send(ctx, Request{Method: http.MethodPost, Path: path, MaxAttempts: 1})
}

// PopPendingInputs takes up to max pending inputs for planning and returns
// their ids. Attempted once, like PopBuilds.
func (c *Client) PopPendingInputs(ctx context.Context, max int) ([]string, error) {
	b, err := c.sendOnce(ctx, "/api/pending-inputs/pop?max="+strconv.Itoa(clampPop(max)))
	if err != nil {
		return nil, err
	}
	var out struct {
		IDs []string `json:"ids"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("decode pending-inputs pop: %w", err)
	}
	return out.IDs, nil
}

// PendingInput is one uploaded input (docs/control-plane.md).
type PendingInput struct {
	ID           string          `json:"id"`
	Filename     string          `json:"filename"`
	Digest       string          `json:"digest"`
	SizeBytes    int64           `json:"size_bytes"`
	Status       string          `json:"status"`
	SourceType   string          `json:"source_type"`
	ObjectBucket string          `json:"object_bucket"`
	ObjectKey    string          `json:"object_key"`
	ContentType  string          `json:"content_type"`
	Metadata     json.RawMessage `json:"metadata"`
	PlanID       *int64          `json:"plan_id,omitempty"`
}

// ListPendingInputs returns every pending input (GET /api/pending-inputs).
func (c *Client) ListPendingInputs(ctx context.Context) ([]PendingInput, error) {
	b, err := c.Send(ctx, Request{Method: http.MethodGet, Path: "/api/pending-inputs"})
	if err != nil {
		return nil, err
	}
	var out []PendingInput
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("decode pending inputs: %w", err)
	}
	return out, nil
}

// SetPendingInputStatus reports the status of a pending input (for example
// "failed" with the error).
func (c *Client) SetPendingInputStatus(ctx context.Context, id, status, errMsg string, opts ...CallOption) error {
	body := struct {
		Status string `json:"status"`
		Error  string `json:"error,omitempty"`
	}{status, errMsg}
	b, err := marshal(body)
	if err != nil {
		return err
	}
	_, err = c.post(ctx, "/api/pending-inputs/status/"+url.PathEscape(id), b, opts)
	return err
}

// StoredPlan is a plan as the control-plane keeps it.
type StoredPlan struct {
	ID   int64
	Plan pipeline.Plan
}

// ErrPlanNotFound is returned (wrapped) by GetPlan and LatestPlan on 404.
var ErrPlanNotFound = errors.New("plan not found")

// GetPlan returns plan id (GET /api/plan/{id}).
func (c *Client) GetPlan(ctx context.Context, id int64) (*StoredPlan, error) {
	return c.getPlan(ctx, strconv.FormatInt(id, 10))
}

// LatestPlan returns the newest plan (GET /api/plan/latest).
func (c *Client) LatestPlan(ctx context.Context) (*StoredPlan, error) {
	return c.getPlan(ctx, "latest")
}

func (c *Client) getPlan(ctx context.Context, id string) (*StoredPlan, error) {
	b, err := c.Send(ctx, Request{Method: http.MethodGet, Path: "/api/plan/" + id})
	var he *HTTPError
	if errors.As(err, &he) && he.Status == http.StatusNotFound {
		return nil, fmt.Errorf("plan %s: %w", id, ErrPlanNotFound)
	}
	if err != nil {
		return nil, err
	}
	var sp StoredPlan
	if err := json.Unmarshal(b, &sp.Plan); err != nil {
		return nil, fmt.Errorf("decode plan %s: %w", id, err)
	}
	if raw, ok := sp.Plan.Extra["id"]; ok {
		_ = json.Unmarshal(raw, &sp.ID)
		delete(sp.Plan.Extra, "id")
	}
	return &sp, nil
}

// Settings returns GET /api/settings, every field kept.
func (c *Client) Settings(ctx context.Context) (map[string]any, error) {
	b, err := c.Send(ctx, Request{Method: http.MethodGet, Path: "/api/settings"})
	if err != nil {
		return nil, err
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("decode settings: %w", err)
	}
	return out, nil
}

// StreamPath is the path (with query) of the live log stream of one job
// attempt: /api/logs/stream/{name}/{version}?run_id=R&attempt=N.
func StreamPath(name, version, runID string, attempt int) string {
	q := url.Values{}
	q.Set("run_id", runID)
	q.Set("attempt", strconv.Itoa(attempt))
	return "/api/logs/stream/" + url.PathEscape(name) + "/" + url.PathEscape(version) + "?" + q.Encode()
}

// OpenLogStream starts POST /api/logs/stream/{name}/{version}?run_id=&attempt=
// with body streamed as NDJSON. It is one attempt without a timeout other
// than ctx: the answer comes when body ends. The caller closes the response
// body.
func (c *Client) OpenLogStream(ctx context.Context, name, version, runID string, attempt int, body io.Reader) (*http.Response, error) {
	path := StreamPath(name, version, runID, attempt)
	hr, err := c.newRequest(ctx, http.MethodPost, path, body)
	if err != nil {
		return nil, err
	}
	hr.Header.Set("Content-Type", "application/x-ndjson")
	hr.ContentLength = -1
	resp, err := c.hc.Do(hr)
	if err != nil {
		return nil, &TransportError{Method: http.MethodPost, Path: path, Err: err}
	}
	return resp, nil
}
