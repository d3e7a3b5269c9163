package planner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/refinery/refinery-worker/adapters/controlplane"
	"github.com/refinery/refinery-worker/pipeline/pep440"
	"github.com/refinery/refinery-worker/pipeline/pep508"
	"github.com/refinery/refinery-worker/pipeline/reqfile"
)

// ControlPlane is what the poller needs of the control-plane
// (controlplane.Client implements it).
type ControlPlane interface {
	PopPendingInputs(ctx context.Context, max int) ([]string, error)
	ListPendingInputs(ctx context.Context) ([]controlplane.PendingInput, error)
	PostPlan(ctx context.Context, p controlplane.PlanUpload, opts ...controlplane.CallOption) error
	SetPendingInputStatus(ctx context.Context, id, status, errMsg string, opts ...controlplane.CallOption) error
}

// Objects reads uploaded files (objstore.Store implements it).
type Objects interface {
	Get(ctx context.Context, bucket, key string) ([]byte, error)
}

// PollerConfig configures a Poller.
type PollerConfig struct {
	// Batch is how many inputs one round pops (default 5).
	Batch int
	// Interval is PLAN_POLL_INTERVAL, the pause between rounds in Run.
	Interval time.Duration
	Logger   *slog.Logger
}

// Poller plans the control-plane's pending inputs (docs/control-plane.md): it pops
// ids, looks them up in the list, reads requirements from the input's
// metadata or else from the object store, plans them and posts the plan
// with pending_input_id; a failure is reported as the input's status with
// the error. An id that was popped but is missing from the list is put back
// (status "pending") rather than forgotten. Plans made here are posted, not
// written to OUTPUT_DIR.
type Poller struct {
	cp      ControlPlane
	objects Objects
	planner *Planner
	cfg     PollerConfig
	log     *slog.Logger

	mu sync.Mutex
	// unreported holds statuses the control-plane did not take; each
	// round sends them again first, so no input is left "planning".
	unreported map[string]statusReport
}

type statusReport struct{ status, err string }

