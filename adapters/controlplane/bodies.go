package controlplane

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/refinery/refinery-worker/pipeline"
)

// MaxFullLogBody is the largest body the control-plane accepts on POST
// /api/logs (it answers 413 above it).
const MaxFullLogBody = 1_000_000

// manifestWire is one manifest entry with each key in both spellings: the
// documented snake_case and the Go field names the reference binds.
type manifestWire struct {
	Name          string         `json:"name"`
	NameP         string         `json:"Name"`
	Version       string         `json:"version"`
	VersionP      string         `json:"Version"`
	Status        string         `json:"status"`
	StatusP       string         `json:"Status"`
	PythonTag     string         `json:"python_tag,omitempty"`
	PythonTagP    string         `json:"PythonTag,omitempty"`
	PlatformTag   string         `json:"platform_tag,omitempty"`
	PlatformTagP  string         `json:"PlatformTag,omitempty"`
	Wheel         string         `json:"wheel,omitempty"`
	WheelP        string         `json:"Wheel,omitempty"`
	WheelURL      string         `json:"wheel_url,omitempty"`
	WheelURLP     string         `json:"WheelURL,omitempty"`
	RepairURL     string         `json:"repair_url,omitempty"`
	RepairURLP    string         `json:"RepairURL,omitempty"`
	RepairDigest  string         `json:"repair_digest,omitempty"`
	RepairDigestP string         `json:"RepairDigest,omitempty"`
	RuntimeURL    string         `json:"runtime_url,omitempty"`
	RuntimeURLP   string         `json:"RuntimeURL,omitempty"`
	PackURLs      []string       `json:"pack_urls,omitempty"`
	PackURLsP     []string       `json:"PackURLs,omitempty"`
	CreatedAt     string         `json:"created_at,omitempty"`
	CreatedAtP    string         `json:"CreatedAt,omitempty"`
	Metadata      map[string]any `json:"metadata,omitempty"`
}

// Metadata keys lifted into the manifest fields of the same name when they
// hold a string (a list of strings for pack_urls).
const (
	MetaWheelURL     = "wheel_url"
	MetaRepairURL    = "repair_url"
	MetaRepairDigest = "repair_digest"
	MetaRuntimeURL   = "runtime_url"
	MetaPackURLs     = "pack_urls"
)

// EncodeManifest encodes entries as the body of POST /api/manifest: a JSON
// array whose entries carry every key twice (snake_case and PascalCase), so
// the reference control-plane stores every field. wheel_url, repair_url,
// repair_digest, runtime_url and pack_urls are taken from the entry's
// metadata when present; created_at is the outcome time (metadata
// recorded_at), so an entry delivered late is not stamped with its delivery
// time.
func EncodeManifest(entries []pipeline.ManifestEntry) ([]byte, error) {
	if len(entries) == 0 {
		return nil, fmt.Errorf("encode manifest: no entries")
	}
	out := make([]manifestWire, 0, len(entries))
	for _, e := range entries {
		str := func(k string) string { s, _ := e.Metadata[k].(string); return s }
		w := manifestWire{
			Name: e.Name, Version: e.Version, Status: string(e.Status), PythonTag: e.PythonTag,
			PlatformTag: e.PlatformTag, Wheel: e.Wheel, WheelURL: str(MetaWheelURL),
			RepairURL: str(MetaRepairURL), RepairDigest: str(MetaRepairDigest),
			RuntimeURL: str(MetaRuntimeURL), PackURLs: StringList(e.Metadata[MetaPackURLs]),
			Metadata: e.Metadata,
		}
		w.NameP, w.VersionP, w.StatusP, w.PythonTagP, w.PlatformTagP = w.Name, w.Version, w.Status, w.PythonTag, w.PlatformTag
		w.WheelP, w.WheelURLP, w.RepairURLP, w.RepairDigestP = w.Wheel, w.WheelURL, w.RepairURL, w.RepairDigest
		w.RuntimeURLP, w.PackURLsP = w.RuntimeURL, w.PackURLs
		if t, ok := RecordedAt(e); ok {
			w.CreatedAt = t.UTC().Format(time.RFC3339Nano)
			w.CreatedAtP = w.CreatedAt
		}
		out = append(out, w)
	}
	return marshal(out)
}

