package cpfake

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// ManifestRecord is a manifest entry as the reference control-plane stores it:
// bound by Go field name, case-insensitively, so snake_case keys are lost.
// CreatedAt is stamped with the time of receipt when the entry has none (a
// database default), as the reference does.
type ManifestRecord struct {
	Name         string
	Version      string
	Wheel        string
	WheelURL     string
	RepairURL    string
	RepairDigest string
	RuntimeURL   string
	PackURLs     []string
	PythonTag    string
	PlatformTag  string
	Status       string
	CreatedAt    time.Time
}

// FullLogRecord is a full log as stored: only name, version and content.
type FullLogRecord struct {
	Name, Version, Content string
}

// EventRecord is one POST /api/history as decoded by the reference.
type EventRecord struct {
	Name           string         `json:"name"`
	Version        string         `json:"version"`
	PythonTag      string         `json:"python_tag"`
	PlatformTag    string         `json:"platform_tag"`
	Status         string         `json:"status"`
	Detail         string         `json:"detail"`
	Timestamp      int64          `json:"timestamp"`
	Metadata       map[string]any `json:"metadata"`
	MatchedHintIDs []string       `json:"matched_hint_ids"`
	RunID          string         `json:"run_id"`
	// DurationMS is the newer version's duration_ms column (nil: NULL, and
	// always nil on the older version, which ignores the field).
	DurationMS *int64 `json:"duration_ms"`
}

// PlanRecord is one saved plan.
type PlanRecord struct {
	ID             int64             `json:"id"`
	RunID          string            `json:"run_id"`
	Plan           []json.RawMessage `json:"plan"`
	DAG            json.RawMessage   `json:"dag"`
	PendingInputID *int64            `json:"-"`
}

func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, bool) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeJSON(w, http.StatusRequestEntityTooLarge, map[string]any{"error": "request body too large"})
			return nil, false
		}
		badRequest(w, "read body: "+err.Error())
		return nil, false
	}
	return b, true
}

func (s *Server) handleManifest(w http.ResponseWriter, r *http.Request) {
	b, ok := readBody(w, r, maxBody)
	if !ok {
		return
	}
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		badRequest(w, "manifest must be a JSON array")
		return
	}
	if len(raw) == 0 {
		badRequest(w, "manifest is empty")
		return
	}
	recs := make([]ManifestRecord, 0, len(raw))
	for i, e := range raw {
		var m ManifestRecord
		if err := bindByFieldName(e, &m); err != nil {
			badRequest(w, fmt.Sprintf("entry %d: %v", i, err))
			return
		}
		if m.CreatedAt.IsZero() {
			m.CreatedAt = time.Now().UTC()
		}
		recs = append(recs, m)
	}
	s.mu.Lock()
	s.manifest = append(s.manifest, recs...)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"detail": "manifest saved"})
}

// bindByFieldName decodes a JSON object into the exported fields of *dst
// matching keys to field names case-insensitively (as encoding/json does for a
// struct without tags); a later duplicate key wins, unknown keys are dropped.
func bindByFieldName(obj []byte, dst any) error {
	dec := json.NewDecoder(bytes.NewReader(obj))
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return errors.New("entry is not an object")
	}
	v := reflect.ValueOf(dst).Elem()
	t := v.Type()
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return err
		}
		key, _ := kt.(string)
		var val json.RawMessage
		if err := dec.Decode(&val); err != nil {
			return err
		}
		for i := range t.NumField() {
			if strings.EqualFold(t.Field(i).Name, key) {
				f := v.Field(i)
				f.Set(reflect.Zero(f.Type()))
				if err := json.Unmarshal(val, f.Addr().Interface()); err != nil {
					return fmt.Errorf("field %s: %w", key, err)
				}
				break
			}
		}
	}
	return nil
}

func (s *Server) handleFullLog(w http.ResponseWriter, r *http.Request) {
	b, ok := readBody(w, r, MaxFullLogBody)
	if !ok {
		return
	}
	var in struct {
		Name, Version, Status, Content string
		DurationMS                     int64 `json:"duration_ms"`
	}
	if err := json.Unmarshal(b, &in); err != nil {
		badRequest(w, "invalid JSON")
		return
	}
	if in.Name == "" || in.Version == "" {
		badRequest(w, "name and version are required")
		return
	}
	s.mu.Lock()
	s.logs = append(s.logs, FullLogRecord{Name: in.Name, Version: in.Version, Content: in.Content})
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"detail": "log saved"})
}

func (s *Server) handleEvent(w http.ResponseWriter, r *http.Request) {
	b, ok := readBody(w, r, maxBody)
	if !ok {
		return
	}
	var ev EventRecord
	if err := json.Unmarshal(b, &ev); err != nil {
		badRequest(w, "invalid JSON")
		return
	}
	if ev.Name == "" || ev.Version == "" || ev.Status == "" {
		badRequest(w, "name, version and status are required")
		return
	}
	s.mu.Lock()
	if !s.isNewLocked() {
		ev.DurationMS = nil
	}
	s.events = append(s.events, ev)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"detail": "event recorded"})
}

func (s *Server) handlePostPlan(w http.ResponseWriter, r *http.Request) {
	b, ok := readBody(w, r, maxBody)
	if !ok {
		return
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(b, &keys); err != nil {
		badRequest(w, "invalid JSON")
		return
	}
	if _, ok := keys["dag"]; !ok {
		// The reference dereferences the missing dag and fails.
		writeJSON(w, http.StatusInternalServerError, map[string]any{"error": "failed to save plan"})
		return
	}
	var in struct {
		RunID          string            `json:"run_id"`
		Plan           []json.RawMessage `json:"plan"`
		DAG            json.RawMessage   `json:"dag"`
		PendingInputID *int64            `json:"pending_input_id"`
	}
	if err := json.Unmarshal(b, &in); err != nil {
		badRequest(w, "invalid plan: "+err.Error())
		return
	}
	if len(in.Plan) == 0 {
		badRequest(w, "plan is empty")
		return
	}
	s.mu.Lock()
	p := PlanRecord{ID: int64(len(s.plans) + 1), RunID: in.RunID, Plan: in.Plan, DAG: in.DAG, PendingInputID: in.PendingInputID}
	if len(p.DAG) == 0 {
		p.DAG = json.RawMessage("null")
	}
	s.plans = append(s.plans, p)
	if in.PendingInputID != nil {
		for _, pi := range s.inputs {
			if pi.ID == strconv.FormatInt(*in.PendingInputID, 10) {
				pi.Status = "planned"
				id := p.ID
				pi.PlanID = &id
			}
		}
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"detail": "plan saved"})
}

func (s *Server) handleGetPlan(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	s.mu.Lock()
	var found *PlanRecord
	if id == "latest" {
		if n := len(s.plans); n > 0 {
			found = &s.plans[n-1]
		}
	} else if n, err := strconv.ParseInt(id, 10, 64); err == nil && n >= 1 && n <= int64(len(s.plans)) {
		found = &s.plans[n-1]
	}
	var p PlanRecord
	if found != nil {
		p = *found
	}
	s.mu.Unlock()
	if found == nil {
		writeJSON(w, http.StatusNotFound, map[string]any{"error": "plan not found"})
		return
	}
	writeJSON(w, http.StatusOK, p)
}
