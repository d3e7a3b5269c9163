package planner

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/refinery/refinery-worker/pipeline"
	"github.com/refinery/refinery-worker/pipeline/pep440"
	"github.com/refinery/refinery-worker/pipeline/pep508"
)

// previousVersions returns the versions of the plan.json already in
// OutputDir, by normalised name: the pinned strategy keeps them where the
// requirements still allow, so that planning again does not move packages
// to newer releases (eager takes the newest instead). A missing plan
// gives none; an unreadable one is logged and ignored.
func (p *Planner) previousVersions(ctx context.Context) map[string]pep440.Version {
	out := map[string]pep440.Version{}
	if p.cfg.OutputDir == "" {
		return out
	}
	path := filepath.Join(p.cfg.OutputDir, PlanFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return out
	}
	var plan *pipeline.Plan
	if err == nil {
		plan, err = pipeline.DecodePlan(b)
	}
	if err != nil {
		p.log.WarnContext(ctx, "previous plan unreadable; pinned strategy keeps no versions from it", "path", path, "err", err)
		return out
	}
	for _, n := range plan.Nodes {
		if v, err := pep440.Parse(n.Version); err == nil {
			out[pep508.NormalizeName(n.Name)] = v
		}
	}
	return out
}
