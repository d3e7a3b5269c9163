package logstream

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/refinery/refinery-worker/pipeline/retry"
)

// errPermanent marks a refusal (4xx) that another request will not change.
var errPermanent = errors.New("control-plane refused the log stream")

type result struct {
	status int
	body   string
	err    error
}

// run is the sender goroutine: requests one after another until the stream is
// closed and everything is acknowledged, or the stream is cancelled.
func (st *Stream) run() {
	defer close(st.done)
	var unacked [][]byte
	defer func() { st.leftover = unacked }() // Close resends them
	failures, failedClosing := 0, 0
	for {
		if len(unacked) == 0 && !st.waitWork() {
			return
		}
		acked, err := st.request(&unacked)
		if err == nil {
			st.acked += int64(acked)
			unacked = unacked[:0]
			failures = 0
			continue
		}
		st.lastErr = err
		if errors.Is(err, errPermanent) || st.ctx.Err() != nil {
			if errors.Is(err, errPermanent) {
				st.s.log.Error("logstream: stream refused; live lines of this job will not be sent", "job", st.name, "err", err)
			}
			return
		}
		failures++
		st.reconnects++
		select {
		case <-st.closing:
			// Closing: no backoff, and give up after a second failure so that
			// an outage does not hold every job's Close for CloseTimeout.
			failedClosing++
			if failedClosing >= 2 {
				st.s.log.Warn("logstream: giving up at close; lines counted unsent", "job", st.name, "unacked", len(unacked), "err", err)
				return
			}
			continue
		default:
		}
		d := st.s.reconnect().Delay(failures)
		st.s.log.Warn("logstream: stream broke, reconnecting", "job", st.name, "unacked", len(unacked), "wait", d, "err", err)
		t := time.NewTimer(d)
		select {
		case <-st.ctx.Done():
			t.Stop()
			return
		case <-st.closing:
			t.Stop()
		case <-t.C:
		}
	}
}

// waitWork waits until a line is queued (true) or the stream is closed with
// nothing left, or cancelled (false).
func (st *Stream) waitWork() bool {
	for {
		st.mu.Lock()
		has := len(st.mem) > 0 || st.spillWritten > st.spillRead
		st.mu.Unlock()
		if has {
			return true
		}
		select {
		case <-st.closing:
			st.mu.Lock()
			has = len(st.mem) > 0 || st.spillWritten > st.spillRead
			st.mu.Unlock()
			return has
		case <-st.ctx.Done():
			return false
		case <-st.notify:
		}
	}
}

// request sends the unacknowledged lines again, then new lines, on one
// request, until a rotation limit or the close of the stream ends its body.
// It returns how many lines the 200 acknowledged. Lines sent are appended
// to *unacked, so the caller re-sends them after a failure.
func (st *Stream) request(unacked *[][]byte) (int, error) {
	pr, pw := io.Pipe()
	results := make(chan result, 1)
	reqCtx, cancelReq := context.WithCancel(st.ctx)
	defer cancelReq()
	go func() {
		resp, err := st.s.opts.Client.OpenLogStream(reqCtx, st.name, st.version, st.runID, st.attempt, pr)
		if err != nil {
			_ = pr.CloseWithError(err)
			results <- result{err: err}
			return
		}
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		_ = resp.Body.Close()
		_ = pr.CloseWithError(fmt.Errorf("answered %d", resp.StatusCode))
		results <- result{status: resp.StatusCode, body: string(b)}
	}()
	fail := func(err error) (int, error) {
		_ = pw.CloseWithError(err)
		cancelReq()
		r := <-results
		if r.err != nil && err != nil {
			return 0, err // the request's own error is only our cancellation
		}
		return 0, classify(r, err)
	}
	bw := bufio.NewWriterSize(pw, 64<<10)
	sentBytes := 0
	for _, b := range *unacked {
		if _, err := bw.Write(b); err != nil {
			return fail(err)
		}
		sentBytes += len(b)
	}
	st.resent += int64(len(*unacked))
	if err := bw.Flush(); err != nil {
		return fail(err)
	}
	rotate := time.NewTimer(st.s.opts.RotateInterval)
	defer rotate.Stop()
	closing := st.closing
	for len(*unacked) < st.s.opts.RotateLines && sentBytes < st.s.opts.RotateBytes {
		batch := st.take(min(256, st.s.opts.RotateLines-len(*unacked)))
		if len(batch) > 0 {
			for _, b := range batch {
				*unacked = append(*unacked, b)
				if _, err := bw.Write(b); err != nil {
					return fail(err)
				}
				sentBytes += len(b)
			}
			if err := bw.Flush(); err != nil {
				return fail(err)
			}
			continue
		}
		if closing == nil {
			break // closed and drained
		}
		select {
		case <-st.notify:
		case <-closing:
			closing = nil // take once more, then end the body
		case <-rotate.C:
			// End the body: its lines get acknowledged, and an idle build
			// holds no request open (a server may time idle requests out).
			goto end
		case r := <-results:
			results <- r
			return fail(classify(r, errors.New("request ended early")))
		case <-st.ctx.Done():
			return fail(st.ctx.Err())
		}
	}
end:
	if err := pw.Close(); err != nil {
		return fail(err)
	}
	var r result
	answer := time.NewTimer(st.s.opts.AnswerTimeout)
	defer answer.Stop()
	select {
	case r = <-results:
	case <-answer.C:
		return fail(errors.New("no answer after the body ended"))
	case <-st.ctx.Done():
		return fail(st.ctx.Err())
	}
	if r.err != nil || r.status != http.StatusOK {
		return 0, classify(r, nil)
	}
	return len(*unacked), nil
}

func classify(r result, fallback error) error {
	switch {
	case r.err != nil:
		return r.err
	case r.status >= 400 && r.status < 500 && r.status != http.StatusTooManyRequests && r.status != http.StatusRequestTimeout:
		return fmt.Errorf("%w: status %d: %s", errPermanent, r.status, r.body)
	case r.status != 0 && r.status != http.StatusOK:
		return fmt.Errorf("log stream answered %d: %s", r.status, r.body)
	case fallback != nil:
		return fallback
	}
	return errors.New("log stream ended without an answer")
}

// reconnect spaces the requests of a stream after a failure: MinBackoff
// doubling to MaxBackoff, jittered in [d/2, d], without bound until the
// stream is closed (then no wait, and two failures end it) or cancelled.
func (s *Streamer) reconnect() retry.Policy {
	return retry.Policy{Initial: s.opts.MinBackoff, Max: s.opts.MaxBackoff, Jitter: 0.5}
}
