// Package jsonscan finds the boundaries of JSON values without decoding
// them: structure only, no allocation. Callers that need validity get it
// from the decoder they hand the pieces to.
package jsonscan

import "strings"

// ObjectMembers calls f with the raw key (quotes included) and the raw value
// of each member of the JSON object b, in order. It returns false when b is
// not an object it can follow. It checks structure, not every token: a value
// it passes may still be invalid JSON, which the decoder that follows
// reports.
func ObjectMembers(b []byte, f func(rawKey, val []byte)) bool {
	i := SkipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return false
	}
	i = SkipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return SkipSpace(b, i+1) == len(b)
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return false
		}
		k := i
		if i = StringEnd(b, i); i < 0 {
			return false
		}
		rawKey := b[k:i]
		if i = SkipSpace(b, i); i >= len(b) || b[i] != ':' {
			return false
		}
		v := SkipSpace(b, i+1)
		if i = ValueEnd(b, v); i < 0 {
			return false
		}
		f(rawKey, b[v:i])
		if i = SkipSpace(b, i); i >= len(b) {
			return false
		}
		switch b[i] {
		case '}':
			return SkipSpace(b, i+1) == len(b)
		case ',':
			i = SkipSpace(b, i+1)
		default:
			return false
		}
	}
}

// SkipSpace is the index of the first non-whitespace byte from b[i] on.
func SkipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// StringEnd is the index past the string starting at b[i] ('"'), or -1
// when it does not end.
func StringEnd(b []byte, i int) int {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return -1
}

// ValueEnd is the index past the value starting at b[i], or -1 when it
// cannot tell. A scalar ends at a delimiter or whitespace; brackets are
// counted, not matched.
func ValueEnd(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		return StringEnd(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				if j = StringEnd(b, j); j < 0 {
					return -1
				}
				j--
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return j + 1
				}
			}
		}
		return -1
	case ',', '}', ']', ':':
		return -1
	}
	j := i
	for j < len(b) && !strings.ContainsRune(",}] \t\n\r", rune(b[j])) {
		j++
	}
	return j
}