// NewPoller returns a Poller; objects may be nil when no object store is
// configured (inputs that need one then fail with a reason).
func NewPoller(cp ControlPlane, objects Objects, planner *Planner, cfg PollerConfig) *Poller {
	if cfg.Batch <= 0 {
		cfg.Batch = 5
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Poller{cp: cp, objects: objects, planner: planner, cfg: cfg, log: cfg.Logger, unreported: map[string]statusReport{}}
}

// Run polls every Interval until ctx ends. Round errors are logged, not
// returned: the next round tries again.
func (p *Poller) Run(ctx context.Context) error {
	if p.cfg.Interval <= 0 {
		return errors.New("plan poller: interval must be positive")
	}
	t := time.NewTicker(p.cfg.Interval)
	defer t.Stop()
	for {
		if _, err := p.Poll(ctx); err != nil && ctx.Err() == nil {
			p.log.ErrorContext(ctx, "plan poll round failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Poll runs one round and returns how many inputs were planned and posted.
// The error joins what could not be reported to the control-plane.
func (p *Poller) Poll(ctx context.Context) (int, error) {
	if err := p.resendStatuses(ctx); err != nil {
		return 0, err
	}
	ids, err := p.cp.PopPendingInputs(ctx, p.cfg.Batch)
	if err != nil {
		return 0, fmt.Errorf("pop pending inputs: %w", err)
	}
	if len(ids) == 0 {
		return 0, nil
	}
	list, err := p.cp.ListPendingInputs(ctx)
	if err != nil {
		return 0, errors.Join(fmt.Errorf("list pending inputs: %w", err), p.putBack(ctx, ids))
	}
	byID := make(map[string]controlplane.PendingInput, len(list))
	for _, in := range list {
		byID[in.ID] = in
	}
	planned := 0
	var errs []error
	for _, id := range ids {
		in, ok := byID[id]
		if !ok {
			p.log.WarnContext(ctx, "popped pending input is not in the list; putting it back", "id", id)
			errs = append(errs, p.putBack(ctx, []string{id}))
			continue
		}
		if err := p.planOne(ctx, in); err != nil {
			p.log.WarnContext(ctx, "pending input failed", "id", id, "file", in.Filename, "err", err)
			errs = append(errs, p.setStatus(ctx, id, "failed", err.Error()))
			continue
		}
		planned++
	}
	return planned, errors.Join(errs...)
}

func (p *Poller) putBack(ctx context.Context, ids []string) error {
	var errs []error
	for _, id := range ids {
		errs = append(errs, p.setStatus(ctx, id, "pending", ""))
	}
	return errors.Join(errs...)
}

// setStatus reports an input's status, keeping it for the next round when
// the control-plane does not take it.
func (p *Poller) setStatus(ctx context.Context, id, status, errMsg string) error {
	if err := p.cp.SetPendingInputStatus(ctx, id, status, errMsg); err != nil {
		p.mu.Lock()
		p.unreported[id] = statusReport{status, errMsg}
		p.mu.Unlock()
		return fmt.Errorf("set pending input %s to %s (kept for the next round): %w", id, status, err)
	}
	return nil
}

// resendStatuses sends the statuses earlier rounds could not.
func (p *Poller) resendStatuses(ctx context.Context) error {
	p.mu.Lock()
	pending := maps.Clone(p.unreported)
	p.mu.Unlock()
	var errs []error
	for id, r := range pending {
		err := p.cp.SetPendingInputStatus(ctx, id, r.status, r.err)
		if err != nil {
			errs = append(errs, fmt.Errorf("set pending input %s to %s: %w", id, r.status, err))
			continue
		}
		p.mu.Lock()
		if p.unreported[id] == r {
			delete(p.unreported, id)
		}
		p.mu.Unlock()
	}
	return errors.Join(errs...)
}

// planOne plans one input and posts the plan.
func (p *Poller) planOne(ctx context.Context, in controlplane.PendingInput) error {
	numeric, err := strconv.ParseInt(in.ID, 10, 64)
	if err != nil {
		return fmt.Errorf("pending input id %q is not numeric", in.ID)
	}
	input, err := p.inputOf(ctx, in)
	if err != nil {
		return err
	}
	plan, err := p.planner.Make(ctx, input)
	if err != nil {
		return err
	}
	if len(plan.Nodes) == 0 {
		return errors.New("plan: no package applies to the target")
	}
	// Retries of this post carry one key, so a retried post saves one plan.
	key := controlplane.WithIdempotencyKey("plan-input-" + in.ID + "-" + plan.RunID)
	if err := p.cp.PostPlan(ctx, controlplane.PlanUpload{Plan: *plan, PendingInputID: &numeric}, key); err != nil {
		return fmt.Errorf("post plan: %w", err)
	}
	p.log.InfoContext(ctx, "pending input planned", "id", in.ID, "run_id", plan.RunID, "packages", len(plan.Nodes))
	return nil
}

// inputMetadata is the part of a pending input's metadata the poller reads.
type inputMetadata struct {
	Type         string `json:"type"`
	Requirements []struct {
		Name    string `json:"name"`
		Version string `json:"version"`
	} `json:"requirements"`
}

// inputOf turns a pending input into planner input: from the metadata's
// requirements when present, else from the uploaded object.
func (p *Poller) inputOf(ctx context.Context, in controlplane.PendingInput) (Input, error) {
	var meta inputMetadata
	if len(in.Metadata) > 0 && string(in.Metadata) != "null" {
		if err := json.Unmarshal(in.Metadata, &meta); err != nil {
			return Input{}, fmt.Errorf("pending input metadata: %w", err)
		}
	}
	isWheel := meta.Type == "wheel" || meta.Type == "" && strings.HasSuffix(in.Filename, ".whl")
	var out Input
	if isWheel {
		out.Wheels = map[string]pep440.Version{}
	}
	for _, r := range meta.Requirements {
		if err := addRequirement(&out, r.Name, r.Version, isWheel); err != nil {
			return Input{}, err
		}
	}
	if len(out.Requirements) > 0 {
		return out, nil
	}
	if isWheel {
		name, version, ok := wheelNameVersion(in.Filename)
		if !ok {
			return Input{}, fmt.Errorf("wheel input %q: cannot read name and version from the file name", in.Filename)
		}
		return out, addRequirement(&out, name, version, true)
	}
	if p.objects == nil {
		return Input{}, errors.New("requirements must be read from the object store, which is not configured (OBJECT_STORE_*)")
	}
	data, err := p.objects.Get(ctx, in.ObjectBucket, in.ObjectKey)
	if err != nil {
		return Input{}, fmt.Errorf("fetch %s: %w", in.Filename, err)
	}
	f, err := reqfile.ParseBytes(in.Filename, data)
	if err != nil {
		return Input{}, err
	}
	out.AllowPre = f.Pre
	out.Hashes = map[string][]string{}
	for _, e := range f.Requirements {
		out.Requirements = append(out.Requirements, e.Requirement)
		hashesByName(e.Requirement.Name, e.Hashes, out.Hashes)
	}
	for _, c := range f.Constraints {
		out.Constraints = append(out.Constraints, c.Requirement)
	}
	for _, opt := range f.Ignored {
		p.log.WarnContext(ctx, "requirements option ignored: it does not change which versions are planned", "option", opt)
	}
	if len(out.Requirements) == 0 {
		return Input{}, fmt.Errorf("%s lists no requirements", in.Filename)
	}
	return out, nil
}

// addRequirement adds one metadata requirement. Versions may be exact
// ("1.2") or specifiers (">=5"); a wheel's exact version is recorded as an
// input wheel (kept by the pinned strategy) rather than as a pin.
func addRequirement(out *Input, name, version string, wheel bool) error {
	version = strings.TrimSpace(version)
	spec := version
	exact := version != "" && !strings.ContainsAny(version[:1], "<>=!~")
	if exact {
		if wheel {
			v, err := pep440.Parse(version)
			if err != nil {
				return fmt.Errorf("input wheel %s: %w", name, err)
			}
			out.Wheels[name] = v
			spec = ""
		} else {
			spec = "==" + version
		}
	}
	r, err := pep508.ParseRequirement(name + spec)
	if err != nil {
		return err
	}
	out.Requirements = append(out.Requirements, r)
	return nil
}

// wheelNameVersion reads "name-version-...whl".
func wheelNameVersion(filename string) (string, string, bool) {
	base, ok := strings.CutSuffix(filename, ".whl")
	parts := strings.Split(base, "-")
	if !ok || len(parts) < 5 {
		return "", "", false
	}
	return parts[0], parts[1], true
}
