package handlers

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/refinery/refinery-worker/pipeline"
)

// Drains starts drains (joining a running one) and reports the current one.
type Drains interface {
	Start(ctx context.Context) (*pipeline.Drain, bool, error)
	Current() *pipeline.Drain
}

// ReadyCheck is one named readiness check; nil error means ready.
type ReadyCheck struct {
	Name  string
	Check func(ctx context.Context) error
	// Advisory, when set and true for the check's error, reports the error
	// under checks and degraded without making the worker not ready.
	Advisory func(error) bool
}

// Planner regenerates the plan (POST /plan). Regenerate starts planning and
// returns the plan when it is ready within wait, else only the job id to
// fetch it by later (GET /plan/jobs/{id}). Nil means no planning.
type Planner interface {
	Regenerate(ctx context.Context, wait time.Duration) (plan *pipeline.Plan, jobID string, err error)
	Job(id string) (plan *pipeline.Plan, done bool, err error, found bool)
}

// PlanBudget is how long POST /plan waits for a plan before it answers 202:
// the control-plane gives up after 30 s.
const PlanBudget = 25 * time.Second

// HTTPOptions configure the control endpoints.
type HTTPOptions struct {
	Token     string // WORKER_TOKEN; empty = no token required
	BodyLimit string // default "1M"
	Drains    Drains
	Plans     PlanSource
	Planner   Planner // optional
	Ready     []ReadyCheck
	Logger    *slog.Logger
}

// NewHTTP builds the Echo server with /health, /ready, /trigger and /plan.
// Errors are JSON ({"error": ..., "request_id": ...}) everywhere.
func NewHTTP(o HTTPOptions) *echo.Echo {
	if o.BodyLimit == "" {
		o.BodyLimit = "1M"
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = jsonErrors(o.Logger)
	e.Use(middleware.RequestID(), middleware.Recover(), middleware.BodyLimit(o.BodyLimit), readChunked, accessLog(o.Logger))
	h := &httpHandlers{o: o}
	e.GET("/health", h.health)
	e.GET("/ready", h.ready)
	e.POST("/trigger", h.trigger, h.auth)
	e.GET("/plan", h.getPlan)
	e.POST("/plan", h.postPlan, h.auth)
	e.GET("/plan/jobs/:id", h.planJob, h.auth)
	return e
}

// Serve runs e on addr with server timeouts until ctx ends, then shuts it
// down within grace.
func Serve(ctx context.Context, e *echo.Echo, addr string, grace time.Duration) error {
	srv := &http.Server{Addr: addr, Handler: e, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 60 * time.Second, IdleTimeout: 120 * time.Second, MaxHeaderBytes: 64 << 10}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve http on %s: %w", addr, err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), grace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shut down http: %w", err)
	}
	return nil
}

// Server is Serve as a value whose Run can be handed to what runs it.
type Server struct {
	Echo *echo.Echo
	Addr string
	// ShutdownTimeout bounds the shutdown once Run's ctx ends.
	ShutdownTimeout time.Duration
}

// Run serves until ctx ends (Serve).
func (s Server) Run(ctx context.Context) error { return Serve(ctx, s.Echo, s.Addr, s.ShutdownTimeout) }

type httpHandlers struct{ o HTTPOptions }

// auth requires X-Worker-Token when a token is configured, compared in
// constant time (over SHA-256 digests, so the length does not leak either).
func (h *httpHandlers) auth(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if h.o.Token == "" {
			return next(c)
		}
		got := sha256.Sum256([]byte(c.Request().Header.Get("X-Worker-Token")))
		want := sha256.Sum256([]byte(h.o.Token))
		if subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
			return echo.NewHTTPError(http.StatusUnauthorized, "invalid worker token")
		}
		return next(c)
	}
}

func (h *httpHandlers) health(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

func (h *httpHandlers) ready(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 5*time.Second)
	defer cancel()
	checks := map[string]string{}
	var failed, degraded []string
	for _, chk := range h.o.Ready {
		if err := chk.Check(ctx); err != nil {
			checks[chk.Name] = err.Error()
			if chk.Advisory != nil && chk.Advisory(err) {
				degraded = append(degraded, chk.Name)
				continue
			}
			failed = append(failed, chk.Name)
			continue
		}
		checks[chk.Name] = "ok"
	}
	body := map[string]any{"ready": len(failed) == 0, "checks": checks}
	if len(degraded) > 0 {
		body["degraded"] = degraded
	}
	if len(failed) > 0 {
		body["error"] = "not ready: " + strings.Join(failed, ", ")
		return c.JSON(http.StatusServiceUnavailable, body)
	}
	return c.JSON(http.StatusOK, body)
}

type triggerRequest struct {
	Action string `json:"action"`
}

