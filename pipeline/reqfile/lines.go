package reqfile

import (
	"fmt"
	"os"
	"regexp"
	"strings"
)

type logicalLine struct {
	number int
	text   string
}

// commentRE is pip's rule: "#" starts a comment at the start of a line or
// after whitespace (so URL fragments survive).
var commentRE = regexp.MustCompile(`(^|\s+)#.*$`)

// logicalLines joins "\"-continued lines, strips comments and blank lines.
func logicalLines(data string) []logicalLine {
	data = strings.TrimPrefix(data, "\ufeff")
	var out []logicalLine
	var buf strings.Builder
	start := 0
	physical := strings.Split(strings.ReplaceAll(data, "\r\n", "\n"), "\n")
	for i, line := range physical {
		if buf.Len() == 0 {
			start = i + 1
		}
		line = commentRE.ReplaceAllString(line, "")
		if strings.HasSuffix(line, `\`) && i < len(physical)-1 {
			buf.WriteString(strings.TrimSuffix(line, `\`))
			continue
		}
		buf.WriteString(line)
		if text := strings.TrimSpace(buf.String()); text != "" {
			out = append(out, logicalLine{number: start, text: text})
		}
		buf.Reset()
	}
	return out
}

// splitOptions separates the requirement from its options: everything from
// the first whitespace-separated token starting with "-" on is options.
func splitOptions(text string) (args string, opts []string) {
	fields := strings.Fields(text)
	for i, f := range fields {
		if strings.HasPrefix(f, "-") {
			return strings.Join(fields[:i], " "), fields[i:]
		}
	}
	return text, nil
}

// envRE is what pip expands in a requirements file: ${NAME} with NAME of
// upper-case letters, digits and underscores.
var envRE = regexp.MustCompile(`\$\{([A-Z0-9_]+)\}`)

// expandEnv replaces ${NAME} with the environment variable's value; an
// unset variable is left as written, as pip does.
func expandEnv(text string) string {
	if !strings.Contains(text, "${") {
		return text
	}
	return envRE.ReplaceAllStringFunc(text, func(m string) string {
		if v, ok := os.LookupEnv(envRE.FindStringSubmatch(m)[1]); ok {
			return v
		}
		return m
	})
}

var hashRE = regexp.MustCompile(`^(sha256:[0-9a-f]{64}|sha384:[0-9a-f]{96}|sha512:[0-9a-f]{128})$`)

// parseHashes accepts only "--hash=algo:hex" and "--hash algo:hex".
func parseHashes(opts []string) ([]string, error) {
	var out []string
	for i := 0; i < len(opts); i++ {
		o, v, hasValue := strings.Cut(opts[i], "=")
		if o != "--hash" {
			return nil, fmt.Errorf("%w: requirement option %q", ErrUnsupported, o)
		}
		if !hasValue {
			if i+1 >= len(opts) {
				return nil, fmt.Errorf("--hash needs a value")
			}
			i++
			v = opts[i]
		}
		v = strings.ToLower(v)
		if !hashRE.MatchString(v) {
			return nil, fmt.Errorf("bad --hash value %q (want sha256:, sha384: or sha512: and hex digits)", v)
		}
		out = append(out, v)
	}
	return out, nil
}

var archiveSuffixes = []string{".whl", ".zip", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".tar"}

// isURLOrPath recognises what pip would treat as a URL, VCS reference or
// local path rather than a named requirement.
func isURLOrPath(s string) bool {
	if strings.Contains(s, "://") || strings.HasPrefix(s, ".") || strings.HasPrefix(s, "/") ||
		strings.HasPrefix(s, "~") || strings.HasPrefix(s, `\`) {
		return true
	}
	for _, vcs := range []string{"git+", "hg+", "svn+", "bzr+"} {
		if strings.HasPrefix(s, vcs) {
			return true
		}
	}
	name, _, _ := strings.Cut(s, ";")
	name = strings.TrimSpace(name)
	for _, suf := range archiveSuffixes {
		if strings.HasSuffix(strings.ToLower(name), suf) {
			return true
		}
	}
	return false
}
