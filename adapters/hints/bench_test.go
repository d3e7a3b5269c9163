package hints

import (
	"fmt"
	"strings"
	"testing"
)

// benchCatalog is 2,000 hints shaped like a real catalog's: missing
// headers, libraries, tools and pkg-config modules, a few case-insensitive.
func benchCatalog() []Hint {
	hs := make([]Hint, 0, 2000)
	for i := range 2000 {
		var p string
		switch i % 5 {
		case 0:
			p = fmt.Sprintf(`fatal error: lib%04d/api\.h: No such file or directory`, i)
		case 1:
			p = fmt.Sprintf(`cannot find -lfoo%04d\b`, i)
		case 2:
			p = fmt.Sprintf(`(?i)tool%04d: (?:command )?not found`, i)
		case 3:
			p = fmt.Sprintf(`Package mod%04d was not found in the pkg-config search path`, i)
		default:
			p = fmt.Sprintf(`error: [^\n]*sym%04d[^\n]* undeclared`, i)
		}
		hs = append(hs, Hint{ID: fmt.Sprintf("h%04d", i), Pattern: p, Confidence: 0.8})
	}
	return hs
}

// benchLog is a 1 MB compiler log that ends with one catalog hint's error.
func benchLog() []string {
	var lines []string
	n := 0
	for i := 0; n < MaxLogBytes-200; i++ {
		l := fmt.Sprintf("gcc -pthread -Wall -Werror=format-security -fPIC -I/usr/include/python3.11 -c src/file%05d.c -o build/file%05d.o", i, i)
		if i%7 == 0 {
			l = fmt.Sprintf("src/file%05d.c:%d:5: warning: unused variable 'x%d' [-Wunused-variable]", i, i%300, i)
		}
		lines = append(lines, l)
		n += len(l) + 1
	}
	return append(lines, "src/z.c:1:10: fatal error: lib1000/api.h: No such file or directory", "error: command 'gcc' failed")
}

// BenchmarkMatch is the catalog's match of 2,000 hints against a 1 MB log.
func BenchmarkMatch(b *testing.B) {
	c := Compile(benchCatalog(), nil, nil)
	lines := benchLog()
	b.SetBytes(int64(len(logText(lines))))
	for b.Loop() {
		if m := c.Match(Job{}, lines); len(m) != 1 || m[0].ID != "h1000" {
			b.Fatalf("matches %v", m)
		}
	}
}

// BenchmarkContains is a plain strings.Contains scan of the same patterns
// (as literals), for comparison.
func BenchmarkContains(b *testing.B) {
	hs := benchCatalog()
	text := logText(benchLog())
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		n := 0
		for _, h := range hs {
			if strings.Contains(text, h.Pattern) {
				n++
			}
		}
		_ = n
	}
}

func logText(lines []string) string { return strings.Join(logTail(lines), "\n") }

// BenchmarkCompile is a refresh's cost: compiling 2,000 hints and their
// fragment automaton.
func BenchmarkCompile(b *testing.B) {
	hs := benchCatalog()
	for b.Loop() {
		if c := Compile(hs, nil, nil); c.Len() != 2000 {
			b.Fatalf("%d hints", c.Len())
		}
	}
}
