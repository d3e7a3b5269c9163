package planner

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"

	"github.com/refinery/refinery-worker/adapters/pyindex"
	"github.com/refinery/refinery-worker/pipeline"
	"github.com/refinery/refinery-worker/pipeline/pep440"
	"github.com/refinery/refinery-worker/pipeline/pep508"
	"github.com/refinery/refinery-worker/pipeline/reqfile"
	"github.com/refinery/refinery-worker/pipeline/resolve"
)

// Files lists a project's distribution files and checks downloads
// against --hash values (pyindex.Client does both).
type Files interface {
	Project(ctx context.Context, name string) (*pyindex.Project, error)
	VerifyFile(ctx context.Context, f pyindex.File, allowed []string) error
}

// Config configures a Planner.
type Config struct {
	PythonVersion string // PYTHON_VERSION, e.g. "3.11"
	PlatformTag   string // PLATFORM_TAG, e.g. "manylinux2014_s390x"
	// OutputDir receives plan.json; "" writes nothing.
	OutputDir string
	Strategy  resolve.Strategy
	MaxDeps   int
	// MaxAttempts bounds backtracking (resolve.Options.MaxAttempts;
	// RESOLVER_MAX_ATTEMPTS).
	MaxAttempts int
	// Overrides from PLAN_OVERRIDES_JSON (resolve.ParseOverrides).
	Overrides map[string]pep440.Version
	Logger    *slog.Logger
	// NewRunID defaults to a random 12-character id.
	NewRunID func() string
}

// Planner resolves requirements and builds plans.
type Planner struct {
	index  resolve.Index
	files  Files
	cfg    Config
	target Target
	env    pep508.Env
	log    *slog.Logger
}

