// Package controlplane is the worker's client for the refinery control-plane
// HTTP API (docs/control-plane.md). Every call sends X-Worker-Token
// when a token is configured, runs each attempt under a timeout, and retries
// network errors, 5xx and 429 with exponential backoff and jitter, a bounded
// number of times. Other 4xx answers are not retried: they come back as an
// *HTTPError carrying the status and the response body.
package controlplane

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cenkalti/backoff/v5"

	"github.com/refinery/refinery-worker/pipeline/retry"
)

// IdempotencyHeader carries a delivery's idempotency key.
const IdempotencyHeader = "Idempotency-Key"

// Options configures a Client.
type Options struct {
	// BaseURL is the control-plane root, e.g. http://cp:8080 (CONTROL_PLANE_URL).
	// Required; "/api/..." paths are appended to it.
	BaseURL string
	// Token is sent as X-Worker-Token on every call when non-empty
	// (CONTROL_PLANE_TOKEN).
	Token string
	// HTTPClient sends the requests. Default: a client with its own clone of
	// http.DefaultTransport and no overall timeout (see RequestTimeout).
	HTTPClient *http.Client
	// RequestTimeout bounds one attempt of one call. Default 30s; must be >= 0.
	RequestTimeout time.Duration
	// MaxAttempts bounds the attempts of one call (1 = no retry). Default 4.
	MaxAttempts int
	// BaseBackoff is the wait before the first retry; it doubles per retry,
	// with jitter (a uniform draw in [d/2, d]). Default 250ms.
	BaseBackoff time.Duration
	// MaxBackoff caps one wait (and a server's Retry-After). Default 5s.
	MaxBackoff time.Duration
	// Logger receives one line per retried attempt. Default slog.Default().
	Logger *slog.Logger
}

// Client talks to one control-plane. It is safe for concurrent use.
type Client struct {
	base *url.URL
	opts Options
	hc   *http.Client
	log  *slog.Logger
	// retry is how Send retries: MaxAttempts attempts, BaseBackoff doubling
	// to MaxBackoff between them, jittered in [d/2, d].
	retry retry.Policy
}

