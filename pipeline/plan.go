package pipeline

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Plan is plan.json (contract/formats.md). Unknown top-level fields and the
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

// decodeKnown decodes the JSON object b into dst, a struct whose JSON names
// are the keys of known, and returns the members that are not known. Keys
// match exactly, as the contract spells them: encoding/json alone matches
// struct fields case-insensitively, so an unknown "Attempts" would overwrite
// "attempts"; such a key is kept out of dst and stays an unknown member.
func decodeKnown(b []byte, dst any, known map[string]bool) (map[string]json.RawMessage, error) {
	var all map[string]json.RawMessage
	if err := json.Unmarshal(b, &all); err != nil {
		return nil, err
	}
	var extra map[string]json.RawMessage
	folds := false
	for k, v := range all {
		if known[k] {
			continue
		}
		if extra == nil {
			extra = map[string]json.RawMessage{}
		}
		extra[k] = v
		folds = folds || foldsToKnown(k, known)
	}
	if folds {
		exact := make(map[string]json.RawMessage, len(all))
		for k, v := range all {
			if known[k] {
				exact[k] = v
			}
		}
		var err error
		if b, err = json.Marshal(exact); err != nil {
			return nil, err
		}
	}
	if err := json.Unmarshal(b, dst); err != nil {
		return nil, err
	}
	return extra, nil
}

// foldsToKnown reports whether k equals a known key but for case.
func foldsToKnown(k string, known map[string]bool) bool {
	for name := range known {
		if strings.EqualFold(k, name) {
			return true
		}
	}
	return false
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
