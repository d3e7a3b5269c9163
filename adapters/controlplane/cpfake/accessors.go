package cpfake

import (
	"slices"
	"strconv"
)

// Requests returns every request received, in arrival order.
func (s *Server) Requests() []RequestRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// CountRequests counts requests received with this method and path
// (injected failures included).
func (s *Server) CountRequests(method, path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, r := range s.requests {
		if r.Method == method && r.Path == path {
			n++
		}
	}
	return n
}

// Duplicates counts deliveries answered from the idempotency store instead
// of being applied again.
func (s *Server) Duplicates() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dupes
}

// Manifest returns the stored manifest entries.
func (s *Server) Manifest() []ManifestRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.manifest)
}

// FullLogs returns the stored full logs.
func (s *Server) FullLogs() []FullLogRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.logs)
}

// Events returns the recorded events.
func (s *Server) Events() []EventRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.events)
}

// Plans returns the saved plans, oldest first.
func (s *Server) Plans() []PlanRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.plans)
}

// AddBuilds queues builds in the control-plane's build queue with status
// pending.
func (s *Server) AddBuilds(bs ...Build) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, b := range bs {
		b.Status = "pending"
		s.builds = append(s.builds, &b)
	}
}

// Builds returns a snapshot of the build queue rows.
func (s *Server) Builds() []Build {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Build, len(s.builds))
	for i, b := range s.builds {
		out[i] = *b
	}
	return out
}

// BuildStatuses returns every build status received.
func (s *Server) BuildStatuses() []BuildStatusRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.statuses)
}

// UnknownBuildStatuses returns statuses received for package/version pairs
// that are not in the build queue (they corrupt the reference's table).
func (s *Server) UnknownBuildStatuses() []BuildStatusRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.unknown)
}

// AddPendingInput stores a pending input with status pending and returns its id.
func (s *Server) AddPendingInput(pi PendingInput) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inputSeq++
	pi.ID = strconv.Itoa(s.inputSeq)
	pi.Status = "pending"
	s.inputs = append(s.inputs, &pi)
	return pi.ID
}

// PendingInputs returns a snapshot of the pending inputs.
func (s *Server) PendingInputs() []PendingInput {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]PendingInput, len(s.inputs))
	for i, p := range s.inputs {
		out[i] = *p
	}
	return out
}

// Heartbeats returns the heartbeats received (only when enabled).
func (s *Server) Heartbeats() []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.beats)
}

// StreamLines returns the stored lines of one live log stream, in arrival
// order, each seq at most once.
func (s *Server) StreamLines(key StreamKey) []StreamLine {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st := s.streams[key]; st != nil {
		return slices.Clone(st.lines)
	}
	return nil
}

// StreamKeys lists the streams that received at least one request.
func (s *Server) StreamKeys() []StreamKey {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]StreamKey, 0, len(s.streams))
	for k := range s.streams {
		out = append(out, k)
	}
	return out
}

// StreamStats returns, for one stream, how many requests were opened and how
// many ended with 200.
func (s *Server) StreamStats(key StreamKey) (requests, completed int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st := s.streams[key]; st != nil {
		return st.requests, st.completed
	}
	return 0, 0
}

// StreamDuplicates counts stream lines dropped because their seq was already
// stored for that stream.
func (s *Server) StreamDuplicates() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.streamDup
}
