// Package charset checks that text is made of a few ASCII byte classes, the
// shape of the names, versions, ids and tags that reach file names and
// command lines: what a regular expression like ^[A-Za-z0-9][A-Za-z0-9._-]*$
// says, without running one (the worker checks several per item).
package charset

import "strings"

// Class is a set of ASCII bytes: letters, digits, and the bytes of Extra.
type Class struct {
	Letters, Digits bool
	Extra           string
}

// Alnum is the letters and digits and the bytes of extra.
func Alnum(extra string) Class { return Class{Letters: true, Digits: true, Extra: extra} }

// Digits is the digits and the bytes of extra.
func Digits(extra string) Class { return Class{Digits: true, Extra: extra} }

// Has reports whether b is in c.
func (c Class) Has(b byte) bool {
	switch {
	case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z':
		return c.Letters
	case '0' <= b && b <= '9':
		return c.Digits
	}
	return strings.IndexByte(c.Extra, b) >= 0
}

// Spans reports whether s is min to max bytes long, with its first byte in
// first, its last byte in last (a one-byte s is in both) and every byte
// between in mid.
func Spans(s string, min, max int, first, mid, last Class) bool {
	n := len(s)
	if n < min || n > max {
		return false
	}
	if n == 0 {
		return true
	}
	if !first.Has(s[0]) || !last.Has(s[n-1]) {
		return false
	}
	for i := 1; i < n-1; i++ {
		if !mid.Has(s[i]) {
			return false
		}
	}
	return true
}

// All reports whether s is min to max bytes of c.
func All(s string, min, max int, c Class) bool { return Spans(s, min, max, c, c, c) }
