// Package cpfake is an in-process fake of the refinery control-plane
// described in docs/control-plane.md. It models two versions
// (Options.Version, SetVersion, POST /_fake/version): the seed's reference
// (VersionOld) and the newer one (VersionNew, the default); see Version for
// what differs. Both share the reference's quirks:
//
//   - manifest entries are bound by Go field name, case-insensitively, so
//     snake_case keys such as python_tag are dropped (PythonTag is kept);
//   - empty collections are answered as JSON null;
//   - POST /api/logs answers 413 for a body over 1,000,000 bytes;
//   - POST /api/plan answers 500 when the dag key is absent;
//   - the worker token is checked only on the endpoints the contract marks
//     *token*, and only when Options.Token is set;
//   - POST /api/worker/heartbeat and POST /api/worker/smoke are 404 on the
//     older version;
//   - a manifest entry without CreatedAt is stamped with its time of receipt;
//   - on the newer version a pop marks rows leased and re-offers them after
//     Options.LeaseTimeout (on the older it marks them building, never
//     re-offered), and a pending row is not offered before its backoff_until;
//   - the NDJSON log stream stores each line as it arrives (empty content is
//     skipped, a line over 1 MiB aborts the request with 500, a non-JSON line is
//     stored verbatim) and answers 200 only when the body ends.
//
// Unlike the reference it de-duplicates deliveries that carry the same
// Idempotency-Key header (as a careful control-plane would) and stream lines
// that repeat a seq already stored for the same stream. It records everything
// it receives behind thread-safe accessors, and it can be told to fail: answer
// 500, hang, reset connections, or cut a log stream after N lines.
//
// Use it with net/http/httptest (httptest.NewServer(cpfake.New(opts))) or with
// Listen, which can bind a fixed address again after an outage.
package cpfake

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Limits of the reference control-plane.
const (
	// MaxFullLogBody is the largest body POST /api/logs accepts.
	MaxFullLogBody = 1_000_000
	// MaxStreamLine is the longest NDJSON line the log stream accepts.
	MaxStreamLine = 1 << 20
	// MaxPop caps ?max= of the pop endpoints.
	MaxPop = 100
	// maxBody bounds other request bodies.
	maxBody = 32 << 20
)

// IdempotencyHeader is the header the fake de-duplicates deliveries on.
const IdempotencyHeader = "Idempotency-Key"

// Options configures a fake control-plane.
type Options struct {
	// Token, when non-empty, is required (X-Worker-Token header or ?token=) on
	// the endpoints the contract marks *token*. Default: no token checks.
	Token string
	// Version is the control-plane version to behave as. Default VersionNew.
	Version Version
	// Settings is what GET /api/settings answers. Default: python_version
	// 3.11, platform_tag manylinux2014_s390x, pool sizes 1, auto flags false.
	Settings map[string]any
	// LeaseTimeout, when positive, offers a build-queue row popped (leased)
	// that long ago, and not reported since, again (BUILD_LEASE_TIMEOUT_SEC of
	// the newer control-plane). Default 0: a leased row stays leased.
	LeaseTimeout time.Duration
	// LogChunkMax bounds the live log chunks kept per name/version on the
	// newer version (LOG_CHUNK_MAX; the oldest are deleted). Default
	// DefaultLogChunkMax.
	LogChunkMax int
	// Logger receives one debug line per request. Default: discard.
	Logger *slog.Logger
}

// Server is the fake. It is an http.Handler; all methods are safe for
// concurrent use.
type Server struct {
	opts Options
	mux  *http.ServeMux
	log  *slog.Logger

	fail failState

	mu        sync.Mutex
	version   Version
	requests  []RequestRecord
	idem      map[string]*idemEntry
	dupes     int
	manifest  []ManifestRecord
	logs      []FullLogRecord
	events    []EventRecord
	plans     []PlanRecord
	builds    []*Build
	statuses  []BuildStatusRecord
	unknown   []BuildStatusRecord
	inputs    []*PendingInput
	inputSeq  int
	beats     []map[string]any
	streams   map[StreamKey]*streamState
	streamDup int
	// chunks lists, per name/version, the stream of each live chunk in
	// arrival order (for LOG_CHUNK_MAX trimming); trimmed counts deletions.
	chunks  map[[2]string][]StreamKey
	trimmed int
	// expired counts leases re-offered after Options.LeaseTimeout.
	expired int
	hints   hintStore
}

