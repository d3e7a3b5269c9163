package pep440

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// ErrInvalidVersion is wrapped by every error Parse returns.
var ErrInvalidVersion = errors.New("invalid PEP 440 version")

// versionPattern is the PEP's Appendix B pattern, anchored.
const versionPattern = `v?` +
	`(?:(?P<epoch>[0-9]+)!)?` +
	`(?P<release>[0-9]+(?:\.[0-9]+)*)` +
	`(?P<pre>[-_\.]?(?P<pre_l>alpha|a|beta|b|preview|pre|c|rc)[-_\.]?(?P<pre_n>[0-9]+)?)?` +
	`(?P<post>(?:-(?P<post_n1>[0-9]+))|(?:[-_\.]?(?P<post_l>post|rev|r)[-_\.]?(?P<post_n2>[0-9]+)?))?` +
	`(?P<dev>[-_\.]?(?P<dev_l>dev)[-_\.]?(?P<dev_n>[0-9]+)?)?` +
	`(?:\+(?P<local>[a-z0-9]+(?:[-_\.][a-z0-9]+)*))?`

var versionRE = regexp.MustCompile(`(?i)^` + versionPattern + `$`)

// PreKind is the kind of a pre-release: "a", "b" or "rc" once normalised.
type PreKind string

// Pre-release kinds in their order.
const (
	Alpha            PreKind = "a"
	Beta             PreKind = "b"
	ReleaseCandidate PreKind = "rc"
)

func (k PreKind) rank() int {
	switch k {
	case Alpha:
		return 0
	case Beta:
		return 1
	default:
		return 2
	}
}

// Pre is a pre-release segment such as a1 or rc2.
type Pre struct {
	Kind PreKind
	N    uint64
}

// LocalSegment is one dot-separated part of a local version label. Numeric
// parts compare as numbers and sort after alphanumeric ones.
type LocalSegment struct {
	Str   string
	Num   uint64
	IsNum bool
}

func (s LocalSegment) String() string {
	if s.IsNum {
		return strconv.FormatUint(s.Num, 10)
	}
	return s.Str
}

// Version is a parsed PEP 440 version. The zero value is not a valid
// version; obtain one from Parse. A Version is immutable: accessors return
// copies.
type Version struct {
	epoch   uint64
	release []uint64
	pre     *Pre
	post    *uint64
	dev     *uint64
	local   []LocalSegment
}

// Parse parses a version in any spelling PEP 440 accepts. Leading and
// trailing whitespace is ignored.
func Parse(s string) (Version, error) {
	if v, ok := parsePlain(s); ok {
		return v, nil
	}
	return parseFull(s)
}

// parseFull parses with the PEP's pattern.
func parseFull(s string) (Version, error) {
	m := versionRE.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return Version{}, fmt.Errorf("%w: %q", ErrInvalidVersion, s)
	}
	group := func(name string) string { return m[versionRE.SubexpIndex(name)] }
	var v Version
	var err error
	num := func(field, digits string) uint64 {
		if err != nil || digits == "" {
			return 0
		}
		n, perr := strconv.ParseUint(digits, 10, 64)
		if perr != nil {
			err = fmt.Errorf("%w: %q: %s %q does not fit in 64 bits", ErrInvalidVersion, s, field, digits)
		}
		return n
	}
	v.epoch = num("epoch", group("epoch"))
	for _, part := range strings.Split(group("release"), ".") {
		v.release = append(v.release, num("release component", part))
	}
	if l := group("pre_l"); l != "" {
		v.pre = &Pre{Kind: normalisePreKind(l), N: num("pre-release number", group("pre_n"))}
	}
	if group("post") != "" {
		n := num("post-release number", group("post_n1")+group("post_n2"))
		v.post = &n
	}
	if group("dev") != "" {
		n := num("dev-release number", group("dev_n"))
		v.dev = &n
	}
	if l := group("local"); l != "" {
		for _, part := range strings.FieldsFunc(l, func(r rune) bool { return r == '.' || r == '-' || r == '_' }) {
			if isDigits(part) {
				v.local = append(v.local, LocalSegment{Num: num("local number", part), IsNum: true})
			} else {
				v.local = append(v.local, LocalSegment{Str: strings.ToLower(part)})
			}
		}
	}
	if err != nil {
		return Version{}, err
	}
	return v, nil
}

