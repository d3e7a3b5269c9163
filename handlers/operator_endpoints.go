package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// Pauser stops and restarts the taking of new items; builds in flight are
// not touched.
type Pauser interface {
	Pause(reason string)
	Resume()
}

// Canceller stops one build by correlation id or job id.
type Canceller interface {
	Cancel(id string, requeue bool) bool
}

// OpsOptions add the operator endpoints: /metrics, /status, /pause,
// /resume and /builds/{id}/cancel.
type OpsOptions struct {
	Metrics http.Handler // nil: no /metrics
	Status  func() any   // the /status document
	Pause   Pauser
	Cancel  Canceller
}

// AddOps registers the operator endpoints on e; the token protects all of
// them but /metrics.
func AddOps(e *echo.Echo, token string, o OpsOptions) {
	h := &httpHandlers{o: HTTPOptions{Token: token}}
	if o.Metrics != nil {
		e.GET("/metrics", echo.WrapHandler(o.Metrics))
	}
	e.GET("/status", func(c echo.Context) error { return c.JSON(http.StatusOK, o.Status()) }, h.auth)
	e.POST("/pause", func(c echo.Context) error {
		o.Pause.Pause("paused by operator")
		return c.JSON(http.StatusOK, map[string]any{"paused": true})
	}, h.auth)
	e.POST("/resume", func(c echo.Context) error {
		o.Pause.Resume()
		return c.JSON(http.StatusOK, map[string]any{"paused": false})
	}, h.auth)
	e.POST("/builds/:id/cancel", func(c echo.Context) error {
		var body struct {
			Requeue bool `json:"requeue"`
		}
		if err := decodeOptionalJSON(c.Request().Body, &body); err != nil {
			return echo.NewHTTPError(http.StatusBadRequest, err.Error())
		}
		if c.QueryParam("requeue") == "true" {
			body.Requeue = true
		}
		id := c.Param("id")
		if !o.Cancel.Cancel(id, body.Requeue) {
			return echo.NewHTTPError(http.StatusNotFound, "no build in flight with id "+id)
		}
		return c.JSON(http.StatusAccepted, map[string]any{"cancelled": id, "requeue": body.Requeue})
	}, h.auth)
}
