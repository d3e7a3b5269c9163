package filequeue

import (
	"bytes"
	"encoding/json"
	"errors"
	"iter"
	"math"
	"strconv"
	"time"

	"github.com/refinery/refinery-worker/pipeline"
	"github.com/refinery/refinery-worker/pipeline/jsonscan"
)

// errNotArray is the parse error for a file whose top level is not an array.
var errNotArray = errors.New("top level is not a JSON array")

// parseArray parses a JSON array (or null) of arbitrary values and returns its
// elements compacted, in order. The elements share one buffer; their capacity
// is clipped so that appending to one never overwrites the next.
func parseArray(data []byte) ([][]byte, error) {
	items, _, err := parseArrayAt(data)
	return items, err
}

// parseArrayAt is parseArray, also returning where each element starts in
// data.
func parseArrayAt(data []byte) ([][]byte, []int, error) {
	c := compactor{in: data, out: make([]byte, 0, len(data))}
	c.ws()
	if c.i >= len(c.in) {
		return nil, nil, errEOF
	}
	var spans [][2]int
	var err error
	isArray := c.in[c.i] == '['
	if isArray {
		c.depth = 1
		err = c.array(&spans)
	} else {
		err = c.value()
	}
	if err == nil {
		err = c.end()
	}
	if err != nil {
		return nil, nil, err
	}
	if !isArray {
		if string(c.out) == "null" {
			return nil, nil, nil
		}
		return nil, nil, errNotArray
	}
	out := make([][]byte, len(spans))
	for i, s := range spans {
		out[i] = c.out[s[0]:s[1]:s[1]]
	}
	return out, c.inStarts, nil
}

// compactItem validates one JSON value and returns it compacted.
func compactItem(raw []byte) ([]byte, error) {
	c := compactor{in: raw, out: make([]byte, 0, len(raw))}
	if err := c.value(); err != nil {
		return nil, err
	}
	if err := c.end(); err != nil {
		return nil, err
	}
	return c.out, nil
}

// skipString returns the index just past the JSON string starting at b[i]
// (len(b) when it does not end).
func skipString(b []byte, i int) int { return orEnd(b, jsonscan.StringEnd(b, i)) }

// skipValue returns the index just past the JSON value starting at b[i]; b is
// compact, valid JSON.
func skipValue(b []byte, i int) int { return orEnd(b, jsonscan.ValueEnd(b, i)) }

func orEnd(b []byte, i int) int {
	if i < 0 {
		return len(b)
	}
	return i
}

// span locates one member of a compact JSON object: the key starts at key,
// the value spans [val, end).
type span struct{ key, val, end int }

// members yields the top-level members of a compact JSON object (nothing for
// any other value).
func members(obj []byte) iter.Seq[span] {
	return func(yield func(span) bool) {
		if len(obj) < 2 || obj[0] != '{' {
			return
		}
		for i := 1; i < len(obj) && obj[i] != '}'; {
			k := i
			i = skipString(obj, i) // now at ':'
			v := i + 1
			e := skipValue(obj, v)
			if !yield(span{k, v, e}) {
				return
			}
			i = e
			if i < len(obj) && obj[i] == ',' {
				i++
			}
		}
	}
}

// keyIs reports whether the raw (quoted) key equals name.
func keyIs(rawKey []byte, name string) bool {
	if len(rawKey) == len(name)+2 && string(rawKey[1:len(rawKey)-1]) == name {
		return true
	}
	if bytes.IndexByte(rawKey, '\\') < 0 {
		return false
	}
	var s string
	return json.Unmarshal(rawKey, &s) == nil && s == name
}

// field returns the value of the last top-level member named name of a
// compact JSON object (last, as encoding/json would decode it).
func field(obj []byte, name string) ([]byte, bool) {
	var val []byte
	found := false
	for m := range members(obj) {
		if keyIs(obj[m.key:m.val-1], name) {
			val, found = obj[m.val:m.end], true
		}
	}
	return val, found
}

// withField returns the compact object obj with every member named name
// removed and "name": value appended; every other member is kept byte for byte.
// ok is false when obj is not a JSON object.
func withField(obj []byte, name string, value []byte) ([]byte, bool) {
	if len(obj) < 2 || obj[0] != '{' {
		return nil, false
	}
	out := make([]byte, 0, len(obj)+len(name)+len(value)+4)
	out = append(out, '{')
	for m := range members(obj) {
		if keyIs(obj[m.key:m.val-1], name) {
			continue
		}
		if len(out) > 1 {
			out = append(out, ',')
		}
		out = append(out, obj[m.key:m.end]...)
	}
	if len(out) > 1 {
		out = append(out, ',')
	}
	out = strconv.AppendQuote(out, name)
	out = append(out, ':')
	out = append(out, value...)
	return append(out, '}'), true
}

// unixField reads a numeric Unix-seconds member; ok is false when it is absent
// or not a number.
func unixField(obj []byte, name string) (int64, bool) {
	v, ok := field(obj, name)
	if !ok || len(v) == 0 || (v[0] != '-' && (v[0] < '0' || v[0] > '9')) {
		return 0, false
	}
	if n, err := strconv.ParseInt(string(v), 10, 64); err == nil {
		return n, true
	}
	f, err := strconv.ParseFloat(string(v), 64)
	switch {
	case err != nil:
		return 0, false
	case f >= math.MaxInt64:
		return math.MaxInt64, true
	case f <= math.MinInt64:
		return math.MinInt64, true
	}
	return int64(f), true
}

// due reports whether item may be handed out at now: it has no numeric
// not_before, not_before is not in the future, or it is a number the dequeue
// stage refuses (1e30, a fraction): handed out, that item is rejected with a
// reason instead of staying in the queue forever.
func due(item []byte, now time.Time) bool {
	nb, ok := unixField(item, "not_before")
	if !ok || nb <= now.Unix() {
		return true
	}
	v, _ := field(item, "not_before")
	f, err := strconv.ParseFloat(string(v), 64)
	return err != nil || !pipeline.ValidIntField(f)
}

// encodeQueue renders items the way the control-plane writes its file: a
// 2-space indented JSON array, "[]" when empty. Items are compact, valid JSON.
// (A memo of indented items by content was tried: at 100,000 items its map
// lookups made an encode twice as slow, 25 ms against 12, and it held ~20 MB.)
func encodeQueue(items [][]byte) []byte {
	b, _ := encodeQueueStarts(items)
	return b
}

// appendIndent appends the compact JSON value src indented with two spaces a
// level, as json.Indent(dst, src, prefix, "  ") does with a prefix of depth
// levels, only faster (it trusts src to be compact and valid).
func appendIndent(dst, src []byte, depth int) []byte {
	newline := func(d int) {
		dst = append(dst, '\n')
		for range d {
			dst = append(dst, "  "...)
		}
	}
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch c {
		case '"':
			end := skipString(src, i)
			dst = append(dst, src[i:end]...)
			i = end - 1
		case '{', '[':
			dst = append(dst, c)
			if i+1 < len(src) && (src[i+1] == '}' || src[i+1] == ']') {
				dst = append(dst, src[i+1])
				i++
				continue
			}
			depth++
			newline(depth)
		case '}', ']':
			depth--
			newline(depth)
			dst = append(dst, c)
		case ',':
			dst = append(dst, c)
			newline(depth)
		case ':':
			dst = append(dst, ':', ' ')
		default:
			dst = append(dst, c)
		}
	}
	return dst
}