// New checks opts and returns a Client.
func New(opts Options) (*Client, error) {
	if opts.BaseURL == "" {
		return nil, errors.New("controlplane: base URL is required")
	}
	u, err := url.Parse(strings.TrimRight(opts.BaseURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("controlplane: base URL %q is not an http(s) URL", opts.BaseURL)
	}
	if opts.RequestTimeout < 0 || opts.MaxAttempts < 0 || opts.BaseBackoff < 0 || opts.MaxBackoff < 0 {
		return nil, errors.New("controlplane: timeouts, attempts and backoffs must not be negative")
	}
	if opts.RequestTimeout == 0 {
		opts.RequestTimeout = 30 * time.Second
	}
	if opts.MaxAttempts == 0 {
		opts.MaxAttempts = 4
	}
	if opts.BaseBackoff == 0 {
		opts.BaseBackoff = 250 * time.Millisecond
	}
	if opts.MaxBackoff == 0 {
		opts.MaxBackoff = 5 * time.Second
	}
	hc := opts.HTTPClient
	if hc == nil {
		hc = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Client{base: u, opts: opts, hc: hc, log: log, retry: retry.Policy{Initial: opts.BaseBackoff,
		Max: opts.MaxBackoff, MaxAttempts: opts.MaxAttempts, Jitter: 0.5}}, nil
}

// HTTPError is a non-2xx answer.
type HTTPError struct {
	Method string
	Path   string
	Status int
	// Body is the response body, cut to 4 KiB.
	Body string
}

func (e *HTTPError) Error() string {
	return fmt.Sprintf("%s %s: status %d: %s", e.Method, e.Path, e.Status, strings.TrimSpace(e.Body))
}

// Retryable reports whether the answer may change on a later attempt (5xx, 429).
func (e *HTTPError) Retryable() bool {
	return e.Status >= 500 || e.Status == http.StatusTooManyRequests
}

// TransportError is a failure to get any answer (connection refused or reset,
// attempt timeout, broken body). It is always retryable.
type TransportError struct {
	Method, Path string
	Err          error
}

func (e *TransportError) Error() string { return fmt.Sprintf("%s %s: %v", e.Method, e.Path, e.Err) }
func (e *TransportError) Unwrap() error { return e.Err }

// Retryable is always true.
func (e *TransportError) Retryable() bool { return true }

// IsRetryable reports whether err is worth another attempt later: a transport
// error, a 5xx or a 429. A cancelled caller context is not.
func IsRetryable(err error) bool {
	var r interface{ Retryable() bool }
	return errors.As(err, &r) && r.Retryable()
}

// Request is one raw call, for callers that store encoded bodies (the outbox).
type Request struct {
	Method string // default POST
	// Path starts with "/api/"; it may carry a query.
	Path string
	// Body is sent as is; nil sends no body.
	Body []byte
	// ContentType defaults to application/json when Body is set.
	ContentType string
	// IdempotencyKey, when set, is sent as the Idempotency-Key header.
	IdempotencyKey string
	// MaxAttempts, when > 0, replaces Options.MaxAttempts for this call: a
	// caller with its own redelivery (the outbox) sends 1, so that retries
	// are not nested.
	MaxAttempts int
}

// Send performs req with retries and returns the response body of the 2xx answer.
func (c *Client) Send(ctx context.Context, req Request) ([]byte, error) {
	if req.Method == "" {
		req.Method = http.MethodPost
	}
	p := c.retry
	if req.MaxAttempts > 0 {
		p.MaxAttempts = req.MaxAttempts
	}
	var body []byte
	var last error
	err := retry.Do(ctx, p, func(ctx context.Context) error {
		b, wait, err := c.once(ctx, req)
		if err == nil {
			body = b
			return nil
		}
		last = err
		switch {
		case ctx.Err() != nil || !IsRetryable(err):
			return backoff.Permanent(err)
		case wait > 0:
			return errors.Join(err, &backoff.RetryAfterError{Duration: wait})
		}
		return err
	}, func(r retry.Retry) {
		c.log.Warn("control-plane call failed, retrying", "method", req.Method, "path", req.Path,
			"attempt", r.Attempt, "wait", r.Wait, "err", last)
	})
	switch {
	case err == nil:
		return body, nil
	case ctx.Err() != nil:
		return nil, fmt.Errorf("%s %s: %w (last error: %v)", req.Method, req.Path, context.Cause(ctx), last)
	case last != nil:
		return nil, last
	}
	return nil, err
}

// once performs one attempt; wait is a server-requested Retry-After.
func (c *Client) once(ctx context.Context, req Request) ([]byte, time.Duration, error) {
	actx, cancel := context.WithTimeout(ctx, c.opts.RequestTimeout)
	defer cancel()
	var body io.Reader
	if req.Body != nil {
		body = bytes.NewReader(req.Body)
	}
	hr, err := c.newRequest(actx, req.Method, req.Path, body)
	if err != nil {
		return nil, 0, err
	}
	if req.Body != nil {
		ct := req.ContentType
		if ct == "" {
			ct = "application/json"
		}
		hr.Header.Set("Content-Type", ct)
	}
	if req.IdempotencyKey != "" {
		hr.Header.Set(IdempotencyHeader, req.IdempotencyKey)
	}
	resp, err := c.hc.Do(hr)
	if err != nil {
		return nil, 0, &TransportError{Method: req.Method, Path: req.Path, Err: err}
	}
	defer resp.Body.Close()
	rb, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, 0, &TransportError{Method: req.Method, Path: req.Path, Err: fmt.Errorf("read answer: %w", err)}
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return rb, 0, nil
	}
	var wait time.Duration
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
		wait = time.Duration(s) * time.Second
	}
	if len(rb) > 4096 {
		rb = rb[:4096]
	}
	return nil, wait, &HTTPError{Method: req.Method, Path: req.Path, Status: resp.StatusCode, Body: string(rb)}
}

func (c *Client) newRequest(ctx context.Context, method, path string, body io.Reader) (*http.Request, error) {
	ref, err := url.Parse(path)
	if err != nil {
		return nil, fmt.Errorf("controlplane: bad path %q: %w", path, err)
	}
	u := *c.base
	u.Path = c.base.Path + ref.Path
	u.RawPath = ""
	if ref.RawPath != "" {
		u.RawPath = c.base.EscapedPath() + ref.RawPath
	}
	u.RawQuery = ref.RawQuery
	hr, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return nil, fmt.Errorf("controlplane: build request: %w", err)
	}
	if c.opts.Token != "" {
		hr.Header.Set("X-Worker-Token", c.opts.Token)
	}
	hr.Header.Set("Accept", "application/json")
	return hr, nil
}