func (h *httpHandlers) trigger(c echo.Context) error {
	var req triggerRequest
	if err := decodeOptionalJSON(c.Request().Body, &req); err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, err.Error())
	}
	if req.Action != "" && req.Action != "drain" {
		return echo.NewHTTPError(http.StatusBadRequest, fmt.Sprintf("action: %q is not supported (drain)", req.Action))
	}
	d, joined, err := h.o.Drains.Start(c.Request().Context())
	if err != nil {
		return echo.NewHTTPError(http.StatusServiceUnavailable, err.Error())
	}
	return c.JSON(http.StatusAccepted, map[string]any{"drain_id": d.ID, "joined": joined, "status": "accepted"})
}

func (h *httpHandlers) getPlan(c echo.Context) error {
	plan, src, err := h.o.Plans.Current(c.Request().Context())
	if err != nil {
		code := http.StatusInternalServerError
		if errors.Is(err, ErrNoPlan) {
			code = http.StatusNotFound
		}
		return echo.NewHTTPError(code, err.Error())
	}
	c.Response().Header().Set("X-Plan-Source", src)
	return c.JSON(http.StatusOK, plan)
}

func (h *httpHandlers) postPlan(c echo.Context) error {
	if h.o.Planner == nil {
		return echo.NewHTTPError(http.StatusNotImplemented, "plan generation is not available in this worker yet")
	}
	plan, jobID, err := h.o.Planner.Regenerate(c.Request().Context(), PlanBudget)
	if err != nil {
		return echo.NewHTTPError(http.StatusUnprocessableEntity, err.Error())
	}
	if plan == nil {
		return c.JSON(http.StatusAccepted, map[string]string{"job": jobID, "status": "running", "poll": "/plan/jobs/" + jobID})
	}
	return c.JSON(http.StatusOK, withDAG(plan))
}

func (h *httpHandlers) planJob(c echo.Context) error {
	if h.o.Planner == nil {
		return echo.NewHTTPError(http.StatusNotImplemented, "plan generation is not available in this worker")
	}
	plan, done, err, found := h.o.Planner.Job(c.Param("id"))
	switch {
	case !found:
		return echo.NewHTTPError(http.StatusNotFound, "no plan job "+c.Param("id"))
	case !done:
		return c.JSON(http.StatusAccepted, map[string]string{"job": c.Param("id"), "status": "running"})
	case err != nil:
		return echo.NewHTTPError(http.StatusUnprocessableEntity, err.Error())
	}
	return c.JSON(http.StatusOK, withDAG(plan))
}

// withDAG makes the answer carry "dag" (null when absent), as the
// control-plane expects {"run_id","plan","dag"}.
func withDAG(p *pipeline.Plan) any {
	b, _ := json.Marshal(p)
	var m map[string]json.RawMessage
	_ = json.Unmarshal(b, &m)
	if _, ok := m["dag"]; !ok {
		m["dag"] = json.RawMessage("null")
	}
	return m
}

// decodeOptionalJSON decodes a JSON object body; an empty body is fine. The
// error names the field when the JSON has a wrong type.
func decodeOptionalJSON(r io.Reader, v any) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return fmt.Errorf("read body: %w", err)
	}
	if len(strings.TrimSpace(string(b))) == 0 {
		return nil
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		var se *json.SyntaxError
		switch {
		case errors.As(err, &te):
			return fmt.Errorf("%s: must be %s", te.Field, te.Type)
		case errors.As(err, &se):
			return fmt.Errorf("body: malformed JSON at byte %d: %v", se.Offset, se)
		case errors.Is(err, io.ErrUnexpectedEOF):
			return errors.New("body: malformed JSON: unexpected end of input")
		}
		return fmt.Errorf("body: %v", err)
	}
	return nil
}

func jsonErrors(log *slog.Logger) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		code, msg := http.StatusInternalServerError, "internal error"
		var he *echo.HTTPError
		if errors.As(err, &he) {
			code = he.Code
			msg = fmt.Sprint(he.Message)
			if code == http.StatusRequestEntityTooLarge {
				msg = "request body too large"
			}
		} else if log != nil {
			log.Error("http handler", "path", c.Path(), "err", err)
		}
		rid := c.Response().Header().Get(echo.HeaderXRequestID)
		if c.Request().Method == http.MethodHead {
			_ = c.NoContent(code)
			return
		}
		_ = c.JSON(code, map[string]string{"error": msg, "request_id": rid})
	}
}

func accessLog(log *slog.Logger) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			err := next(c)
			if log != nil && c.Path() != "/health" {
				status := c.Response().Status
				var he *echo.HTTPError
				if errors.As(err, &he) {
					status = he.Code
				}
				log.Debug("http", "method", c.Request().Method, "path", c.Request().URL.Path, "status", status,
					"request_id", c.Response().Header().Get(echo.HeaderXRequestID), "duration", time.Since(start))
			}
			return err
		}
	}
}
