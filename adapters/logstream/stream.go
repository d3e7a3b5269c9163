package logstream

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/refinery/refinery-worker/pipeline/redact"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"
)

// Metadata keys Close returns (merged into the manifest entry's metadata).
const (
	MetaLinesStreamed = "lines_streamed" // acknowledged by the control-plane (request ended 200)
	MetaLinesUnsent   = "lines_unsent"   // not proven stored when the stream was closed
	MetaLinesSpilled  = "stream_lines_spilled"
	MetaLinesResent   = "stream_lines_resent"
	MetaReconnects    = "stream_reconnects"
	MetaStreamError   = "stream_error"
	// MetaLinesResendQueued counts the lines not acknowledged at close that
	// were queued for a later delivery with their original seq.
	MetaLinesResendQueued = "stream_lines_resend_queued"
	// MetaLinesNotResent counts the lines that will never reach the stream
	// (over MaxResendBytes, lost to a spill error, or no Resender), with
	// MetaResendNote saying why.
	MetaLinesNotResent = "stream_lines_not_resent"
	MetaResendNote     = "stream_resend_note"
)

// Stream is the live log stream of one job attempt. Line and Close may be
// called from any goroutine; Line never blocks on the network.
type Stream struct {
	s                       *Streamer
	base                    context.Context // values only: the resend's context
	ctx                     context.Context
	cancel                  context.CancelFunc
	name, version, runID    string
	attempt                 int
	notify                  chan struct{}
	closing                 chan struct{}
	done                    chan struct{}
	closeOnce               sync.Once
	meta                    map[string]any
	mu                      sync.Mutex
	mem                     [][]byte // encoded lines, oldest first
	memBytes                int
	spillPath               string
	spillW                  *os.File
	spillR                  *os.File
	spillBuf                *bufio.Reader
	spillWritten, spillRead int
	total, dropped          int64
	spilled                 int64
	spillErr                error

	// Owned by the sender goroutine; read by Close after done.
	acked, resent, reconnects int64
	lastErr                   error
	leftover                  [][]byte // sent but not acknowledged when run returned
}

func newStream(s *Streamer, ctx context.Context, name, version, runID string, attempt int) *Stream {
	base := ctx
	ctx, cancel := context.WithCancel(ctx)
	return &Stream{s: s, base: base, ctx: ctx, cancel: cancel, name: name, version: version, runID: runID, attempt: attempt,
		notify: make(chan struct{}, 1), closing: make(chan struct{}), done: make(chan struct{})}
}

type wireLine struct {
	Seq       int64  `json:"seq"`
	Content   string `json:"content"`
	Timestamp int64  `json:"timestamp"`
}

// encodeLine is one NDJSON record {seq, content, timestamp} ending in a
// newline: the line without its line ending, secrets masked. JSON escaping
// keeps it one line whatever the content holds.
func encodeLine(r *redact.Redactor, seq int64, line []byte, at time.Time) []byte {
	content := r.Bytes(bytes.TrimRight(line, "\r\n"))
	b, err := json.Marshal(wireLine{Seq: seq, Content: string(content), Timestamp: at.Unix()})
	if err != nil {
		return nil // a struct of a string and two ints always encodes
	}
	return append(b, '\n')
}

// Line queues one line. line is copied; secrets are masked.
func (st *Stream) Line(seq int64, line []byte, at time.Time) {
	b := encodeLine(st.s.opts.Redactor, seq, line, at)
	if b == nil {
		return
	}
	st.mu.Lock()
	st.total++
	select {
	case <-st.closing:
		st.dropped++ // a line after Close: counted unsent
		st.mu.Unlock()
		return
	default:
	}
	if st.spillWritten == st.spillRead && st.memBytes+len(b) <= st.s.opts.BufferBytes {
		st.mem = append(st.mem, b)
		st.memBytes += len(b)
	} else if err := st.spillLocked(b); err != nil {
		st.dropped++
		if st.spillErr == nil {
			st.spillErr = err
			st.s.log.Error("logstream: cannot spill a line; it will be counted unsent", "job", st.name, "err", err)
		}
	}
	st.mu.Unlock()
	select {
	case st.notify <- struct{}{}:
	default:
	}
}

func (st *Stream) spillLocked(b []byte) error {
	if st.spillW == nil {
		st.spillPath = filepath.Join(st.s.opts.SpillDir, fmt.Sprintf("%s-%s-%s-a%d-%d.ndjson",
			safe(st.name), safe(st.version), safe(st.runID), st.attempt, time.Now().UnixNano()))
		w, err := os.OpenFile(st.spillPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND|os.O_TRUNC, 0o600)
		if err != nil {
			return fmt.Errorf("open spill file: %w", err)
		}
		r, err := os.Open(st.spillPath)
		if err != nil {
			_ = w.Close()
			return fmt.Errorf("open spill file: %w", err)
		}
		st.spillW, st.spillR, st.spillBuf = w, r, bufio.NewReaderSize(r, 64<<10)
	}
	if _, err := st.spillW.Write(b); err != nil {
		return fmt.Errorf("write spill file: %w", err)
	}
	st.spillWritten++
	st.spilled++
	return nil
}

