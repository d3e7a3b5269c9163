package cpfake

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
)

// StreamKey names one live log stream.
type StreamKey struct {
	Name, Version, RunID, Attempt string
}

// StreamLine is one stored line of a live log stream. Raw is set (and the
// other fields are zero) for a line that was not JSON, stored verbatim.
type StreamLine struct {
	Seq       int64  `json:"seq"`
	Content   string `json:"content"`
	Timestamp int64  `json:"timestamp"`
	Raw       string `json:"-"`
}

type streamState struct {
	lines []StreamLine
	seen  map[int64]bool
	// requests counts stream requests; completed counts those answered 200.
	requests, completed int
}

func (s *Server) handleStream(w http.ResponseWriter, r *http.Request) {
	key := StreamKey{Name: r.PathValue("name"), Version: r.PathValue("version"),
		RunID: r.URL.Query().Get("run_id"), Attempt: r.URL.Query().Get("attempt")}
	cut := s.fail.takeCut()
	s.mu.Lock()
	st := s.streamLocked(key)
	st.requests++
	s.mu.Unlock()

	br := bufio.NewReaderSize(r.Body, 64<<10)
	stored := 0
	for {
		line, err := readLine(br)
		if errors.Is(err, errLineTooLong) {
			writeJSON(w, http.StatusInternalServerError, map[string]any{"error": "log line too long"})
			return
		}
		if len(bytes.TrimSpace(line)) > 0 && s.storeStreamLine(key, line) {
			stored++
			if cut > 0 && stored >= cut {
				resetConn(w)
				return
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			// The client went away: what arrived is stored, as on the reference.
			return
		}
	}
	s.mu.Lock()
	st.completed++
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"detail": "log stream ingested"})
}

var errLineTooLong = errors.New("line too long")

// readLine returns the next line without its newline; err is io.EOF at the
// end of the body (line may then hold a last unterminated line).
func readLine(br *bufio.Reader) ([]byte, error) {
	var line []byte
	for {
		chunk, err := br.ReadSlice('\n')
		line = append(line, chunk...)
		if len(line) > MaxStreamLine+1 {
			return nil, errLineTooLong
		}
		switch {
		case err == nil:
			return bytes.TrimSuffix(line, []byte("\n")), nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		default:
			return line, err
		}
	}
}

func (s *Server) streamLocked(key StreamKey) *streamState {
	st := s.streams[key]
	if st == nil {
		st = &streamState{seen: map[int64]bool{}}
		s.streams[key] = st
	}
	return st
}

// storeStreamLine stores one line; it reports whether the line counted as a
// stored line (skipped and duplicate lines do not).
func (s *Server) storeStreamLine(key StreamKey, line []byte) bool {
	var in StreamLine
	isJSON := json.Unmarshal(line, &in) == nil
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.streamLocked(key)
	if !isJSON {
		st.lines = append(st.lines, StreamLine{Raw: string(line)})
		s.trimLocked(key)
		return true
	}
	if in.Content == "" {
		return false
	}
	if st.seen[in.Seq] {
		s.streamDup++
		return true
	}
	st.seen[in.Seq] = true
	st.lines = append(st.lines, in)
	s.trimLocked(key)
	return true
}

// trimLocked keeps at most LogChunkMax live chunks per name/version on the
// newer version, deleting the oldest (LOG_CHUNK_MAX).
func (s *Server) trimLocked(key StreamKey) {
	if !s.isNewLocked() {
		return
	}
	nv := [2]string{key.Name, key.Version}
	order := append(s.chunks[nv], key)
	for len(order) > s.opts.LogChunkMax {
		if st := s.streams[order[0]]; st != nil && len(st.lines) > 0 {
			st.lines = st.lines[1:]
			s.trimmed++
		}
		order = order[1:]
	}
	s.chunks[nv] = order
}
