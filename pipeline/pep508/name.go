package pep508

import (
	"regexp"
	"strings"
)

// MaxNameLength bounds project names; longer names are refused as invalid.
const MaxNameLength = 128

var (
	nameRE      = regexp.MustCompile(`^(?i:[A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$`)
	separatorRE = regexp.MustCompile(`[-_.]+`)
)

// ValidName reports whether s is a PEP 508 project name: ASCII letters,
// digits, ".", "_" and "-", starting and ending with a letter or digit, at
// most MaxNameLength characters.
func ValidName(s string) bool {
	return len(s) <= MaxNameLength && nameRE.MatchString(s)
}

// NormalizeName returns the PEP 503 normalised form: lower case, each run
// of "-", "_" and "." replaced by a single "-".
func NormalizeName(s string) string {
	return separatorRE.ReplaceAllString(strings.ToLower(s), "-")
}
