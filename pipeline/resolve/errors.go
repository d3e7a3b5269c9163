package resolve

import (
	"errors"
	"fmt"
	"strings"
)

// ErrNotFound is wrapped when an index has no project of a name.
var ErrNotFound = errors.New("project not found")

// ErrUnusable is wrapped by an Index's Dependencies when the release turns
// out not to suit the target once its metadata is read (a Requires-Python
// the index page did not show): the resolver then tries other versions.
var ErrUnusable = errors.New("release unusable for the target")

// ErrTooManyDeps is wrapped when a resolution exceeds MaxDeps packages.
var ErrTooManyDeps = errors.New("too many dependencies")

// Demand is one requirement placed on a package.
type Demand struct {
	// Specifiers as written, normalised ("" for any version).
	Specifiers string
	// By names who asked: "requirements", "constraints", "override" or
	// "NAME VERSION" of a dependent package.
	By string
}

func (d Demand) String() string {
	spec := d.Specifiers
	if spec == "" {
		spec = "any version"
	}
	return spec + " (from " + d.By + ")"
}

// ConflictError says that no version of a package meets every demand.
type ConflictError struct {
	Package string
	Demands []Demand
	// Chosen is set when the conflict is with a version already chosen.
	Chosen string
	// Candidates counts the versions the index has for the package.
	Candidates int
	// Reason is set when the chosen version itself proved unusable.
	Reason string
	// NotFound is set when no index has the package at all.
	NotFound bool

	// cause is the index's error for a package not found.
	cause error
	// culprits are the packages whose choices the conflict depends on
	// (for backjumping).
	culprits map[string]bool
}

func (e *ConflictError) Error() string {
	parts := make([]string, len(e.Demands))
	for i, d := range e.Demands {
		parts[i] = d.String()
	}
	if e.NotFound {
		return fmt.Sprintf("%s: project not found on any index (required as %s)", e.Package, strings.Join(parts, ", "))
	}
	if e.Reason != "" {
		return fmt.Sprintf("%s %s cannot be used: %s", e.Package, e.Chosen, e.Reason)
	}
	if e.Chosen != "" {
		return fmt.Sprintf("conflict on %s: version %s was chosen but the requirements are %s",
			e.Package, e.Chosen, strings.Join(parts, ", "))
	}
	if e.Candidates == 0 {
		return fmt.Sprintf("conflict on %s: the index lists no usable file for it (no readable links, or none for the target Python); required as %s",
			e.Package, strings.Join(parts, ", "))
	}
	return fmt.Sprintf("conflict on %s: none of its %d versions satisfies %s",
		e.Package, e.Candidates, strings.Join(parts, ", "))
}

// Unwrap returns the index's not-found error, if that was the conflict.
func (e *ConflictError) Unwrap() error { return e.cause }

// TooComplexError is returned when backtracking gives up; Last is the
// conflict met most often.
type TooComplexError struct {
	Attempts int
	// Limit is Options.MaxAttempts (RESOLVER_MAX_ATTEMPTS).
	Limit int
	// Packages are those met most often in conflicts, most often first.
	Packages []string
	Last     *ConflictError
}

func (e *TooComplexError) Error() string {
	return fmt.Sprintf("resolution gave up after %d abandoned candidates (limit RESOLVER_MAX_ATTEMPTS=%d) while fighting over %s: %v",
		e.Attempts, e.Limit, strings.Join(e.Packages, ", "), e.Last)
}

func (e *TooComplexError) Unwrap() error { return e.Last }
