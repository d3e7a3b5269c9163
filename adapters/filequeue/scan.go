package filequeue

import (
	"errors"
	"fmt"
)

// A hand-written validating compactor: encoding/json's Compact was most of the
// cost of reading a queue file another process has changed. It accepts
// exactly what encoding/json accepts (FuzzParseArray checks that) and keeps
// every token byte for byte.

// errEOF is encoding/json's message for truncated input, the usual sign of
// a file caught half-written.
var errEOF = errors.New("unexpected end of JSON input")

// maxDepth is encoding/json's nesting limit.
const maxDepth = 10000

type compactor struct {
	in    []byte
	i     int
	out   []byte
	depth int
	// inStarts, with the elems of array, receives where each element
	// starts in in.
	inStarts []int
}

func (c *compactor) syntaxErr(what string) error {
	if c.i >= len(c.in) {
		return errEOF
	}
	return fmt.Errorf("invalid character %q %s at offset %d", c.in[c.i], what, c.i)
}

func (c *compactor) ws() {
	for c.i < len(c.in) {
		switch c.in[c.i] {
		case ' ', '\t', '\n', '\r':
			c.i++
		default:
			return
		}
	}
}

// value compacts one value (leading whitespace allowed) onto out.
func (c *compactor) value() error {
	c.ws()
	if c.i >= len(c.in) {
		return errEOF
	}
	switch ch := c.in[c.i]; {
	case ch == '{' || ch == '[':
		if c.depth++; c.depth > maxDepth {
			return errors.New("exceeded max depth")
		}
		var err error
		if ch == '{' {
			err = c.object()
		} else {
			err = c.array(nil)
		}
		c.depth--
		return err
	case ch == '"':
		return c.str()
	case ch == '-' || ch >= '0' && ch <= '9':
		return c.number()
	case ch == 't':
		return c.lit("true")
	case ch == 'f':
		return c.lit("false")
	case ch == 'n':
		return c.lit("null")
	}
	return c.syntaxErr("looking for beginning of value")
}

func (c *compactor) object() error {
	c.out = append(c.out, '{')
	c.i++
	c.ws()
	if c.i < len(c.in) && c.in[c.i] == '}' {
		c.out = append(c.out, '}')
		c.i++
		return nil
	}
	for {
		c.ws()
		if c.i >= len(c.in) || c.in[c.i] != '"' {
			return c.syntaxErr("looking for beginning of object key string")
		}
		if err := c.str(); err != nil {
			return err
		}
		c.ws()
		if c.i >= len(c.in) || c.in[c.i] != ':' {
			return c.syntaxErr("after object key")
		}
		c.out = append(c.out, ':')
		c.i++
		if err := c.value(); err != nil {
			return err
		}
		if done, err := c.next('}', "after object key:value pair"); done || err != nil {
			return err
		}
	}
}

// array compacts an array; with elems, it records where each element of it
// lies in out.
func (c *compactor) array(elems *[][2]int) error {
	c.out = append(c.out, '[')
	c.i++
	c.ws()
	if c.i < len(c.in) && c.in[c.i] == ']' {
		c.out = append(c.out, ']')
		c.i++
		return nil
	}
	for {
		c.ws()
		start, inStart := len(c.out), c.i
		if err := c.value(); err != nil {
			return err
		}
		if elems != nil {
			*elems = append(*elems, [2]int{start, len(c.out)})
			c.inStarts = append(c.inStarts, inStart)
		}
		if done, err := c.next(']', "after array element"); done || err != nil {
			return err
		}
	}
}

// next consumes what follows a member or element: "," (more to come) or
// the closing bracket (done).
func (c *compactor) next(closing byte, what string) (done bool, err error) {
	c.ws()
	if c.i >= len(c.in) {
		return false, errEOF
	}
	switch c.in[c.i] {
	case ',':
		c.out = append(c.out, ',')
		c.i++
		return false, nil
	case closing:
		c.out = append(c.out, closing)
		c.i++
		return true, nil
	}
	return false, c.syntaxErr(what)
}

func (c *compactor) str() error {
	start := c.i
	c.i++
	for c.i < len(c.in) {
		switch ch := c.in[c.i]; {
		case ch == '"':
			c.i++
			c.out = append(c.out, c.in[start:c.i]...)
			return nil
		case ch == '\\':
			c.i++
			if c.i >= len(c.in) {
				return errEOF
			}
			switch c.in[c.i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				c.i++
			case 'u':
				c.i++
				for range 4 {
					if c.i >= len(c.in) {
						return errEOF
					}
					if !isHex(c.in[c.i]) {
						return c.syntaxErr("in \\u hexadecimal character escape")
					}
					c.i++
				}
			default:
				return c.syntaxErr("in string escape code")
			}
		case ch < 0x20:
			return c.syntaxErr("in string literal")
		default:
			c.i++
		}
	}
	return errEOF
}

func isHex(b byte) bool {
	return b >= '0' && b <= '9' || b >= 'a' && b <= 'f' || b >= 'A' && b <= 'F'
}

func (c *compactor) digits() int {
	n := 0
	for c.i < len(c.in) && c.in[c.i] >= '0' && c.in[c.i] <= '9' {
		c.i++
		n++
	}
	return n
}

func (c *compactor) number() error {
	start := c.i
	if c.in[c.i] == '-' {
		c.i++
	}
	if c.i >= len(c.in) {
		return errEOF
	}
	switch {
	case c.in[c.i] == '0':
		c.i++
	case c.in[c.i] >= '1' && c.in[c.i] <= '9':
		c.digits()
	default:
		return c.syntaxErr("in numeric literal")
	}
	if c.i < len(c.in) && c.in[c.i] == '.' {
		c.i++
		if c.digits() == 0 {
			return c.syntaxErr("after decimal point in numeric literal")
		}
	}
	if c.i < len(c.in) && (c.in[c.i] == 'e' || c.in[c.i] == 'E') {
		c.i++
		if c.i < len(c.in) && (c.in[c.i] == '+' || c.in[c.i] == '-') {
			c.i++
		}
		if c.digits() == 0 {
			return c.syntaxErr("in exponent of numeric literal")
		}
	}
	c.out = append(c.out, c.in[start:c.i]...)
	return nil
}

func (c *compactor) lit(word string) error {
	for k := 0; k < len(word); k++ {
		if c.i >= len(c.in) {
			return errEOF
		}
		if c.in[c.i] != word[k] {
			return c.syntaxErr("in literal " + word)
		}
		c.i++
	}
	c.out = append(c.out, word...)
	return nil
}

// end checks that only whitespace follows the top-level value.
func (c *compactor) end() error {
	c.ws()
	if c.i < len(c.in) {
		return c.syntaxErr("after top-level value")
	}
	return nil
}
