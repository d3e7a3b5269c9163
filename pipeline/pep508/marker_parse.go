package pep508

import (
	"fmt"
	"strings"
)

// markerParser is a recursive-descent parser over the PEP 508 marker grammar.
type markerParser struct {
	src string
	pos int
}

func (p *markerParser) errorf(format string, args ...any) error {
	return fmt.Errorf("%w: %q at offset %d: %s", ErrInvalidMarker, p.src, p.pos, fmt.Sprintf(format, args...))
}

func (p *markerParser) skipSpace() {
	for p.pos < len(p.src) && (p.src[p.pos] == ' ' || p.src[p.pos] == '\t') {
		p.pos++
	}
}

// keyword consumes word if it follows (after spaces) as a whole word.
func (p *markerParser) keyword(word string) bool {
	save := p.pos
	p.skipSpace()
	if strings.HasPrefix(p.src[p.pos:], word) {
		end := p.pos + len(word)
		if end == len(p.src) || !isIdentByte(p.src[end]) {
			p.pos = end
			return true
		}
	}
	p.pos = save
	return false
}

func (p *markerParser) parseOr() (markerNode, error) {
	l, err := p.parseAnd()
	if err != nil {
		return nil, err
	}
	for p.keyword("or") {
		r, err := p.parseAnd()
		if err != nil {
			return nil, err
		}
		l = boolNode{and: false, l: l, r: r}
	}
	return l, nil
}

func (p *markerParser) parseAnd() (markerNode, error) {
	l, err := p.parseExpr()
	if err != nil {
		return nil, err
	}
	for p.keyword("and") {
		r, err := p.parseExpr()
		if err != nil {
			return nil, err
		}
		l = boolNode{and: true, l: l, r: r}
	}
	return l, nil
}

func (p *markerParser) parseExpr() (markerNode, error) {
	p.skipSpace()
	if p.pos < len(p.src) && p.src[p.pos] == '(' {
		p.pos++
		n, err := p.parseOr()
		if err != nil {
			return nil, err
		}
		p.skipSpace()
		if p.pos >= len(p.src) || p.src[p.pos] != ')' {
			return nil, p.errorf("missing )")
		}
		p.pos++
		return n, nil
	}
	lhs, err := p.parseOperand()
	if err != nil {
		return nil, err
	}
	op, err := p.parseOp()
	if err != nil {
		return nil, err
	}
	rhs, err := p.parseOperand()
	if err != nil {
		return nil, err
	}
	return compareNode{lhs: lhs, op: op, rhs: rhs}, nil
}

func (p *markerParser) parseOperand() (operand, error) {
	p.skipSpace()
	if p.pos >= len(p.src) {
		return operand{}, p.errorf("expected a variable or a quoted string")
	}
	if q := p.src[p.pos]; q == '"' || q == '\'' {
		end := strings.IndexByte(p.src[p.pos+1:], q)
		if end < 0 {
			return operand{}, p.errorf("unterminated string")
		}
		val := p.src[p.pos+1 : p.pos+1+end]
		p.pos += end + 2
		return operand{value: val}, nil
	}
	start := p.pos
	for p.pos < len(p.src) && isIdentByte(p.src[p.pos]) {
		p.pos++
	}
	name := p.src[start:p.pos]
	canon, ok := markerVariables[name]
	if !ok {
		p.pos = start
		return operand{}, p.errorf("unknown marker variable %q", name)
	}
	return operand{variable: true, value: canon}, nil
}

var markerOps = []string{"===", "==", "!=", "<=", ">=", "~=", "<", ">"}

func (p *markerParser) parseOp() (string, error) {
	p.skipSpace()
	for _, op := range markerOps {
		if strings.HasPrefix(p.src[p.pos:], op) {
			p.pos += len(op)
			return op, nil
		}
	}
	if p.keyword("in") {
		return "in", nil
	}
	save := p.pos
	if p.keyword("not") && p.keyword("in") {
		return "not in", nil
	}
	p.pos = save
	return "", p.errorf("expected a comparison operator")
}

func isIdentByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.'
}
