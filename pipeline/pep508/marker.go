package pep508

import (
	"errors"
	"fmt"
	"strings"

	"github.com/refinery/refinery-worker/pipeline/pep440"
)

// ErrInvalidMarker is wrapped by marker parse errors.
var ErrInvalidMarker = errors.New("invalid environment marker")

// ErrUndefinedMarker is wrapped by evaluation errors: an unknown variable
// or a comparison the PEP leaves undefined.
var ErrUndefinedMarker = errors.New("undefined marker comparison")

// Marker is a parsed environment marker. A nil *Marker is the absent
// marker, which is always true.
type Marker struct {
	root markerNode
}

type markerNode interface {
	eval(env Env) (bool, error)
	write(b *strings.Builder, top bool)
}

type boolNode struct {
	and  bool
	l, r markerNode
}

type operand struct {
	variable bool
	value    string // variable name (canonical) or literal
}

type compareNode struct {
	lhs, rhs operand
	op       string
}

// ParseMarker parses a marker expression such as
// `python_version >= "3.8" and (sys_platform == "linux" or extra == "socks")`.
func ParseMarker(s string) (*Marker, error) {
	p := &markerParser{src: s}
	root, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.pos != len(p.src) {
		return nil, p.errorf("unexpected %q", p.src[p.pos:])
	}
	return &Marker{root: root}, nil
}

// Evaluate reports whether the marker holds in env. A nil marker is true.
// A missing "extra" counts as "".
func (m *Marker) Evaluate(env Env) (bool, error) {
	if m == nil {
		return true, nil
	}
	return m.root.eval(env)
}

// String returns the marker in normalised form (double quotes, single spaces).
func (m *Marker) String() string {
	if m == nil {
		return ""
	}
	var b strings.Builder
	m.root.write(&b, true)
	return b.String()
}

func (n boolNode) eval(env Env) (bool, error) {
	l, err := n.l.eval(env)
	if err != nil {
		return false, err
	}
	if n.and && !l || !n.and && l {
		return l, nil
	}
	return n.r.eval(env)
}

func (n boolNode) write(b *strings.Builder, top bool) {
	if !top {
		b.WriteByte('(')
	}
	n.l.write(b, false)
	if n.and {
		b.WriteString(" and ")
	} else {
		b.WriteString(" or ")
	}
	n.r.write(b, false)
	if !top {
		b.WriteByte(')')
	}
}

func (o operand) resolve(env Env) (string, error) {
	if !o.variable {
		return o.value, nil
	}
	v, ok := env[o.value]
	if !ok {
		if o.value == "extra" {
			return "", nil
		}
		return "", fmt.Errorf("%w: variable %s is not in the environment", ErrUndefinedMarker, o.value)
	}
	return v, nil
}

func (o operand) String() string {
	if o.variable {
		return o.value
	}
	if strings.Contains(o.value, `"`) {
		return "'" + o.value + "'"
	}
	return `"` + o.value + `"`
}

func (n compareNode) write(b *strings.Builder, _ bool) {
	b.WriteString(n.lhs.String())
	b.WriteByte(' ')
	b.WriteString(n.op)
	b.WriteByte(' ')
	b.WriteString(n.rhs.String())
}

func (n compareNode) eval(env Env) (bool, error) {
	lhs, err := n.lhs.resolve(env)
	if err != nil {
		return false, err
	}
	rhs, err := n.rhs.resolve(env)
	if err != nil {
		return false, err
	}
	if n.lhs.variable && n.lhs.value == "extra" || n.rhs.variable && n.rhs.value == "extra" {
		lhs, rhs = NormalizeName(lhs), NormalizeName(rhs)
	}
	switch n.op {
	case "in":
		return strings.Contains(rhs, lhs), nil
	case "not in":
		return !strings.Contains(rhs, lhs), nil
	}
	// A version comparison when both sides are versions, else a string one.
	if spec, err := pep440.ParseSpecifier(n.op + rhs); err == nil {
		if v, err := pep440.Parse(lhs); err == nil {
			return spec.Matches(v), nil
		}
	}
	switch n.op {
	case "==", "===":
		return lhs == rhs, nil
	case "!=":
		return lhs != rhs, nil
	case "<":
		return lhs < rhs, nil
	case "<=":
		return lhs <= rhs, nil
	case ">":
		return lhs > rhs, nil
	case ">=":
		return lhs >= rhs, nil
	}
	return false, fmt.Errorf("%w: %q %s %q", ErrUndefinedMarker, lhs, n.op, rhs)
}
