package cpfake

import (
	"encoding/json"
	"net/http"
)

// Control endpoints for local trials (refinery-worker fake-control-plane);
// they are not part of the contract and live under /_fake/:
//
//	GET  /_fake/state              what the fake received (counts and records)
//	POST /_fake/builds             add build-queue rows (a JSON array of Build)
//	POST /_fake/failure?mode=M     fail every request: 500, hang, reset, or none
//	POST /_fake/version?v=V        behave as control-plane version old or new
func (s *Server) controlRoutes(m *http.ServeMux) {
	m.HandleFunc("GET /_fake/state", s.handleState)
	m.HandleFunc("POST /_fake/builds", func(w http.ResponseWriter, r *http.Request) {
		var bs []Build
		if err := json.NewDecoder(r.Body).Decode(&bs); err != nil {
			badRequest(w, "want a JSON array of builds")
			return
		}
		s.AddBuilds(bs...)
		writeJSON(w, http.StatusOK, map[string]any{"added": len(bs)})
	})
	m.HandleFunc("POST /_fake/version", func(w http.ResponseWriter, r *http.Request) {
		v, ok := ParseVersion(r.URL.Query().Get("v"))
		if !ok {
			badRequest(w, "v must be old or new")
			return
		}
		s.SetVersion(v)
		writeJSON(w, http.StatusOK, map[string]any{"version": v})
	})
	m.HandleFunc("POST /_fake/failure", func(w http.ResponseWriter, r *http.Request) {
		modes := map[string]FailMode{"none": FailNone, "500": Fail500, "hang": FailHang, "reset": FailReset}
		mode, ok := modes[r.URL.Query().Get("mode")]
		if !ok {
			badRequest(w, "mode must be none, 500, hang or reset")
			return
		}
		s.SetFailure(mode)
		writeJSON(w, http.StatusOK, map[string]any{"mode": r.URL.Query().Get("mode")})
	})
}

func (s *Server) handleState(w http.ResponseWriter, _ *http.Request) {
	type logInfo struct {
		Name, Version string
		Bytes         int
	}
	type streamInfo struct {
		Key                 StreamKey
		Lines               int
		Requests, Completed int
	}
	logs := s.FullLogs()
	li := make([]logInfo, len(logs))
	for i, l := range logs {
		li[i] = logInfo{l.Name, l.Version, len(l.Content)}
	}
	var si []streamInfo
	for _, k := range s.StreamKeys() {
		req, done := s.StreamStats(k)
		si = append(si, streamInfo{Key: k, Lines: len(s.StreamLines(k)), Requests: req, Completed: done})
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"manifest": s.Manifest(), "events": s.Events(), "full_logs": li, "plans": s.Plans(),
		"builds": s.Builds(), "build_statuses": s.BuildStatuses(), "unknown_build_statuses": s.UnknownBuildStatuses(),
		"pending_inputs": s.PendingInputs(), "heartbeats": s.Heartbeats(), "streams": si,
		"duplicates": s.Duplicates(), "version": s.Version(), "trimmed_chunks": s.TrimmedChunks(),
		"expired_leases": s.ExpiredLeases(), "stream_duplicates": s.StreamDuplicates(), "requests": len(s.Requests()),
	})
}
