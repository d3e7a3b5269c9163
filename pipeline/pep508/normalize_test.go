package pep508

import (
	"regexp"
	"strings"
	"testing"
)

// normalizeRef is PEP 503's own definition: re.sub(r"[-_.]+", "-", name).lower().
func normalizeRef(s string) string {
	return strings.ToLower(regexp.MustCompile(`[-_.]+`).ReplaceAllString(s, "-"))
}

func TestNormalizeNameMatchesPEP503(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"requests", "requests"},
		{"Django", "django"},
		{"zope.interface", "zope-interface"},
		{"typing_extensions", "typing-extensions"},
		{"a-_.-b", "a-b"},
		{"a--b", "a-b"},
		{"-lead", "-lead"},
		{"._lead", "-lead"},
		{"trail_.", "trail-"},
		{"Ünïcode_Name", "ünïcode-name"},
		{"", ""},
	} {
		if got := NormalizeName(c.in); got != c.want || got != normalizeRef(c.in) {
			t.Errorf("NormalizeName(%q) = %q, want %q (reference %q)", c.in, got, c.want, normalizeRef(c.in))
		}
	}
}

func FuzzNormalizeName(f *testing.F) {
	for _, s := range []string{"requests", "Zope.Interface", "a-_.-b", "--", "Ü_x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := NormalizeName(s), normalizeRef(s); got != want {
			t.Errorf("NormalizeName(%q) = %q, reference %q", s, got, want)
		}
	})
}
