package handlers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"github.com/refinery/refinery-worker/pipeline"
	"github.com/refinery/refinery-worker/pipeline/pep440"
)

// MatchDefaults fill what neither the request nor the plan node says.
type MatchDefaults struct {
	PythonVersion string // PYTHON_VERSION
	PlatformTag   string // PLATFORM_TAG
	// Overrides are PLAN_OVERRIDES_JSON: normalised name → version. An
	// override replaces the version of that package's plan node.
	Overrides map[string]string
}

// Match implements docs/control-plane.md "Matching": a request matches the node
// with its normalised name, its version (empty request version = the node's)
// and, where the request names tags, the same tags. reuse nodes become reused
// outcomes, no node becomes unmatched, build nodes become jobs.
type Match struct{ d MatchDefaults }

// NewMatch builds the match stage.
func NewMatch(d MatchDefaults) *Match { return &Match{d: d} }

// Handle is the stage.
func (m *Match) Handle(_ context.Context, w *pipeline.Work) (string, error) {
	req := w.Request
	node, ok := m.find(req, w.Plan.Nodes)
	if w.Plan.Source == PlanNone && len(w.Plan.Nodes) == 1 {
		node, ok = w.Plan.Nodes[0], true // the version asked, no override
	}
	if !ok {
		want := req.Name
		if req.Version != "" {
			want += " " + req.Version
		}
		w.Result = &pipeline.Result{Status: pipeline.StatusUnmatched,
			Error: fmt.Sprintf("no node for %s in plan %s (%s)", want, w.Plan.RunID, w.Plan.Source)}
		return pipeline.TopicResults, nil
	}
	job, err := m.job(w, node)
	if err != nil {
		w.Result = &pipeline.Result{Status: pipeline.StatusFailed, Reason: "bad_plan_node", Error: err.Error()}
		return pipeline.TopicResults, nil
	}
	w.Job = job
	w.Plan.Nodes = nil // matched: later stages need only the plan's identity
	if node.Action == pipeline.ActionReuse {
		w.Result = &pipeline.Result{Status: pipeline.StatusReused, Metadata: map[string]any{"plan_action": "reuse"}}
		return pipeline.TopicResults, nil
	}
	return pipeline.TopicJobs, nil
}

func (m *Match) find(req *pipeline.Request, nodes []pipeline.PlanNode) (pipeline.PlanNode, bool) {
	for _, n := range nodes {
		v := m.nodeVersion(n)
		if req.Version != "" && !sameVersion(v, req.Version) {
			continue
		}
		if req.PythonTag != "" && n.PythonTag != "" && n.PythonTag != req.PythonTag {
			continue
		}
		if req.PlatformTag != "" && n.PlatformTag != "" && n.PlatformTag != req.PlatformTag {
			continue
		}
		n.Version = v
		return n, true
	}
	return pipeline.PlanNode{}, false
}

func (m *Match) nodeVersion(n pipeline.PlanNode) string {
	if v, ok := m.d.Overrides[pipeline.NormalizeName(n.Name)]; ok {
		return v
	}
	return n.Version
}

// sameVersion compares by PEP 440 (6.4 == 6.4.0), falling back to the
// strings when either does not parse.
func sameVersion(a, b string) bool {
	va, erra := pep440.Parse(a)
	vb, errb := pep440.Parse(b)
	if erra != nil || errb != nil {
		return a == b
	}
	return pep440.Compare(va, vb) == 0
}

// job builds the job from request and node, validating what the plan adds
// (a plan is input from another system too).
func (m *Match) job(w *pipeline.Work, n pipeline.PlanNode) (*pipeline.Job, error) {
	req := w.Request
	if !pipeline.ValidName(n.Name) {
		return nil, fmt.Errorf("plan node name %q is not a valid package name", n.Name)
	}
	version, err := pipeline.NormalizeVersion(n.Version)
	if err != nil {
		return nil, fmt.Errorf("plan node %s: version %q is not PEP 440", n.Name, n.Version)
	}
	j := &pipeline.Job{
		Name:          req.Name,
		Display:       n.Name,
		Version:       version,
		PythonVersion: first(req.PythonVersion, n.PythonVersion, m.d.PythonVersion),
		PythonTag:     first(req.PythonTag, n.PythonTag, pythonTag(first(req.PythonVersion, n.PythonVersion, m.d.PythonVersion))),
		PlatformTag:   first(req.PlatformTag, n.PlatformTag, m.d.PlatformTag),
		Attempt:       req.Item.Attempts + 1,
		RunID:         first(req.Item.RunID, w.Plan.RunID),
	}
	for field, v := range map[string]string{"python_tag": j.PythonTag, "platform_tag": j.PlatformTag} {
		if !pipeline.ValidTag(v) {
			return nil, fmt.Errorf("plan node %s: %s %q is not a tag", n.Name, field, v)
		}
	}
	nodeRecipes := make([]string, 0, len(n.Recipes))
	for _, r := range n.Recipes {
		if err := pipeline.ValidateRecipe(r.Name); err != nil {
			return nil, fmt.Errorf("plan node %s: recipe %w", n.Name, err)
		}
		nodeRecipes = append(nodeRecipes, r.Name)
	}
	j.Recipes = pipeline.MergeRecipes(req.Recipes, nodeRecipes)
	j.HintIDs = pipeline.HintIDs(n.Hints)
	j.ID = JobID(j, first(w.Claim, w.CorrelationID))
	return j, nil
}

// JobID names one build of one claim: what defines the build (name, version,
// tags, recipes), the intake's claim and the attempt. Identical items get
// different ids (their logs and containers never collide); a redelivery of
// the same claim and attempt gets the same id. It is 16 hex digits of a
// SHA-256.
func JobID(j *pipeline.Job, claim string) string {
	h := sha256.Sum256([]byte(strings.Join([]string{j.Name, j.Version, j.PythonTag, j.PlatformTag,
		strings.Join(j.Recipes, ","), claim, strconv.Itoa(j.Attempt)}, "\x00")))
	return hex.EncodeToString(h[:8])
}

func first(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// pythonTag derives cpXY from X.Y.
func pythonTag(pv string) string {
	if pv == "" {
		return ""
	}
	return "cp" + strings.ReplaceAll(pv, ".", "")
}