// parsePlain is the fast path for the common "N(.N)*" spelling; ok is
// false for anything else, which the full pattern then handles.
func parsePlain(s string) (Version, bool) {
	if s == "" {
		return Version{}, false
	}
	release := make([]uint64, 0, 4)
	var n uint64
	digits := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == '.' {
			if digits == 0 || digits > 19 { // 19 digits always fit in 64 bits
				return Version{}, false
			}
			release = append(release, n)
			n, digits = 0, 0
			continue
		}
		c := s[i]
		if c < '0' || c > '9' {
			return Version{}, false
		}
		n = n*10 + uint64(c-'0')
		digits++
	}
	return Version{release: release}, true
}

// MustParse is Parse for constants in tests and examples; it panics on error.
func MustParse(s string) Version {
	v, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return v
}

func normalisePreKind(l string) PreKind {
	switch strings.ToLower(l) {
	case "a", "alpha":
		return Alpha
	case "b", "beta":
		return Beta
	default: // c, rc, pre, preview
		return ReleaseCandidate
	}
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// String returns the canonical normalised form, e.g. "1!2.0rc1.post0.dev3+ubuntu.1".
func (v Version) String() string {
	var b strings.Builder
	b.WriteString(v.Public())
	if len(v.local) > 0 {
		b.WriteByte('+')
		b.WriteString(v.LocalString())
	}
	return b.String()
}

// Public returns the canonical form without the local label.
func (v Version) Public() string {
	var b strings.Builder
	b.WriteString(v.BaseVersion())
	if v.pre != nil {
		b.WriteString(string(v.pre.Kind))
		b.WriteString(strconv.FormatUint(v.pre.N, 10))
	}
	if v.post != nil {
		b.WriteString(".post")
		b.WriteString(strconv.FormatUint(*v.post, 10))
	}
	if v.dev != nil {
		b.WriteString(".dev")
		b.WriteString(strconv.FormatUint(*v.dev, 10))
	}
	return b.String()
}

// BaseVersion returns the epoch and release only, e.g. "1!2.0" for "1!2.0rc1".
func (v Version) BaseVersion() string {
	var b strings.Builder
	if v.epoch != 0 {
		b.WriteString(strconv.FormatUint(v.epoch, 10))
		b.WriteByte('!')
	}
	for i, r := range v.release {
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(strconv.FormatUint(r, 10))
	}
	return b.String()
}

// LocalString returns the normalised local label without "+", or "".
func (v Version) LocalString() string {
	parts := make([]string, len(v.local))
	for i, s := range v.local {
		parts[i] = s.String()
	}
	return strings.Join(parts, ".")
}

// Epoch returns the epoch (0 when absent).
func (v Version) Epoch() uint64 { return v.epoch }

// Release returns a copy of the release components.
func (v Version) Release() []uint64 { return append([]uint64(nil), v.release...) }

// Pre returns the pre-release segment and whether there is one.
func (v Version) Pre() (Pre, bool) {
	if v.pre == nil {
		return Pre{}, false
	}
	return *v.pre, true
}

// Post returns the post-release number and whether there is one.
func (v Version) Post() (uint64, bool) {
	if v.post == nil {
		return 0, false
	}
	return *v.post, true
}

// Dev returns the dev-release number and whether there is one.
func (v Version) Dev() (uint64, bool) {
	if v.dev == nil {
		return 0, false
	}
	return *v.dev, true
}

// Local returns a copy of the local label's segments (nil when absent).
func (v Version) Local() []LocalSegment { return append([]LocalSegment(nil), v.local...) }

// IsPrerelease reports whether v is a pre-release or a dev release.
func (v Version) IsPrerelease() bool { return v.pre != nil || v.dev != nil }

// IsPostrelease reports whether v has a post-release segment.
func (v Version) IsPostrelease() bool { return v.post != nil }

// IsDevrelease reports whether v has a dev-release segment.
func (v Version) IsDevrelease() bool { return v.dev != nil }

// WithoutLocal returns v with its local label removed.
func (v Version) WithoutLocal() Version {
	v.local = nil
	return v
}

// IsZero reports whether v is the zero value (not produced by Parse).
func (v Version) IsZero() bool { return len(v.release) == 0 }
