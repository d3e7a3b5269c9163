package podman

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"sync"
)

// streamSegment bounds how much of one line a stream copier holds before
// passing it on: a line longer than this reaches the log in pieces.
const streamSegment = 64 << 10

// syncWriter serialises Writes from the stdout and stderr copiers and the
// runner's own lines, so each whole line lands in the log in one Write, and
// remembers the last lines for Result.LogTail. A failing log does not stop
// the copiers (the container must never block on a full pipe); the first
// error is kept.
type syncWriter struct {
	mu   sync.Mutex
	w    io.Writer
	err  error
	tail lineTail
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil {
		if _, err := s.w.Write(p); err != nil {
			s.err = err
		}
	}
	s.tail.add(p)
	return len(p), nil
}

func (s *syncWriter) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

func (s *syncWriter) Tail() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tail.lines()
}

// Bounds of a stream copier's read buffer: it starts small (most clients
// print little: a quiet container costs no 32 KiB per stream) and doubles
// while reads fill it.
const (
	copyBufMin = 2 << 10
	copyBufMax = 32 << 10
)

// copyLines copies r to w as bytes (never a line scanner), handing over whole
// lines as soon as their newline arrives and at most streamSegment bytes of an
// unfinished line. It returns when r ends or fails. Its buffers grow with
// what r gives: the unfinished line's only as long lines come.
func copyLines(w io.Writer, r io.Reader) error {
	buf := make([]byte, copyBufMin)
	var pending []byte
	for {
		n, err := r.Read(buf)
		data := buf[:n]
		for len(data) > 0 {
			if i := bytes.LastIndexByte(data, '\n'); i >= 0 {
				if len(pending) > 0 {
					pending = append(pending, data[:i+1]...)
					_, _ = w.Write(pending)
					pending = pending[:0]
				} else {
					_, _ = w.Write(data[:i+1])
				}
				data = data[i+1:]
			}
			k := min(len(data), streamSegment-len(pending))
			pending = append(pending, data[:k]...)
			data = data[k:]
			if len(pending) == streamSegment {
				_, _ = w.Write(pending)
				pending = pending[:0]
			}
		}
		if n == len(buf) && len(buf) < copyBufMax {
			buf = make([]byte, min(2*len(buf), copyBufMax))
		}
		if err != nil {
			if len(pending) > 0 {
				_, _ = w.Write(pending)
			}
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrClosedPipe) {
				return nil
			}
			return err
		}
	}
}

// lineTail keeps the last tailLines lines (each cut to tailLineMax bytes).
type lineTail struct {
	ring    [tailLines]string
	next    int
	n       int
	partial strings.Builder
}

const (
	tailLines   = 40
	tailLineMax = 1 << 10
)

func (t *lineTail) add(p []byte) {
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		chunk := p
		if i >= 0 {
			chunk = p[:i]
		}
		if room := tailLineMax - t.partial.Len(); room > 0 {
			t.partial.Write(chunk[:min(len(chunk), room)])
		}
		if i < 0 {
			return
		}
		t.push()
		p = p[i+1:]
	}
}

func (t *lineTail) push() {
	t.ring[t.next] = t.partial.String()
	t.partial.Reset()
	t.next = (t.next + 1) % tailLines
	t.n = min(t.n+1, tailLines)
}

func (t *lineTail) lines() []string {
	out := make([]string, 0, t.n+1)
	for i := range t.n {
		out = append(out, t.ring[(t.next-t.n+i+tailLines)%tailLines])
	}
	if t.partial.Len() > 0 {
		out = append(out, t.partial.String())
	}
	return out
}
