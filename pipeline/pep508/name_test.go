package pep508

import (
	"strings"
	"testing"
)

func TestNormalizeName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Django", "django"},
		{"zope.interface", "zope-interface"},
		{"charset_normalizer", "charset-normalizer"},
		{"Foo.-_Bar", "foo-bar"},
		{"a__b..c--d", "a-b-c-d"},
		{"PyYAML", "pyyaml"},
	}
	for _, tt := range tests {
		if got := NormalizeName(tt.in); got != tt.want {
			t.Errorf("NormalizeName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestValidName(t *testing.T) {
	valid := []string{"a", "A1", "zope.interface", "charset_normalizer", "x-y", "1", strings.Repeat("a", 128)}
	invalid := []string{"", "-a", "a-", ".a", "a.", "a b", "a/b", "ä", "a;b", "a\n", strings.Repeat("a", 129), "../x",
		"\u017f", "a\u212ab"} // long s and Kelvin sign: a case-folding match would take them for s and k
	for _, s := range valid {
		if !ValidName(s) {
			t.Errorf("ValidName(%q) = false", s)
		}
	}
	for _, s := range invalid {
		if ValidName(s) {
			t.Errorf("ValidName(%q) = true", s)
		}
	}
}
