package cpfake

import (
	"net/http"
)

// Version is the control-plane version the fake behaves as.
type Version string

// The modelled versions.
const (
	// VersionNew is the newer control-plane (upstream 273fc02): POST
	// /api/worker/heartbeat stores run_id and plan_pool_size, POST
	// /api/worker/smoke exists, builds status keeps failure_summary and
	// hint_ids, history keeps duration_ms and matched_hint_ids in their own
	// columns, a pop marks rows leased and a lease older than
	// Options.LeaseTimeout goes back to pending, and at most
	// Options.LogChunkMax live log chunks are kept per name/version. The
	// default.
	VersionNew Version = "new"
	// VersionOld is the seed's control-plane (upstream 90aaae6): no heartbeat
	// and no smoke route (404), unknown body fields ignored (failure_summary,
	// top-level duration_ms), a pop marks rows building and never offers them
	// again, no chunk trimming.
	VersionOld Version = "old"
)

// DefaultLogChunkMax is the newer control-plane's LOG_CHUNK_MAX.
const DefaultLogChunkMax = 5000

// ParseVersion reads "old" or "new".
func ParseVersion(s string) (Version, bool) {
	switch Version(s) {
	case VersionOld, VersionNew:
		return Version(s), true
	}
	return "", false
}

// SetVersion switches the behaviour of every later request.
func (s *Server) SetVersion(v Version) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.version = v
}

// Version returns the version the fake behaves as.
func (s *Server) Version() Version {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.version
}

// isNew reports whether the fake behaves as the newer version; the caller
// holds s.mu.
func (s *Server) isNewLocked() bool { return s.version != VersionOld }

// newOnly wraps a route the older version does not have (404 there).
func (s *Server) newOnly(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		isNew := s.isNewLocked()
		s.mu.Unlock()
		if !isNew {
			http.NotFound(w, r)
			return
		}
		h(w, r)
	}
}

// handleSmoke answers POST /api/worker/smoke (newer version, *token*): the
// worker's proof that its URL and token are right.
func (s *Server) handleSmoke(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	n := 0
	for _, b := range s.builds {
		if b.Status == "pending" {
			n++
		}
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"detail": "smoke-ok", "queue_length": n})
}

// TrimmedChunks counts live log chunks deleted by LOG_CHUNK_MAX trimming.
func (s *Server) TrimmedChunks() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.trimmed
}

// ExpiredLeases counts leases offered again after Options.LeaseTimeout.
func (s *Server) ExpiredLeases() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.expired
}
