package cpfake

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"
)

// Build is one row of the control-plane's build queue (docs/control-plane.md).
type Build struct {
	Package     string   `json:"package"`
	Version     string   `json:"version"`
	PythonTag   string   `json:"python_tag"`
	PlatformTag string   `json:"platform_tag"`
	Attempts    int      `json:"attempts"`
	RunID       string   `json:"run_id"`
	PlanID      int64    `json:"plan_id"`
	Recipes     []string `json:"recipes"`
	HintIDs     []string `json:"hint_ids"`
	// Status is pending (queued), leased (popped), or the last status the
	// worker reported (building, built, failed, retry, pending).
	Status string `json:"-"`
	// Error, BackoffUntil and (newer version) FailureSummary and
	// ReportedHintIDs are the last ones reported.
	Error           string   `json:"-"`
	BackoffUntil    int64    `json:"-"`
	FailureSummary  string   `json:"-"`
	ReportedHintIDs []string `json:"-"`
	// LeasedAt is when the row was last popped.
	LeasedAt time.Time `json:"-"`
	// Leases counts the pops of this row (re-offers included).
	Leases int `json:"-"`
}

// BuildStatusRecord is one POST /api/builds/status.
type BuildStatusRecord struct {
	Package      string   `json:"package"`
	Version      string   `json:"version"`
	Status       string   `json:"status"`
	Attempts     int      `json:"attempts"`
	Error        string   `json:"error,omitempty"`
	BackoffUntil int64    `json:"backoff_until,omitempty"`
	Recipes      []string `json:"recipes,omitempty"`
	HintIDs      []string `json:"hint_ids,omitempty"`
	// FailureSummary is kept by the newer version only.
	FailureSummary string `json:"failure_summary,omitempty"`
}

// PendingInput is an uploaded requirements file or wheel (docs/control-plane.md).
type PendingInput struct {
	ID           string         `json:"id"`
	Filename     string         `json:"filename"`
	Digest       string         `json:"digest"`
	SizeBytes    int64          `json:"size_bytes"`
	Status       string         `json:"status"`
	SourceType   string         `json:"source_type"`
	ObjectBucket string         `json:"object_bucket"`
	ObjectKey    string         `json:"object_key"`
	ContentType  string         `json:"content_type"`
	Metadata     map[string]any `json:"metadata"`
	PlanID       *int64         `json:"plan_id,omitempty"`
	Error        string         `json:"error,omitempty"`
}

func popMax(r *http.Request) int {
	n, err := strconv.Atoi(r.URL.Query().Get("max"))
	if err != nil || n < 1 {
		n = 1
	}
	return min(n, MaxPop)
}

// handleBuildPop leases rows. The newer version marks a popped row leased
// (the worker reports building when the build starts) and offers a row still
// leased after Options.LeaseTimeout again; the older marks it building, never
// offered again. Both increment attempts and hold back a pending row whose
// backoff_until lies ahead.
func (s *Server) handleBuildPop(w http.ResponseWriter, r *http.Request) {
	max := popMax(r)
	var out []Build
	now := time.Now()
	s.mu.Lock()
	mark := "building"
	if s.isNewLocked() {
		mark = "leased"
	}
	for _, b := range s.builds {
		if len(out) == max {
			break
		}
		expired := b.Status == "leased" && s.opts.LeaseTimeout > 0 && now.Sub(b.LeasedAt) >= s.opts.LeaseTimeout
		ready := b.Status == "pending" && b.BackoffUntil <= now.Unix()
		if ready || expired {
			if expired {
				s.expired++
			}
			b.Status = mark
			b.Attempts++
			b.Leases++
			b.LeasedAt = now
			out = append(out, *b)
		}
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"builds": out})
}

func (s *Server) handleBuildStatus(w http.ResponseWriter, r *http.Request) {
	b, ok := readBody(w, r, maxBody)
	if !ok {
		return
	}
	var st BuildStatusRecord
	if err := json.Unmarshal(b, &st); err != nil {
		badRequest(w, "invalid JSON")
		return
	}
	if st.Package == "" || st.Status == "" {
		badRequest(w, "package and status are required")
		return
	}
	s.mu.Lock()
	if !s.isNewLocked() {
		st.FailureSummary = "" // an unknown field to the older version
	}
	s.statuses = append(s.statuses, st)
	known := false
	for _, row := range s.builds {
		if row.Package == st.Package && row.Version == st.Version {
			known = true
			row.Status, row.Error, row.BackoffUntil = st.Status, st.Error, st.BackoffUntil
			if s.isNewLocked() && (st.Status == "failed" || st.Status == "retry") {
				row.FailureSummary, row.ReportedHintIDs = st.FailureSummary, st.HintIDs
			}
		}
	}
	if !known {
		// The reference inserts a broken row here; the fake records it so
		// tests can assert it never happens.
		s.unknown = append(s.unknown, st)
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"detail": "build status updated"})
}

func (s *Server) handleHeartbeat(w http.ResponseWriter, r *http.Request) {
	b, ok := readBody(w, r, maxBody)
	if !ok {
		return
	}
	var hb map[string]any
	if err := json.Unmarshal(b, &hb); err != nil {
		badRequest(w, "invalid JSON")
		return
	}
	s.mu.Lock()
	s.beats = append(s.beats, hb)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"detail": "heartbeat recorded"})
}

func (s *Server) handleInputPop(w http.ResponseWriter, r *http.Request) {
	max := popMax(r)
	var ids []string
	s.mu.Lock()
	for _, pi := range s.inputs {
		if len(ids) == max {
			break
		}
		if pi.Status == "pending" {
			pi.Status = "planning"
			ids = append(ids, pi.ID)
		}
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"ids": ids})
}

func (s *Server) handleInputList(w http.ResponseWriter, _ *http.Request) {
	var out []PendingInput
	s.mu.Lock()
	for _, pi := range s.inputs {
		out = append(out, *pi)
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) handleInputStatus(w http.ResponseWriter, r *http.Request) {
	b, ok := readBody(w, r, maxBody)
	if !ok {
		return
	}
	var in struct {
		Status string `json:"status"`
		Error  string `json:"error"`
	}
	if err := json.Unmarshal(b, &in); err != nil || in.Status == "" {
		badRequest(w, "status is required")
		return
	}
	id := r.PathValue("id")
	s.mu.Lock()
	var found bool
	for _, pi := range s.inputs {
		if pi.ID == id {
			pi.Status, pi.Error, found = in.Status, in.Error, true
		}
	}
	s.mu.Unlock()
	if !found {
		writeJSON(w, http.StatusNotFound, map[string]any{"error": "pending input not found"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"detail": "status updated"})
}

func (s *Server) handleSettings(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.opts.Settings)
}
