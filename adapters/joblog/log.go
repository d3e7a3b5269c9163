package joblog

import (
	"bytes"
	"fmt"
	"maps"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/refinery/refinery-worker/handlers"
)

// Log is one job's log. It implements handlers.JobLog and is safe for
// concurrent use (a runner may write from more than one goroutine; each
// Write is applied whole, so a writer that hands over whole lines keeps them
// intact).
//
// A failing disk does not fail the build: Write reports every byte accepted
// (lines still reach the tail and the sinks) and the first file error is
// returned by Close.
type Log struct {
	mu   sync.Mutex
	f    *os.File
	path string
	now  func() time.Time

	headCap int64 // bytes written straight to the file
	head    int64
	tail    ring // the last bytes beyond the head, written at Close
	total   int64
	fileErr error

	segment int
	pending []byte // start of a line whose end has not arrived, < segment bytes
	midLine bool   // the current line already had a segment emitted
	seq     int64
	lines   int64

	last     []string // ring of the last lines, for Tail; grows up to lastMax
	lastMax  int
	lastNext int
	kept     int64 // lines ever put in last
	short    bool  // a line in last was shortened
	cut      int64 // bytes the file lost to the size cap (set at Close)

	sinks  []LineSink
	closed bool
	meta   map[string]any
}

var _ handlers.JobLog = (*Log)(nil)

func newLog(f *os.File, path string, maxBytes int64, tailLines, segment int, now func() time.Time) *Log {
	headCap := maxBytes / 2
	return &Log{
		f:       f,
		path:    path,
		now:     now,
		headCap: headCap,
		tail:    ring{max: int(maxBytes - headCap)},
		segment: segment,
		pending: make([]byte, 0, min(segment, 512)), // grows up to segment when a line is long
		lastMax: tailLines,                          // last grows as lines come: most jobs print few
	}
}

// Write appends p to the log. It never blocks on anything but the local file
// and the sinks' (non-blocking) Line calls.
func (l *Log) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return 0, os.ErrClosed
	}
	n := len(p)
	l.total += int64(n)
	l.writeFile(p)
	at := l.now()
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			l.feed(p, false, at)
			break
		}
		l.feed(p[:i], true, at)
		p = p[i+1:]
	}
	return n, nil
}

func (l *Log) writeFile(p []byte) {
	if room := l.headCap - l.head; room > 0 {
		n := min(int64(len(p)), room)
		if _, err := l.f.Write(p[:n]); err != nil && l.fileErr == nil {
			l.fileErr = fmt.Errorf("write job log: %w", err)
		}
		l.head += n
		p = p[n:]
	}
	if len(p) > 0 {
		l.tail.write(p)
	}
}

// feed adds b to the current line; eol says b ends it. Pieces of more than
// segment bytes are emitted as segments, so pending never exceeds segment.
func (l *Log) feed(b []byte, eol bool, at time.Time) {
	l.reserve(min(len(l.pending)+len(b), l.segment))
	for len(l.pending)+len(b) > l.segment {
		if len(l.pending) == 0 {
			l.emit(b[:l.segment], false, at)
			b = b[l.segment:]
			continue
		}
		k := l.segment - len(l.pending)
		l.pending = append(l.pending, b[:k]...)
		l.emit(l.pending, false, at)
		l.pending = l.pending[:0]
		b = b[k:]
	}
	switch {
	case !eol:
		l.pending = append(l.pending, b...)
	case len(l.pending) == 0:
		l.emit(b, true, at)
	default:
		l.pending = append(l.pending, b...)
		l.emit(l.pending, true, at)
		l.pending = l.pending[:0]
	}
}

// reserve makes room for n pending bytes (n ≤ segment), doubling but never
// past segment: most logs have short lines and never need the full segment.
func (l *Log) reserve(n int) {
	if n <= cap(l.pending) {
		return
	}
	grown := make([]byte, len(l.pending), min(l.segment, max(n, 2*cap(l.pending))))
	copy(grown, l.pending)
	l.pending = grown
}

// emit passes one line or segment on to the tail and the sinks.
func (l *Log) emit(line []byte, eol bool, at time.Time) {
	l.seq++
	if !l.midLine {
		l.remember(line, !eol)
	}
	l.midLine = !eol
	if eol {
		l.lines++
	}
	for _, s := range l.sinks {
		s.Line(l.seq, line, at)
	}
}

func (l *Log) remember(line []byte, more bool) {
	s := line
	if len(s) > maxTailLineBytes {
		s = s[:maxTailLineBytes]
		more = true
	}
	text := string(s)
	if more {
		text += " …[line continues]"
		l.short = true
	}
	l.kept++
	if len(l.last) < l.lastMax {
		l.last = append(l.last, text)
	} else {
		l.last[l.lastNext] = text
	}
	l.lastNext = (l.lastNext + 1) % l.lastMax
}