// RecordedAt is the time an outcome was recorded (metadata recorded_at, RFC
// 3339), if the entry carries one.
func RecordedAt(e pipeline.ManifestEntry) (time.Time, bool) {
	s, _ := e.Metadata[pipeline.MetaRecordedAt].(string)
	if s == "" {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	return t, err == nil
}

// StringList reads a metadata value that holds a list of strings (decoded
// JSON gives []any), keeping only the strings.
func StringList(v any) []string {
	switch l := v.(type) {
	case []string:
		return l
	case []any:
		var out []string
		for _, x := range l {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// FullLog is the body of POST /api/logs.
type FullLog struct {
	Name       string `json:"name"`
	Version    string `json:"version"`
	Status     string `json:"status"`
	DurationMS int64  `json:"duration_ms"`
	Content    string `json:"content"`
}

// EncodeFullLog encodes l so that the body is at most limit bytes (limit <= 0
// means MaxFullLogBody). When the content does not fit, its head is cut: the
// tail is kept, starting at a line boundary when one is near, behind a marker
// line saying how many bytes were cut. cut is the number of content bytes
// removed.
func EncodeFullLog(l FullLog, limit int) (body []byte, cut int, err error) {
	if limit <= 0 {
		limit = MaxFullLogBody
	}
	body, err = marshal(l)
	if err != nil || len(body) <= limit {
		return body, 0, err
	}
	content := l.Content
	keep := len(content) - (len(body) - limit)
	for range 64 {
		tail := logTail(content, max(keep, 0))
		cut = len(content) - len(tail)
		l.Content = fmt.Sprintf("[refinery-worker: log truncated: first %d of %d bytes cut]\n", cut, len(content)) + tail
		body, err = marshal(l)
		if err != nil {
			return nil, 0, err
		}
		if len(body) <= limit {
			return body, cut, nil
		}
		keep = len(tail) - (len(body) - limit) - 16
	}
	return nil, 0, fmt.Errorf("encode full log: cannot fit %d bytes into %d", len(content), limit)
}

// logTail returns about the last n bytes of s, starting on a rune boundary and,
// when there is a newline in the first 4 KiB of it, after that newline.
func logTail(s string, n int) string {
	if n >= len(s) {
		return s
	}
	t := s[len(s)-n:]
	for len(t) > 0 && !utf8.RuneStart(t[0]) {
		t = t[1:]
	}
	if i := strings.IndexByte(t[:min(len(t), 4096)], '\n'); i >= 0 {
		t = t[i+1:]
	}
	return t
}

// Event is the body of POST /api/history.
type Event struct {
	Name           string         `json:"name"`
	Version        string         `json:"version"`
	PythonTag      string         `json:"python_tag,omitempty"`
	PlatformTag    string         `json:"platform_tag,omitempty"`
	Status         string         `json:"status"`
	Detail         string         `json:"detail,omitempty"`
	Timestamp      int64          `json:"timestamp"`
	Metadata       map[string]any `json:"metadata,omitempty"`
	MatchedHintIDs []string       `json:"matched_hint_ids,omitempty"`
	RunID          string         `json:"run_id,omitempty"`
	// DurationMS has its own column on the newer control-plane (the older
	// ignores it; metadata keeps duration_ms for it). Nil when unknown.
	DurationMS *int64 `json:"duration_ms,omitempty"`
}

// PlanUpload is the body of POST /api/plan.
type PlanUpload struct {
	Plan pipeline.Plan
	// PendingInputID marks that pending input planned; nil omits the key.
	PendingInputID *int64
}

// EncodePlan encodes p with its unknown fields, and always with a dag key
// (null when the plan has none): the reference answers 500 without it.
func EncodePlan(p PlanUpload) ([]byte, error) {
	b, err := json.Marshal(p.Plan)
	if err != nil {
		return nil, fmt.Errorf("encode plan: %w", err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("encode plan: %w", err)
	}
	if _, ok := m["dag"]; !ok {
		m["dag"] = json.RawMessage("null")
	}
	if m["plan"] == nil || string(m["plan"]) == "null" {
		m["plan"] = json.RawMessage("[]")
	}
	if p.PendingInputID != nil {
		m["pending_input_id"], _ = json.Marshal(*p.PendingInputID)
	}
	return marshal(m)
}

// BuildStatus is the body of POST /api/builds/status. FailureSummary (one
// line, for failed and retry) is stored by the newer control-plane and
// ignored by the older one.
type BuildStatus struct {
	Package        string   `json:"package"`
	Version        string   `json:"version"`
	Status         string   `json:"status"`
	Attempts       int      `json:"attempts"`
	Error          string   `json:"error,omitempty"`
	BackoffUntil   int64    `json:"backoff_until,omitempty"`
	Recipes        []string `json:"recipes,omitempty"`
	HintIDs        []string `json:"hint_ids,omitempty"`
	FailureSummary string   `json:"failure_summary,omitempty"`
}

// Heartbeat is the body of POST /api/worker/heartbeat. Fields the worker
// does not know are omitted, never sent as zero: RunID before any run,
// PlanPoolSize when this worker plans nothing.
type Heartbeat struct {
	WorkerID             string `json:"worker_id"`
	RunID                string `json:"run_id,omitempty"`
	ActiveBuilds         int    `json:"active_builds"`
	BuildPoolSize        int    `json:"build_pool_size"`
	PlanPoolSize         int    `json:"plan_pool_size,omitempty"`
	HeartbeatIntervalSec int    `json:"heartbeat_interval_sec"`
}

// marshal encodes v without HTML escaping and without a trailing newline.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// EncodeJSON encodes a request body the way the client does (no HTML
// escaping), for callers that store bodies (the outbox).
func EncodeJSON(v any) ([]byte, error) { return marshal(v) }
