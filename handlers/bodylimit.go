package handlers

import (
	"bytes"
	"errors"
	"io"
	"net/http"

	"github.com/labstack/echo/v4"
)

// readChunked reads a body of unknown length (chunked) before the handler
// runs, through the body limit before it, so that an oversized one is
// answered 413 on every route, whether or not the handler reads its body,
// never 400 or 422 from a handler that met the limit half-way.
func readChunked(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		if req.ContentLength >= 0 || req.Body == nil || req.Body == http.NoBody {
			return next(c)
		}
		b, err := io.ReadAll(req.Body)
		var he *echo.HTTPError
		switch {
		case errors.As(err, &he):
			return he
		case err != nil:
			return echo.NewHTTPError(http.StatusBadRequest, "read body: "+err.Error())
		}
		req.Body, req.ContentLength = io.NopCloser(bytes.NewReader(b)), int64(len(b))
		return next(c)
	}
}