// Tail returns up to n last lines, oldest first. Lines longer than 4 KiB are
// shortened and say so.
func (l *Log) Tail(n int) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	n = min(n, len(l.last))
	if n <= 0 {
		return nil
	}
	out := make([]string, 0, n)
	start := (l.lastNext - n + len(l.last)) % len(l.last)
	for i := range n {
		out = append(out, l.last[(start+i)%len(l.last)])
	}
	return out
}

// AllLines returns, once the log is closed, every line of its file from
// memory (as the file reads, split at newlines, without trailing empty
// lines), when the log still holds them all: no more than its tail lines,
// none shortened, no byte cut, and at most limit bytes in all. ok is false
// otherwise (and before Close); the caller reads the file then.
func (l *Log) AllLines(limit int64) (lines []string, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.closed || l.short || l.cut > 0 || l.total > limit || l.kept > int64(l.lastMax) {
		return nil, false
	}
	// Not wrapped: last holds every line, oldest first.
	n := len(l.last)
	for n > 0 && l.last[n-1] == "" {
		n--
	}
	return slices.Clone(l.last[:n]), true
}

// Path is the log file.
func (l *Log) Path() string { return l.path }

// Close ends the last line, writes the kept tail (after a marker saying how
// many bytes were cut, if any), closes the file and the sinks, and returns the
// metadata: log_bytes (written to the log), log_lines, log_bytes_cut,
// log_path, merged with the sinks' metadata. A second Close returns the same.
func (l *Log) Close() (map[string]any, error) {
	l.mu.Lock()
	if l.closed {
		defer l.mu.Unlock()
		return maps.Clone(l.meta), nil
	}
	if len(l.pending) > 0 || l.midLine {
		l.emit(l.pending, true, l.now())
		l.pending = l.pending[:0]
	}
	cut := l.writeTail()
	l.cut = cut
	errClose := l.f.Close()
	l.closed = true
	l.meta = map[string]any{
		metaKey("bytes"):     l.total,
		metaKey("lines"):     l.lines,
		metaKey("bytes_cut"): cut,
		metaKey("path"):      l.path,
	}
	sinks := l.sinks
	fileErr := l.fileErr
	l.mu.Unlock()

	// Sinks may take a moment to flush: no lock held, no Write is accepted now.
	merged := make(map[string]any)
	for _, s := range sinks {
		maps.Copy(merged, s.Close())
	}
	l.mu.Lock()
	maps.Copy(merged, l.meta)
	l.meta = merged
	l.mu.Unlock()
	if fileErr == nil && errClose != nil {
		fileErr = fmt.Errorf("close job log: %w", errClose)
	}
	return maps.Clone(merged), fileErr
}

// writeTail writes the bytes kept beyond the head and returns how many bytes
// the log lost. When bytes were cut, the kept tail starts at a line boundary.
func (l *Log) writeTail() int64 {
	a, b := l.tail.parts()
	kept := int64(len(a) + len(b))
	cut := l.tail.n - kept
	if cut > 0 {
		// Start the tail on a fresh line when one begins soon.
		if i := bytes.IndexByte(a, '\n'); i >= 0 && i < l.segment {
			a = a[i+1:]
			cut += int64(i + 1)
		}
		l.writeRaw([]byte(formatCut(cut)))
	}
	l.writeRaw(a)
	l.writeRaw(b)
	return cut
}

func (l *Log) writeRaw(p []byte) {
	if len(p) == 0 {
		return
	}
	if _, err := l.f.Write(p); err != nil && l.fileErr == nil {
		l.fileErr = fmt.Errorf("write job log: %w", err)
	}
}

// ring keeps the last max bytes written to it; it grows up to max only as
// bytes arrive.
type ring struct {
	buf  []byte
	max  int
	pos  int // when full: index of the oldest byte
	full bool
	n    int64 // bytes ever written
}

func (r *ring) write(p []byte) {
	r.n += int64(len(p))
	if r.max <= 0 {
		return
	}
	if len(p) >= r.max {
		if cap(r.buf) < r.max {
			r.buf = make([]byte, r.max)
		}
		r.buf = r.buf[:r.max]
		copy(r.buf, p[len(p)-r.max:])
		r.pos, r.full = 0, true
		return
	}
	if !r.full {
		k := min(len(p), r.max-len(r.buf))
		if need := len(r.buf) + k; need > cap(r.buf) {
			grown := make([]byte, len(r.buf), min(r.max, max(need, 2*cap(r.buf))))
			copy(grown, r.buf)
			r.buf = grown
		}
		r.buf = append(r.buf, p[:k]...)
		p = p[k:]
		if len(r.buf) < r.max {
			return
		}
		r.pos, r.full = 0, true
	}
	for len(p) > 0 {
		c := copy(r.buf[r.pos:], p)
		p = p[c:]
		r.pos = (r.pos + c) % r.max
	}
}

// parts returns the kept bytes, oldest first, as two slices.
func (r *ring) parts() ([]byte, []byte) {
	if !r.full {
		return r.buf, nil
	}
	return r.buf[r.pos:], r.buf[:r.pos]
}
