package pep508

import (
	"errors"
	"fmt"
	"strings"

	"github.com/refinery/refinery-worker/pipeline/pep440"
)

// ErrInvalidRequirement is wrapped by every error ParseRequirement returns.
var ErrInvalidRequirement = errors.New("invalid requirement")

// Requirement is one PEP 508 dependency specification.
type Requirement struct {
	// Name is the project name as written; Key() is its normalised form.
	Name string
	// Extras are normalised (PEP 685) and de-duplicated, in order.
	Extras []string
	// Specifiers is empty for an unconstrained or URL requirement.
	Specifiers pep440.Specifiers
	// URL is set for "name @ url" requirements; callers that only handle
	// index packages should refuse them.
	URL string
	// Marker is nil when the requirement has none.
	Marker *Marker
}

// Key returns the PEP 503 normalised name.
func (r Requirement) Key() string { return NormalizeName(r.Name) }

// IsURL reports whether the requirement names a direct URL.
func (r Requirement) IsURL() bool { return r.URL != "" }

// String returns the requirement in normalised form.
func (r Requirement) String() string {
	var b strings.Builder
	b.WriteString(r.Name)
	if len(r.Extras) > 0 {
		b.WriteString("[" + strings.Join(r.Extras, ",") + "]")
	}
	if r.URL != "" {
		b.WriteString(" @ " + r.URL)
		if r.Marker != nil {
			b.WriteByte(' ')
		}
	} else {
		b.WriteString(r.Specifiers.String())
	}
	if r.Marker != nil {
		b.WriteString("; " + r.Marker.String())
	}
	return b.String()
}

// ParseRequirement parses a requirement string such as
// `requests[socks]>=2.31,<3 ; python_version >= "3.8"` or
// `pkg @ https://example.org/pkg.whl`.
func ParseRequirement(s string) (Requirement, error) {
	bad := func(format string, args ...any) (Requirement, error) {
		return Requirement{}, fmt.Errorf("%w: %q: %s", ErrInvalidRequirement, s, fmt.Sprintf(format, args...))
	}
	rest := strings.TrimSpace(s)
	n := 0
	for n < len(rest) && isNameByte(rest[n]) {
		n++
	}
	var r Requirement
	r.Name, rest = rest[:n], strings.TrimLeft(rest[n:], " \t")
	if !ValidName(r.Name) {
		return bad("bad project name %q", r.Name)
	}
	if strings.HasPrefix(rest, "[") {
		end := strings.IndexByte(rest, ']')
		if end < 0 {
			return bad("missing ] after extras")
		}
		seen := map[string]bool{}
		if inner := strings.TrimSpace(rest[1:end]); inner != "" {
			for _, e := range strings.Split(inner, ",") {
				e = strings.TrimSpace(e)
				if !ValidName(e) {
					return bad("bad extra %q", e)
				}
				if e = NormalizeName(e); !seen[e] {
					seen[e] = true
					r.Extras = append(r.Extras, e)
				}
			}
		}
		rest = strings.TrimLeft(rest[end+1:], " \t")
	}
	var marker string
	hasMarker := false
	if strings.HasPrefix(rest, "@") {
		rest = strings.TrimLeft(rest[1:], " \t")
		end := strings.IndexAny(rest, " \t")
		if end < 0 {
			end = len(rest)
		}
		r.URL, rest = rest[:end], strings.TrimLeft(rest[end:], " \t")
		if r.URL == "" || !strings.Contains(r.URL, ":") {
			return bad("bad URL %q", r.URL)
		}
		if rest != "" {
			if rest[0] != ';' {
				return bad("unexpected %q after URL", rest)
			}
			marker, hasMarker = rest[1:], true
		}
	} else {
		spec := rest
		if i := strings.IndexByte(rest, ';'); i >= 0 {
			spec, marker, hasMarker = rest[:i], rest[i+1:], true
		}
		spec = strings.TrimSpace(spec)
		if strings.HasPrefix(spec, "(") {
			if !strings.HasSuffix(spec, ")") {
				return bad("missing ) after version specifiers")
			}
			spec = spec[1 : len(spec)-1]
		}
		ss, err := pep440.ParseSpecifiers(spec)
		if err != nil {
			return Requirement{}, fmt.Errorf("%w: %q: %w", ErrInvalidRequirement, s, err)
		}
		r.Specifiers = ss
	}
	if hasMarker {
		m, err := ParseMarker(marker)
		if err != nil {
			return Requirement{}, fmt.Errorf("%w: %q: %w", ErrInvalidRequirement, s, err)
		}
		r.Marker = m
	}
	return r, nil
}

func isNameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-'
}
