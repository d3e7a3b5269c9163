package pep508

import (
	"strings"

	"github.com/refinery/refinery-worker/pipeline/charset"
)

// MaxNameLength bounds project names; longer names are refused as invalid.
const MaxNameLength = 128

// ValidName reports whether s is a PEP 508 project name: ASCII letters,
// digits, ".", "_" and "-", starting and ending with a letter or digit, at
// most MaxNameLength characters.
func ValidName(s string) bool {
	return charset.Spans(s, 1, MaxNameLength, charset.Alnum(""), charset.Alnum("._-"), charset.Alnum(""))
}

// NormalizeName returns the PEP 503 normalised form: lower case, each run
// of "-", "_" and "." replaced by a single "-".
// It runs for every item, so it avoids a regexp and, for a name already
// normal, an allocation.
func NormalizeName(s string) string {
	normal := true
	for i := 0; i < len(s) && normal; i++ {
		switch c := s[i]; {
		case c >= 'A' && c <= 'Z', c == '_', c == '.', c >= 0x80:
			normal = false
		case c == '-' && i > 0 && s[i-1] == '-':
			normal = false
		}
	}
	if normal {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if !isSep(s[i]) {
			b.WriteByte(s[i])
		} else if i == 0 || !isSep(s[i-1]) {
			b.WriteByte('-')
		}
	}
	return strings.ToLower(b.String())
}

func isSep(c byte) bool { return c == '-' || c == '_' || c == '.' }