// New returns a fake control-plane with empty state.
func New(opts Options) *Server {
	if opts.Settings == nil {
		opts.Settings = map[string]any{
			"python_version": "3.11", "platform_tag": "manylinux2014_s390x",
			"plan_pool_size": 1, "build_pool_size": 1, "auto_plan": false, "auto_build": false,
		}
	}
	if opts.Version == "" {
		opts.Version = VersionNew
	}
	if opts.LogChunkMax <= 0 {
		opts.LogChunkMax = DefaultLogChunkMax
	}
	s := &Server{opts: opts, log: opts.Logger, idem: map[string]*idemEntry{}, streams: map[StreamKey]*streamState{},
		version: opts.Version, chunks: map[[2]string][]StreamKey{}}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.fail.release = make(chan struct{})
	m := http.NewServeMux()
	m.HandleFunc("POST /api/logs/stream/{name}/{version}", s.token(s.handleStream))
	m.HandleFunc("POST /api/logs", s.idempotent(s.handleFullLog))
	m.HandleFunc("POST /api/manifest", s.idempotent(s.handleManifest))
	m.HandleFunc("POST /api/history", s.idempotent(s.handleEvent))
	m.HandleFunc("POST /api/plan", s.idempotent(s.handlePostPlan))
	m.HandleFunc("GET /api/plan/{id}", s.handleGetPlan)
	m.HandleFunc("POST /api/builds/status", s.token(s.idempotent(s.handleBuildStatus)))
	m.HandleFunc("POST /api/build-queue/pop", s.token(s.handleBuildPop))
	m.HandleFunc("POST /api/worker/heartbeat", s.newOnly(s.token(s.handleHeartbeat)))
	m.HandleFunc("POST /api/worker/smoke", s.newOnly(s.token(s.handleSmoke)))
	m.HandleFunc("POST /api/pending-inputs/pop", s.token(s.handleInputPop))
	m.HandleFunc("GET /api/pending-inputs", s.handleInputList)
	m.HandleFunc("POST /api/pending-inputs/status/{id}", s.token(s.idempotent(s.handleInputStatus)))
	m.HandleFunc("GET /api/settings", s.handleSettings)
	m.HandleFunc("GET /api/hints", s.handleHints)
	s.controlRoutes(m)
	s.mux = m
	return s
}

// RequestRecord is one request the fake received (before any failure
// injection decided its fate).
type RequestRecord struct {
	Method, Path, Query string
	IdempotencyKey      string
	Token               string
	// Injected is the failure the fake applied, or "" when it answered normally.
	Injected string
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/_fake/") {
		s.mux.ServeHTTP(w, r) // control endpoints never fail and are not recorded
		return
	}
	mode := s.fail.take()
	rec := RequestRecord{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery,
		IdempotencyKey: r.Header.Get(IdempotencyHeader), Token: r.Header.Get("X-Worker-Token"), Injected: mode.String()}
	s.mu.Lock()
	s.requests = append(s.requests, rec)
	s.mu.Unlock()
	s.log.Debug("fake control-plane request", "method", r.Method, "path", r.URL.Path, "injected", rec.Injected)
	switch mode {
	case Fail500:
		writeJSON(w, http.StatusInternalServerError, map[string]any{"error": "injected failure"})
		return
	case FailHang:
		// Read the body so that the server notices when the client goes away.
		_, _ = io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-s.fail.released():
		}
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"error": "injected hang"})
		return
	case FailReset:
		resetConn(w)
		return
	}
	s.mux.ServeHTTP(w, r)
}

// resetConn closes the client connection abruptly (RST when possible).
func resetConn(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

// token wraps a *token* endpoint.
func (s *Server) token(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.opts.Token != "" {
			got := r.Header.Get("X-Worker-Token")
			if got == "" {
				got = r.URL.Query().Get("token")
			}
			if got != s.opts.Token {
				writeJSON(w, http.StatusUnauthorized, map[string]any{"error": "invalid worker token"})
				return
			}
		}
		h(w, r)
	}
}

type idemEntry struct {
	mu     sync.Mutex
	done   bool
	status int
	body   []byte
}

// idempotent replays the stored answer of an earlier successful delivery that
// carried the same Idempotency-Key, without applying it again.
func (s *Server) idempotent(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		key := r.Header.Get(IdempotencyHeader)
		if key == "" {
			h(w, r)
			return
		}
		key = r.URL.Path + "\x00" + key
		s.mu.Lock()
		e := s.idem[key]
		if e == nil {
			e = &idemEntry{}
			s.idem[key] = e
		}
		s.mu.Unlock()
		e.mu.Lock()
		defer e.mu.Unlock()
		if e.done {
			s.mu.Lock()
			s.dupes++
			s.mu.Unlock()
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Idempotent-Replayed", "true")
			w.WriteHeader(e.status)
			_, _ = w.Write(e.body)
			return
		}
		cw := &captureWriter{ResponseWriter: w, status: http.StatusOK}
		h(cw, r)
		if cw.status >= 200 && cw.status < 300 {
			e.done, e.status, e.body = true, cw.status, cw.body.Bytes()
		}
	}
}

type captureWriter struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (c *captureWriter) WriteHeader(code int) { c.status = code; c.ResponseWriter.WriteHeader(code) }
func (c *captureWriter) Write(b []byte) (int, error) {
	c.body.Write(b)
	return c.ResponseWriter.Write(b)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func badRequest(w http.ResponseWriter, msg string) {
	writeJSON(w, http.StatusBadRequest, map[string]any{"error": msg})
}