// take returns the next queued lines, memory first then the spill file, at
// most max lines.
func (st *Stream) take(max int) [][]byte {
	st.mu.Lock()
	if len(st.mem) > 0 {
		n := min(len(st.mem), max)
		out := st.mem[:n:n]
		st.mem = st.mem[n:]
		for _, b := range out {
			st.memBytes -= len(b)
		}
		st.mu.Unlock()
		return out
	}
	avail := st.spillWritten - st.spillRead
	r := st.spillBuf
	st.mu.Unlock()
	if avail == 0 {
		return nil
	}
	var out [][]byte
	for range min(avail, max) {
		b, err := r.ReadBytes('\n')
		if err != nil {
			// Cannot happen for complete lines; count what is left as dropped.
			st.mu.Lock()
			st.dropped += int64(st.spillWritten - st.spillRead - len(out))
			st.spillRead = st.spillWritten
			st.mu.Unlock()
			break
		}
		out = append(out, b)
	}
	st.mu.Lock()
	st.spillRead += len(out)
	if st.spillRead >= st.spillWritten {
		// Caught up: start the file again so new lines go to memory.
		_ = st.spillW.Truncate(0)
		_, _ = st.spillR.Seek(0, 0)
		st.spillBuf.Reset(st.spillR)
		st.spillRead, st.spillWritten = 0, 0
	}
	st.mu.Unlock()
	return out
}

// Close ends the stream: it waits up to CloseTimeout for the queued lines to
// be delivered and acknowledged, then stops, removes the spill file and
// returns the stream's counts for the manifest metadata.
func (st *Stream) Close() map[string]any {
	st.closeOnce.Do(func() {
		st.mu.Lock()
		close(st.closing)
		st.mu.Unlock()
		t := time.NewTimer(st.s.opts.CloseTimeout)
		select {
		case <-st.done:
		case <-t.C:
			st.s.log.Warn("logstream: close timed out; remaining lines counted unsent", "job", st.name)
			st.cancel()
			<-st.done
		}
		t.Stop()
		st.cancel()
		// take returns memory first and the spill file on the next call:
		// drain both, or the spilled lines would be counted lost.
		missed := st.leftover
		for {
			b := st.take(int(^uint(0) >> 1))
			if len(b) == 0 {
				break
			}
			missed = append(missed, b...)
		}
		st.mu.Lock()
		defer st.mu.Unlock()
		if st.spillW != nil {
			_ = st.spillW.Close()
			_ = st.spillR.Close()
			_ = os.Remove(st.spillPath)
		}
		st.meta = map[string]any{
			MetaLinesStreamed: st.acked,
			MetaLinesUnsent:   st.total - st.acked,
			MetaLinesSpilled:  st.spilled,
			MetaLinesResent:   st.resent,
			MetaReconnects:    st.reconnects,
		}
		if st.lastErr != nil && st.total != st.acked {
			st.meta[MetaStreamError] = st.lastErr.Error()
		}
		if st.total != st.acked {
			st.resendLocked(missed)
		}
	})
	return st.meta
}

// resendLocked hands the lines missed (sent unacknowledged, or never sent) to
// the Resender, as many as MaxResendBytes allows, and records in the metadata
// how many were queued and how many will never be sent, and why.
func (st *Stream) resendLocked(missed [][]byte) {
	unsent := st.total - st.acked
	var body []byte
	queued := int64(0)
	var note string
	switch {
	case st.s.opts.Resender == nil:
		note = "no resender: the lines are only in the job log and the full log"
	case errors.Is(st.lastErr, errPermanent):
		note = "the control-plane refused the stream; the lines are only in the job log and the full log"
	default:
		for _, b := range missed {
			if len(b) > maxResendLine {
				note = "a line over the stream's line limit is not resent"
				continue
			}
			if len(body)+len(b) > st.s.opts.MaxResendBytes {
				note = fmt.Sprintf("over %d bytes: the later lines are only in the job log and the full log", st.s.opts.MaxResendBytes)
				break
			}
			body = append(body, b...)
			queued++
		}
	}
	if queued > 0 {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(st.base), 10*time.Second)
		err := st.s.opts.Resender.ResendStream(ctx, st.name, st.version, st.runID, st.attempt, body)
		cancel()
		if err != nil {
			st.s.log.Error("logstream: cannot queue the missed lines for a later delivery", "job", st.name, "err", err)
			note, queued = "queueing the missed lines failed: "+err.Error(), 0
		}
	}
	st.meta[MetaLinesResendQueued] = queued
	if rest := unsent - queued; rest > 0 {
		st.meta[MetaLinesNotResent] = rest
		if note == "" {
			note = "lost before they could be queued (spill error or written after close)"
		}
		st.meta[MetaResendNote] = note
	}
}

// maxResendLine is the longest encoded line resent: the control-plane aborts
// a stream request on a longer one.
const maxResendLine = 1 << 20

func safe(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			b[i] = '_'
		}
	}
	if len(b) > 60 {
		b = b[:60]
	}
	if len(b) == 0 {
		return "x" + strconv.Itoa(len(s))
	}
	return string(b)
}