// New checks cfg and returns a Planner reading releases and metadata from
// index and file lists from files (usually one *pyindex.Client for both).
func New(index resolve.Index, files Files, cfg Config) (*Planner, error) {
	target, err := NewTarget(cfg.PythonVersion, cfg.PlatformTag)
	if err != nil {
		return nil, fmt.Errorf("planner target: %w", err)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.NewRunID == nil {
		cfg.NewRunID = randomRunID
	}
	return &Planner{
		index: index, files: files, cfg: cfg, target: target,
		env: pep508.TargetEnv(cfg.PythonVersion, cfg.PlatformTag), log: cfg.Logger,
	}, nil
}

// Input is everything one plan is made from.
type Input struct {
	Requirements []pep508.Requirement
	Constraints  []pep508.Requirement
	// Wheels are input wheels' versions by package name; the pinned
	// strategy keeps them (and the versions of the plan.json already in
	// OutputDir), eager ignores both and takes the newest.
	Wheels   map[string]pep440.Version
	AllowPre bool
	// Hashes are --hash values by normalised name; any turns on
	// hash-checking mode (see checkHashMode).
	Hashes map[string][]string
}

// Plan reads the requirements file at path (with its includes), resolves
// it and writes the plan.
func (p *Planner) Plan(ctx context.Context, requirementsPath string) (*pipeline.Plan, error) {
	f, err := reqfile.ParseFile(requirementsPath)
	if err != nil {
		return nil, fmt.Errorf("plan: %w", err)
	}
	if f.IndexURL != "" || len(f.ExtraIndexURLs) > 0 {
		p.log.WarnContext(ctx, "index options in the requirements file are ignored; set INDEX_URL and EXTRA_INDEX_URL",
			"file", requirementsPath)
	}
	for _, opt := range f.Ignored {
		p.log.WarnContext(ctx, "requirements option ignored: it does not change which versions are planned", "option", opt)
	}
	in := Input{AllowPre: f.Pre, Hashes: map[string][]string{}}
	for _, e := range f.Requirements {
		in.Requirements = append(in.Requirements, e.Requirement)
		hashesByName(e.Requirement.Name, e.Hashes, in.Hashes)
	}
	for _, e := range f.Constraints {
		in.Constraints = append(in.Constraints, e.Requirement)
	}
	return p.PlanInput(ctx, in)
}

// PlanRequirements resolves parsed requirement entries and writes the plan.
func (p *Planner) PlanRequirements(ctx context.Context, reqs []reqfile.Entry) (*pipeline.Plan, error) {
	in := Input{Hashes: map[string][]string{}}
	for _, e := range reqs {
		in.Requirements = append(in.Requirements, e.Requirement)
		hashesByName(e.Requirement.Name, e.Hashes, in.Hashes)
	}
	return p.PlanInput(ctx, in)
}

// PlanInput resolves in, builds the plan and writes it to OutputDir.
func (p *Planner) PlanInput(ctx context.Context, in Input) (*pipeline.Plan, error) {
	plan, err := p.Make(ctx, in)
	if err != nil {
		return nil, err
	}
	if p.cfg.OutputDir != "" {
		if err := WritePlan(p.cfg.OutputDir, plan); err != nil {
			return nil, err
		}
	}
	return plan, nil
}

// Make resolves in and builds the plan without writing it anywhere.
func (p *Planner) Make(ctx context.Context, in Input) (*pipeline.Plan, error) {
	if err := checkHashMode(in); err != nil {
		return nil, fmt.Errorf("plan: %w", err)
	}
	preferred := map[string]pep440.Version{}
	if p.cfg.Strategy != resolve.Eager {
		preferred = p.previousVersions(ctx)
	}
	for name, v := range in.Wheels {
		preferred[pep508.NormalizeName(name)] = v
	}
	r := resolve.New(p.index, resolve.Options{
		Env: p.env, Strategy: p.cfg.Strategy, MaxDeps: p.cfg.MaxDeps, MaxAttempts: p.cfg.MaxAttempts, Overrides: p.cfg.Overrides,
		Preferred: preferred, Constraints: in.Constraints, AllowPre: in.AllowPre, Logger: p.log,
	})
	res, err := r.Resolve(ctx, in.Requirements)
	if err != nil {
		return nil, fmt.Errorf("plan: %w", err)
	}
	if err := checkResolvedHashed(in, res); err != nil {
		return nil, fmt.Errorf("plan: %w", err)
	}
	for _, name := range res.UnusedOverrides {
		p.log.WarnContext(ctx, "PLAN_OVERRIDES_JSON names a project nothing requires; the override has no effect", "package", name)
	}
	plan, err := p.build(ctx, res, in.Hashes)
	if err != nil {
		return nil, err
	}
	p.log.InfoContext(ctx, "plan made", "run_id", plan.RunID, "packages", len(plan.Nodes))
	return plan, nil
}

// build makes one node per resolved package.
func (p *Planner) build(ctx context.Context, res *resolve.Resolution, hashes map[string][]string) (*pipeline.Plan, error) {
	plan := &pipeline.Plan{RunID: p.cfg.NewRunID(), Nodes: []pipeline.PlanNode{}}
	for _, pkg := range res.Packages {
		node, err := p.node(ctx, pkg, hashes[pkg.Name])
		if err != nil {
			return nil, err
		}
		plan.Nodes = append(plan.Nodes, node)
	}
	return plan, nil
}

// node plans one package. With allowed hashes (hash-checking mode) only
// files the hashes name are considered, and each is downloaded and
// checked.
func (p *Planner) node(ctx context.Context, pkg resolve.Package, allowed []string) (pipeline.PlanNode, error) {
	node := pipeline.PlanNode{Name: pkg.Name, Version: pkg.Version.String()}
	if !pkg.DependenciesKnown {
		// An sdist whose metadata does not declare its dependencies
		// statically (Metadata-Version < 2.2 or Dynamic: Requires-Dist):
		// the plan says so rather than passing for complete.
		node.Extra = map[string]json.RawMessage{"metadata": json.RawMessage(`{"dependencies":"unknown"}`)}
		p.log.WarnContext(ctx, "dependencies unknown: the plan may miss what this package needs at build time",
			"package", pkg.Name, "version", node.Version)
	}
	project, err := p.files.Project(ctx, pkg.Name)
	if err != nil {
		return node, fmt.Errorf("plan %s: %w", pkg.Name, err)
	}
	files := hashedFiles(project.FilesOf(pkg.Version), allowed)
	if allowed != nil {
		if len(files) == 0 {
			return node, fmt.Errorf("plan %s %s: %w: no file of this release has a hash the requirements allow",
				pkg.Name, node.Version, pyindex.ErrHashMismatch)
		}
		for _, f := range files {
			if err := p.files.VerifyFile(ctx, f, allowed); err != nil {
				return node, fmt.Errorf("plan %s %s: %w", pkg.Name, node.Version, err)
			}
		}
	}
	if m, ok := p.reusable(files); ok {
		node.Action = pipeline.ActionReuse
		node.PythonTag, node.PlatformTag = m.python, m.platform
		return node, nil
	}
	node.Action = pipeline.ActionBuild
	node.PythonVersion = p.target.PythonVersion()
	node.PythonTag = p.target.PythonTag()
	node.PlatformTag = p.target.PlatformTag
	return node, nil
}

// reusable returns the best tag of the best compatible wheel, preferring
// files that are not yanked.
func (p *Planner) reusable(files []pyindex.File) (match, bool) {
	type cand struct {
		m      match
		yanked bool
	}
	var cands []cand
	for _, f := range files {
		if f.Kind != pyindex.Wheel {
			continue
		}
		if m, ok := p.target.bestTag(f.Tags); ok {
			cands = append(cands, cand{m, f.Yanked})
		}
	}
	if len(cands) == 0 {
		return match{}, false
	}
	best := slices.MinFunc(cands, func(a, b cand) int {
		if a.yanked != b.yanked {
			if a.yanked {
				return 1
			}
			return -1
		}
		switch {
		case a.m.better(b.m):
			return -1
		case b.m.better(a.m):
			return 1
		}
		return 0
	})
	return best.m, true
}

const runIDAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789"

// randomRunID returns 12 random lowercase letters and digits.
func randomRunID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	for i := range b {
		b[i] = runIDAlphabet[int(b[i])%len(runIDAlphabet)]
	}
	return string(b)
}
