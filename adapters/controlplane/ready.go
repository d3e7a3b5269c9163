package controlplane

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
)

// SmokeResult is the answer of POST /api/worker/smoke.
type SmokeResult struct {
	Detail      string `json:"detail"`
	QueueLength int    `json:"queue_length"`
}

// Smoke sends POST /api/worker/smoke (newer control-plane, token-checked):
// proof that the URL and the token are right. One attempt; a 404 is
// ErrNotSupported (wrapped).
func (c *Client) Smoke(ctx context.Context) (SmokeResult, error) {
	b, _, err := c.once(ctx, Request{Method: http.MethodPost, Path: "/api/worker/smoke"})
	var he *HTTPError
	if errors.As(err, &he) && he.Status == http.StatusNotFound {
		return SmokeResult{}, fmt.Errorf("smoke: %w", ErrNotSupported)
	}
	if err != nil {
		return SmokeResult{}, err
	}
	var out SmokeResult
	if err := json.Unmarshal(b, &out); err != nil {
		return SmokeResult{}, fmt.Errorf("decode smoke answer: %w", err)
	}
	return out, nil
}

// Check is the control-plane check of /ready: the smoke route where the
// control-plane has it, else a cheap read that carries the token (GET
// /api/settings; the older control-plane checks the token on no read, so
// only reachability is proved there). One attempt each. A rejected token
// is an error for which Unreachable is false; a control-plane that cannot
// be reached (or answers 5xx/429) gives one for which it is true.
func (c *Client) Check(ctx context.Context) error {
	_, err := c.Smoke(ctx)
	if errors.Is(err, ErrNotSupported) {
		_, _, err = c.once(ctx, Request{Method: http.MethodGet, Path: "/api/settings"})
	}
	var he *HTTPError
	if errors.As(err, &he) && (he.Status == http.StatusUnauthorized || he.Status == http.StatusForbidden) {
		return fmt.Errorf("control-plane rejects the worker token (CONTROL_PLANE_TOKEN): %w", err)
	}
	if err != nil {
		return fmt.Errorf("control-plane: %w", err)
	}
	return nil
}

// Unreachable reports whether a Check error only says the control-plane
// cannot be reached now (transport error, 5xx, 429): reports wait in the
// outbox meanwhile, so it is not a reason to stop consuming.
func Unreachable(err error) bool {
	return err != nil && IsRetryable(err)
}
