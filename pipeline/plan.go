package pipeline

import (
	"encoding/json"
	"fmt"
)

// Plan is plan.json (docs/control-plane.md). Unknown top-level fields and the
// dag are kept verbatim so that a re-posted plan loses nothing.
type Plan struct {
	RunID string     `json:"run_id"`
	Nodes []PlanNode `json:"plan"`
	// DAG is optional; nil means absent. It is preserved, never interpreted.
	DAG   json.RawMessage            `json:"dag,omitempty"`
	Extra map[string]json.RawMessage `json:"-"`
}

// PlanNode is one package of a plan.
type PlanNode struct {
	Name          string                     `json:"name"`
	Version       string                     `json:"version"`
	PythonVersion string                     `json:"python_version,omitempty"`
	PythonTag     string                     `json:"python_tag,omitempty"`
	PlatformTag   string                     `json:"platform_tag,omitempty"`
	Action        string                     `json:"action"` // "build" or "reuse"
	Hints         json.RawMessage            `json:"hints,omitempty"`
	Recipes       []PlanRecipe               `json:"recipes,omitempty"`
	Extra         map[string]json.RawMessage `json:"-"`
}

// PlanRecipe is one recipe of a plan node; Name is "manager:package".
type PlanRecipe struct {
	Name    string `json:"name"`
	Version string `json:"version,omitempty"`
	Reason  string `json:"reason,omitempty"`
}

// Plan actions.
const (
	ActionBuild = "build"
	ActionReuse = "reuse"
)

var planKnown = map[string]bool{"run_id": true, "plan": true, "dag": true}
var nodeKnown = map[string]bool{"name": true, "version": true, "python_version": true, "python_tag": true,
	"platform_tag": true, "action": true, "hints": true, "recipes": true}

// UnmarshalJSON decodes a plan and keeps unknown fields.
func (p *Plan) UnmarshalJSON(b []byte) error {
	type plain Plan
	var pp plain
	extra, err := decodeKnown(b, &pp, planKnown)
	if err != nil {
		return err
	}
	*p = Plan(pp)
	p.Extra = extra
	return nil
}

// MarshalJSON encodes a plan with its unknown fields.
func (p Plan) MarshalJSON() ([]byte, error) {
	type plain Plan
	return mergeExtra(plain(p), p.Extra, planKnown)
}

// UnmarshalJSON decodes a node and keeps unknown fields.
func (n *PlanNode) UnmarshalJSON(b []byte) error {
	type plain PlanNode
	var pn plain
	extra, err := decodeKnown(b, &pn, nodeKnown)
	if err != nil {
		return err
	}
	*n = PlanNode(pn)
	n.Extra = extra
	return nil
}

// MarshalJSON encodes a node with its unknown fields.
func (n PlanNode) MarshalJSON() ([]byte, error) {
	type plain PlanNode
	return mergeExtra(plain(n), n.Extra, nodeKnown)
}

func mergeExtra(v any, extra map[string]json.RawMessage, known map[string]bool) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil || len(extra) == 0 {
		return b, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	for k, val := range extra {
		if _, ok := m[k]; !ok && !known[k] {
			m[k] = val
		}
	}
	return json.Marshal(m)
}

// DecodePlan parses plan.json and checks what matching relies on: every node
// has a name, a version and a known action. Errors name the node and field.
func DecodePlan(b []byte) (*Plan, error) {
	var p Plan
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("decode plan: %w", err)
	}
	for i, n := range p.Nodes {
		switch {
		case n.Name == "":
			return nil, &FieldError{Field: fmt.Sprintf("plan[%d].name", i), Reason: "missing"}
		case n.Action != ActionBuild && n.Action != ActionReuse:
			return nil, &FieldError{Field: fmt.Sprintf("plan[%d].action", i), Reason: fmt.Sprintf("%q is not build or reuse", n.Action)}
		}
	}
	return &p, nil
}
