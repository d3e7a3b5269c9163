package podman

import (
	"errors"
	"fmt"
	"strings"
)

// SplitCommand splits s (WORKER_RUN_CMD) into words the way a POSIX shell
// tokenises a simple command, without ever running a shell:
//
//   - blanks (space, tab, newline) separate words outside quotes;
//   - '...' keeps everything literally;
//   - "..." keeps everything literally except \" \\ \$ \` and backslash-newline;
//   - an unquoted backslash keeps the next character literally
//     (backslash-newline joins lines);
//   - empty quotes (single or double) make an empty word.
//
// Because nothing is expanded, whatever a shell would expand or interpret is an
// error rather than a silent difference: an unquoted | & ; < > ( ), and an
// unescaped $ or ` outside single quotes. Wrap such a command explicitly, e.g.
// sh -c 'make && make install'. An unterminated quote or a trailing backslash
// is an error. An empty or blank s gives no words and no error.
func SplitCommand(s string) ([]string, error) {
	var (
		words  []string
		cur    strings.Builder
		inWord bool
	)
	end := func() {
		if inWord {
			words = append(words, cur.String())
			cur.Reset()
			inWord = false
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case ' ', '\t', '\n':
			end()
		case '\\':
			if i+1 >= len(s) {
				return nil, errors.New("trailing backslash")
			}
			i++
			if s[i] != '\n' {
				cur.WriteByte(s[i])
				inWord = true
			}
		case '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, fmt.Errorf("unterminated single quote at byte %d", i)
			}
			cur.WriteString(s[i+1 : i+1+j])
			inWord = true
			i += j + 1
		case '"':
			n, err := doubleQuoted(s[i+1:], &cur)
			if err != nil {
				return nil, fmt.Errorf("at byte %d: %w", i, err)
			}
			inWord = true
			i += n + 1
		case '|', '&', ';', '<', '>', '(', ')':
			return nil, fmt.Errorf("shell operator %q at byte %d: the command is not run by a shell (quote it, or use sh -c '...')", c, i)
		case '$', '`':
			return nil, fmt.Errorf("%q at byte %d would be expanded by a shell; quote it with '...' or escape it", c, i)
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	end()
	return words, nil
}

// doubleQuoted reads the inside of "..." from s (after the opening quote) into
// cur and returns the index of the closing quote in s.
func doubleQuoted(s string, cur *strings.Builder) (int, error) {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '"':
			return i, nil
		case '\\':
			if i+1 < len(s) {
				switch n := s[i+1]; n {
				case '"', '\\', '$', '`':
					cur.WriteByte(n)
					i++
					continue
				case '\n':
					i++
					continue
				}
			}
			cur.WriteByte(c)
		case '$', '`':
			return 0, fmt.Errorf("%q inside double quotes would be expanded by a shell; use '...' or escape it", c)
		default:
			cur.WriteByte(c)
		}
	}
	return 0, errors.New("unterminated double quote")
}

// Quote returns s as one shell word: unchanged when it holds only characters
// no shell treats specially, else in single quotes. SplitCommand(Join(args))
// gives args back.
func Quote(s string) string {
	if s == "" {
		return "''"
	}
	safe := true
	for i := 0; i < len(s) && safe; i++ {
		c := s[i]
		safe = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			strings.IndexByte("_@%+=:,./-", c) >= 0
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Join quotes every argument (Quote) and joins them with spaces: the command
// as one would type it into a shell.
func Join(args []string) string {
	n := 0
	for _, a := range args {
		n += len(a) + 3 // a space and, when quoted, two quotes
	}
	var b strings.Builder
	b.Grow(n)
	for i, a := range args {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(Quote(a))
	}
	return b.String()
}
