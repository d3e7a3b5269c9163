package pep440

import (
	"errors"
	"fmt"
	"strings"
)

// ErrInvalidSpecifier is wrapped by every error ParseSpecifier and
// ParseSpecifiers return.
var ErrInvalidSpecifier = errors.New("invalid PEP 440 specifier")

// Operator is a specifier's comparison operator.
type Operator string

// The PEP 440 operators.
const (
	OpCompatible Operator = "~="
	OpEqual      Operator = "=="
	OpNotEqual   Operator = "!="
	OpLessEq     Operator = "<="
	OpGreaterEq  Operator = ">="
	OpLess       Operator = "<"
	OpGreater    Operator = ">"
	OpArbitrary  Operator = "==="
)

// operators in the order they must be tried (longest first).
var operators = []Operator{OpArbitrary, OpCompatible, OpEqual, OpNotEqual, OpLessEq, OpGreaterEq, OpLess, OpGreater}

// Specifier is one clause such as ">=1.2" or "==1.4.*".
type Specifier struct {
	Op Operator
	// Version is the operand; the zero Version for "===".
	Version Version
	// Wildcard is set for "==X.*" and "!=X.*".
	Wildcard bool
	// Arbitrary is the operand of "===", compared as a string.
	Arbitrary string
}

// ParseSpecifier parses a single clause.
func ParseSpecifier(s string) (Specifier, error) {
	s = strings.TrimSpace(s)
	var op Operator
	for _, o := range operators {
		if strings.HasPrefix(s, string(o)) {
			op = o
			break
		}
	}
	if op == "" {
		return Specifier{}, fmt.Errorf("%w: %q: no operator", ErrInvalidSpecifier, s)
	}
	operand := strings.TrimSpace(s[len(op):])
	if operand == "" {
		return Specifier{}, fmt.Errorf("%w: %q: no version", ErrInvalidSpecifier, s)
	}
	sp := Specifier{Op: op}
	if op == OpArbitrary {
		if strings.ContainsAny(operand, " \t\r\n;),") {
			return Specifier{}, fmt.Errorf("%w: %q: bad arbitrary operand", ErrInvalidSpecifier, s)
		}
		sp.Arbitrary = operand
		return sp, nil
	}
	if (op == OpEqual || op == OpNotEqual) && strings.HasSuffix(operand, ".*") {
		sp.Wildcard = true
		operand = operand[:len(operand)-2]
	}
	v, err := Parse(operand)
	if err != nil {
		return Specifier{}, fmt.Errorf("%w: %q: %w", ErrInvalidSpecifier, s, err)
	}
	sp.Version = v
	switch {
	case sp.Wildcard && (v.pre != nil || v.post != nil || v.dev != nil || v.local != nil):
		return Specifier{}, fmt.Errorf("%w: %q: a wildcard follows the release segment only", ErrInvalidSpecifier, s)
	case v.local != nil && op != OpEqual && op != OpNotEqual:
		return Specifier{}, fmt.Errorf("%w: %q: local versions only with == and !=", ErrInvalidSpecifier, s)
	case op == OpCompatible && len(v.release) < 2:
		return Specifier{}, fmt.Errorf("%w: %q: ~= needs at least two release components", ErrInvalidSpecifier, s)
	}
	return sp, nil
}

// String returns the clause in normalised form.
func (sp Specifier) String() string {
	switch {
	case sp.Op == OpArbitrary:
		return string(sp.Op) + sp.Arbitrary
	case sp.Wildcard:
		return string(sp.Op) + sp.Version.String() + ".*"
	default:
		return string(sp.Op) + sp.Version.String()
	}
}

// mentionsPrerelease reports whether the clause names a pre-release, which
// lets pre-releases match the whole set (PEP 440 "Handling of pre-releases").
func (sp Specifier) mentionsPrerelease() bool {
	return sp.Op != OpNotEqual && sp.Op != OpArbitrary && sp.Version.IsPrerelease()
}

// Matches reports whether v satisfies the clause, ignoring the pre-release
// policy (that is the set's business).
func (sp Specifier) Matches(v Version) bool {
	spec := sp.Version
	switch sp.Op {
	case OpArbitrary:
		return strings.EqualFold(v.String(), sp.Arbitrary)
	case OpEqual:
		return sp.equal(v)
	case OpNotEqual:
		return !sp.equal(v)
	case OpCompatible:
		pub := v.WithoutLocal()
		return Compare(pub, spec) >= 0 && prefixMatch(pub, spec.epoch, spec.release[:len(spec.release)-1])
	case OpLessEq:
		return Compare(v.WithoutLocal(), spec) <= 0
	case OpGreaterEq:
		return Compare(v.WithoutLocal(), spec) >= 0
	case OpLess:
		if Compare(v, spec) >= 0 {
			return false
		}
		// <V does not admit pre-releases of V itself unless V is one.
		return spec.IsPrerelease() || !v.IsPrerelease() || !sameBase(v, spec)
	case OpGreater:
		if Compare(v, spec) <= 0 {
			return false
		}
		// >V does not admit post-releases or local versions of V itself.
		if !spec.IsPostrelease() && v.IsPostrelease() && sameBase(v, spec) {
			return false
		}
		return v.local == nil || !sameBase(v, spec)
	}
	return false
}

func (sp Specifier) equal(v Version) bool {
	spec := sp.Version
	if sp.Wildcard {
		return prefixMatch(v, spec.epoch, spec.release)
	}
	if spec.local == nil {
		v = v.WithoutLocal()
	}
	return Compare(v, spec) == 0
}

// prefixMatch reports whether v's epoch is epoch and its release, padded
// with zeros, starts with prefix.
func prefixMatch(v Version, epoch uint64, prefix []uint64) bool {
	if v.epoch != epoch {
		return false
	}
	for i, want := range prefix {
		var got uint64
		if i < len(v.release) {
			got = v.release[i]
		}
		if got != want {
			return false
		}
	}
	return true
}

func sameBase(a, b Version) bool {
	return a.epoch == b.epoch && compareRelease(a.release, b.release) == 0
}
