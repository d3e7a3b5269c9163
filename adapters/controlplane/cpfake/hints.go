package cpfake

import (
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// Hint is one entry of the fake's hint catalog (GET /api/hints).
type Hint struct {
	ID         string              `json:"id"`
	Pattern    string              `json:"pattern"`
	Recipes    map[string][]string `json:"recipes,omitempty"`
	AppliesTo  map[string][]string `json:"applies_to,omitempty"`
	Confidence float64             `json:"confidence"`
}

// MaxHintsLimit caps ?limit= of GET /api/hints.
const MaxHintsLimit = 200

// hintStore is the fake's hint catalog.
type hintStore struct {
	mu    sync.Mutex
	hints []Hint
	gets  int
}

// SetHints replaces the hint catalog GET /api/hints serves.
func (s *Server) SetHints(hs []Hint) {
	s.hints.mu.Lock()
	defer s.hints.mu.Unlock()
	s.hints.hints = append([]Hint(nil), hs...)
}

// HintGets is how many GET /api/hints requests were answered.
func (s *Server) HintGets() int {
	s.hints.mu.Lock()
	defer s.hints.mu.Unlock()
	return s.hints.gets
}

// handleHints answers GET /api/hints?limit=&offset=&q=: {"items","total",
// "limit","offset"}; q keeps hints whose id or pattern contains it; limit
// defaults to and is capped at 200; 400 for a bad number.
func (s *Server) handleHints(w http.ResponseWriter, r *http.Request) {
	limit, offset := MaxHintsLimit, 0
	var err error
	if v := r.URL.Query().Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 {
			writeJSON(w, http.StatusBadRequest, map[string]any{"error": "limit: want a positive integer"})
			return
		}
		limit = min(limit, MaxHintsLimit)
	}
	if v := r.URL.Query().Get("offset"); v != "" {
		if offset, err = strconv.Atoi(v); err != nil || offset < 0 {
			writeJSON(w, http.StatusBadRequest, map[string]any{"error": "offset: want a non-negative integer"})
			return
		}
	}
	q := r.URL.Query().Get("q")
	s.hints.mu.Lock()
	s.hints.gets++
	var sel []Hint
	for _, h := range s.hints.hints {
		if q == "" || strings.Contains(h.ID, q) || strings.Contains(h.Pattern, q) {
			sel = append(sel, h)
		}
	}
	s.hints.mu.Unlock()
	total := len(sel)
	page := []Hint{}
	if offset < total {
		page = sel[offset:min(total, offset+limit)]
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": page, "total": total, "limit": limit, "offset": offset})
}
