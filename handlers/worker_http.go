package handlers

import "github.com/labstack/echo/v4"

// WorkerHTTPOptions are the endpoints of a serving worker: NewHTTP's, the
// operator endpoints (their Status is built from Status) and, with
// SimpleDir, the wheel index.
type WorkerHTTPOptions struct {
	HTTPOptions
	Ops    OpsOptions
	Status StatusSources
	// SimpleDir, when set, is served read-only at /simple/ (INDEX_SERVE).
	SimpleDir string
}

// NewWorkerHTTP builds every endpoint of a serving worker.
func NewWorkerHTTP(o WorkerHTTPOptions) (*echo.Echo, error) {
	e := NewHTTP(o.HTTPOptions)
	o.Ops.Status = NewStatus(o.Status).Doc
	AddOps(e, o.Token, o.Ops)
	if o.SimpleDir != "" {
		if err := AddSimple(e, o.SimpleDir); err != nil {
			return nil, err
		}
	}
	return e, nil
}
