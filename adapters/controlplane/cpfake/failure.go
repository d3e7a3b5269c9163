package cpfake

import (
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
)

// FailMode is a failure the fake can inject into requests.
type FailMode int

// Failure modes.
const (
	// FailNone answers normally.
	FailNone FailMode = iota
	// Fail500 answers 500 {"error":"injected failure"} without applying the request.
	Fail500
	// FailHang holds the request until the client gives up or the failure is
	// cleared with SetFailure(FailNone).
	FailHang
	// FailReset closes the connection without an answer.
	FailReset
)

func (m FailMode) String() string {
	switch m {
	case Fail500:
		return "500"
	case FailHang:
		return "hang"
	case FailReset:
		return "reset"
	default:
		return ""
	}
}

type failState struct {
	mu      sync.Mutex
	mode    FailMode // applies to every request until cleared
	next    []FailMode
	release chan struct{}
	cutAt   int // cut the next log stream after this many stored lines; 0 = off
}

// take returns the failure to apply to one request.
func (f *failState) take() FailMode {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.next) > 0 {
		m := f.next[0]
		f.next = f.next[1:]
		return m
	}
	return f.mode
}

func (f *failState) released() <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.release
}

// SetFailure makes every request fail with mode until SetFailure(FailNone).
// Clearing the failure also releases requests held by FailHang.
func (s *Server) SetFailure(mode FailMode) {
	s.fail.mu.Lock()
	defer s.fail.mu.Unlock()
	s.fail.mode = mode
	if mode == FailNone {
		close(s.fail.release)
		s.fail.release = make(chan struct{})
	}
}

// ReleaseHangs lets every request held by FailHang answer now (503); call it
// before closing an httptest server that may hold hanging requests.
func (s *Server) ReleaseHangs() {
	s.fail.mu.Lock()
	defer s.fail.mu.Unlock()
	close(s.fail.release)
	s.fail.release = make(chan struct{})
}

// FailNext makes the next n requests fail with mode (before any SetFailure
// mode applies).
func (s *Server) FailNext(mode FailMode, n int) {
	s.fail.mu.Lock()
	defer s.fail.mu.Unlock()
	for range n {
		s.fail.next = append(s.fail.next, mode)
	}
}

// CutStreamAfter makes the next log stream request abort its connection after
// storing n lines. It applies once.
func (s *Server) CutStreamAfter(n int) {
	s.fail.mu.Lock()
	defer s.fail.mu.Unlock()
	s.fail.cutAt = n
}

func (f *failState) takeCut() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := f.cutAt
	f.cutAt = 0
	return n
}

// Listen serves h on addr (for example "127.0.0.1:0", or the address of an
// earlier server to come back after an outage: closing the returned server
// makes the address refuse connections). The caller closes the server.
func Listen(h http.Handler, addr string) (*httptest.Server, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	ts := httptest.NewUnstartedServer(h)
	_ = ts.Listener.Close()
	ts.Listener = l
	ts.Start()
	return ts, nil
}
