package pyindex

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// DefaultTimeout bounds each wait on an index when Config.Timeout is 0,
// as pip's default --timeout.
const DefaultTimeout = 30 * time.Second

// ErrTimeout is wrapped when an index leaves a request unanswered for
// longer than the timeout.
var ErrTimeout = errors.New("index timeout")

// idleTimeout is a RoundTripper that cancels a request when the index
// stays silent for longer than d: while connecting, before the response
// headers, and between reads of the body. A slow but steady download is
// not cut short.
type idleTimeout struct {
	next http.RoundTripper
	d    time.Duration
}

func (t idleTimeout) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithCancelCause(req.Context())
	cause := fmt.Errorf("%w: no answer from %s within %s", ErrTimeout, req.URL.Host, t.d)
	w := &watchdog{timer: time.AfterFunc(t.d, func() { cancel(cause) }), d: t.d}
	resp, err := t.next.RoundTrip(req.WithContext(ctx))
	if err != nil {
		w.stop()
		cancel(nil)
		if context.Cause(ctx) == cause {
			return nil, cause
		}
		return nil, err
	}
	w.reset()
	resp.Body = &watchedBody{ReadCloser: resp.Body, w: w, ctx: ctx, cause: cause, cancel: cancel}
	return resp, nil
}

type watchdog struct {
	mu    sync.Mutex
	timer *time.Timer
	d     time.Duration
}

func (w *watchdog) reset() {
	w.mu.Lock()
	w.timer.Reset(w.d)
	w.mu.Unlock()
}

func (w *watchdog) stop() {
	w.mu.Lock()
	w.timer.Stop()
	w.mu.Unlock()
}

// watchedBody restarts the watchdog on every read.
type watchedBody struct {
	io.ReadCloser
	w      *watchdog
	ctx    context.Context
	cause  error
	cancel context.CancelCauseFunc
}

func (b *watchedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF && context.Cause(b.ctx) == b.cause {
		return n, b.cause
	}
	b.w.reset()
	return n, err
}

func (b *watchedBody) Close() error {
	b.w.stop()
	err := b.ReadCloser.Close()
	b.cancel(nil)
	return err
}
