package wheelindex

import (
	"fmt"
	"regexp"
	"strings"
)

var (
	// validName is a PEP 508 distribution name.
	validName = regexp.MustCompile(`^(?i)[a-z0-9]([a-z0-9._-]*[a-z0-9])?$`)
	// fileChars are the characters a published file name may hold.
	fileChars = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._+!-]*$`)
)

// Normalize is the PEP 503 normal form of a project name: lowercase, runs of
// "-", "_" and "." become one "-".
func Normalize(name string) string {
	if IsNormalized(name) {
		return name
	}
	b := make([]byte, 0, len(name))
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == '-' || c == '_' || c == '.':
			if len(b) == 0 || b[len(b)-1] != '-' {
				b = append(b, '-')
			}
		case c >= 'A' && c <= 'Z':
			b = append(b, c+('a'-'A'))
		default:
			b = append(b, c)
		}
	}
	return string(b)
}

// ValidName reports whether name is a valid distribution name.
func ValidName(name string) bool { return validName.MatchString(name) }

// IsNormalized reports whether name is already in PEP 503 normal form.
func IsNormalized(name string) bool {
	if name == "" || name[0] == '-' || name[len(name)-1] == '-' {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c == '-' && name[i-1] == '-' {
			return false
		}
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// WheelName is a parsed PEP 427 wheel file name.
type WheelName struct {
	File    string
	Dist    string // the distribution part, as the file spells it
	Version string
	Build   string // optional build tag
	Tags    string // python-abi-platform
}

// ParseWheelName splits {dist}-{version}(-{build})?-{python}-{abi}-{platform}.whl.
func ParseWheelName(file string) (WheelName, error) {
	w := WheelName{File: file}
	if !fileChars.MatchString(file) || strings.Contains(file, "..") {
		return w, fmt.Errorf("wheel file name %q: characters outside [A-Za-z0-9._+!-] or a leading dot", file)
	}
	base, ok := strings.CutSuffix(file, ".whl")
	if !ok {
		return w, fmt.Errorf("wheel file name %q: does not end in .whl", file)
	}
	parts := strings.Split(base, "-")
	switch len(parts) {
	case 5:
	case 6:
		w.Build = parts[2]
	default:
		return w, fmt.Errorf("wheel file name %q: want name-version[-build]-python-abi-platform.whl", file)
	}
	for _, p := range parts {
		if p == "" {
			return w, fmt.Errorf("wheel file name %q: empty component", file)
		}
	}
	w.Dist, w.Version = parts[0], parts[1]
	w.Tags = strings.Join(parts[len(parts)-3:], "-")
	if !ValidName(w.Dist) {
		return w, fmt.Errorf("wheel file name %q: %q is not a valid distribution name", file, w.Dist)
	}
	return w, nil
}
