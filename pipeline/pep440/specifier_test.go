package pep440

import (
	"errors"
	"slices"
	"testing"
)

func TestSpecifierMatches(t *testing.T) {
	tests := []struct {
		spec    string
		matches []string
		misses  []string
	}{
		// PEP 440 "Compatible release".
		{"~=2.2", []string{"2.2", "2.3", "2.9.1", "2.2.post3"}, []string{"2.1", "3.0", "1!2.2"}},
		{"~=1.4.5", []string{"1.4.5", "1.4.9", "1.4.5+local"}, []string{"1.5.0", "1.4.4", "1.4.5a1"}},
		{"~=2.2.post3", []string{"2.2.post3", "2.3"}, []string{"2.2", "2.2.post2", "3.0"}},
		{"~=1.4.5a4", []string{"1.4.5a4", "1.4.5", "1.4.6"}, []string{"1.4.5a3", "1.5"}},
		{"~=2.2.0", []string{"2.2.0", "2.2.9"}, []string{"2.3.0"}},
		{"~=1.4.5.0", []string{"1.4.5.0", "1.4.5.7"}, []string{"1.4.6.0"}},
		// "Version matching".
		{"==1.1", []string{"1.1", "1.1.0", "1.1+local.7"}, []string{"1.1.post1", "1.1a1", "1.1.1"}},
		{"==1.1.post1", []string{"1.1.post1"}, []string{"1.1", "1.1.post2"}},
		{"==1.1.*", []string{"1.1", "1.1.post1", "1.1.5", "1.1a1", "1.1.0+x"}, []string{"1.2", "1.10"}},
		{"==1.*", []string{"1.0", "1.99"}, []string{"2.0", "0.9"}},
		{"==1.0.0.*", []string{"1.0", "1"}, []string{"1.0.1"}},
		{"==1!1.*", []string{"1!1.0"}, []string{"1.0"}},
		{"==1.1+local.1", []string{"1.1+local.1"}, []string{"1.1", "1.1+local.2"}},
		// "Version exclusion".
		{"!=1.1", []string{"1.1.post1", "1.2"}, []string{"1.1", "1.1.0", "1.1+x"}},
		{"!=1.1.*", []string{"1.2", "1.0"}, []string{"1.1", "1.1.post1", "1.1.9"}},
		// Inclusive ordered comparison.
		{"<=2.0", []string{"2.0", "1.0", "2.0+local", "2.0rc1"}, []string{"2.0.post1", "2.1"}},
		{">=2.0", []string{"2.0", "2.0+local", "2.0.post1"}, []string{"2.0rc1", "1.9"}},
		// Exclusive ordered comparison.
		{">1.7", []string{"1.7.1", "1.8"}, []string{"1.7", "1.7.0.post1", "1.7+local", "1.7.0+local", "1.6"}},
		{">1.7.post2", []string{"1.7.1", "1.7.0.post3"}, []string{"1.7.0", "1.7.post2"}},
		{"<1.7", []string{"1.6", "1.6.9rc1"}, []string{"1.7", "1.7.0.dev0", "1.7rc1", "1.7.0a1"}},
		{"<1.7rc1", []string{"1.7a1", "1.7.dev0", "1.6"}, []string{"1.7rc1", "1.7"}},
		// Arbitrary equality.
		{"===1.0", []string{"1.0"}, []string{"1.0.0", "1.0+local"}},
		// Whitespace and normalisation in the operand.
		{"==  V1.0-ALPHA1", []string{"1.0a1"}, []string{"1.0"}},
	}
	for _, tt := range tests {
		sp, err := ParseSpecifier(tt.spec)
		if err != nil {
			t.Errorf("ParseSpecifier(%q): %v", tt.spec, err)
			continue
		}
		for _, v := range tt.matches {
			if !sp.Matches(MustParse(v)) {
				t.Errorf("%q should match %q", tt.spec, v)
			}
		}
		for _, v := range tt.misses {
			if sp.Matches(MustParse(v)) {
				t.Errorf("%q should not match %q", tt.spec, v)
			}
		}
	}
}

func TestParseSpecifierRejects(t *testing.T) {
	for _, in := range []string{
		"", "1.0", "=1.0", "=>1.0", "~=1", "~=1.0+local", ">=1.0+local", "<1.0+l", "==1.0a1.*",
		"==1.0.post1.*", "!=1.0+x.*", "==1.*.0", "==", ">=", "=== a b", "==1.0,", ">=1.0,,<2",
		"==*", "~=1.*",
	} {
		if _, err := ParseSpecifiers(in); in != "" && err == nil {
			t.Errorf("ParseSpecifiers(%q) succeeded, want error", in)
		} else if err != nil && !errors.Is(err, ErrInvalidSpecifier) {
			t.Errorf("ParseSpecifiers(%q) error %v does not wrap ErrInvalidSpecifier", in, err)
		}
	}
}

func TestSpecifiersString(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{">= 1.0 , < 2", ">=1.0,<2"},
		{"~=1.4.5a4", "~=1.4.5a4"},
		{"==1.1.*,!=1.1.3", "==1.1.*,!=1.1.3"},
		{"== v1.0-1", "==1.0.post1"},
		{"===foo", "===foo"},
	}
	for _, tt := range tests {
		ss, err := ParseSpecifiers(tt.in)
		if err != nil {
			t.Fatalf("ParseSpecifiers(%q): %v", tt.in, err)
		}
		if got := ss.String(); got != tt.want {
			t.Errorf("String(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestSpecifiersContainsPrereleases(t *testing.T) {
	tests := []struct {
		spec     string
		version  string
		allowPre bool
		want     bool
	}{
		{">=1.0", "2.0a1", false, false},
		{">=1.0", "2.0a1", true, true},
		{">=1.0", "2.0", false, true},
		{"", "2.0.dev1", false, false},
		{"", "2.0.dev1", true, true},
		{">=1.0b1", "2.0a1", false, true}, // a clause names a pre-release
		{"==2.0rc1", "2.0rc1", false, true},
		{"!=2.0rc1", "2.0rc2", false, false}, // != does not opt in
		{">=1.0,<2", "1.5", false, true},
		{">=1.0,<2", "2.0", false, false},
		{">=1.0,!=1.5.*", "1.5.1", false, false},
	}
	for _, tt := range tests {
		ss, err := ParseSpecifiers(tt.spec)
		if err != nil {
			t.Fatalf("ParseSpecifiers(%q): %v", tt.spec, err)
		}
		if got := ss.Contains(MustParse(tt.version), tt.allowPre); got != tt.want {
			t.Errorf("%q.Contains(%q, %v) = %v, want %v", tt.spec, tt.version, tt.allowPre, got, tt.want)
		}
	}
}

func TestSpecifiersFilter(t *testing.T) {
	tests := []struct {
		spec     string
		versions []string
		allowPre bool
		want     []string
	}{
		{">=1.0", []string{"0.9", "1.0", "1.1a1", "1.1"}, false, []string{"1.0", "1.1"}},
		{">=1.0", []string{"0.9", "1.0", "1.1a1", "1.1"}, true, []string{"1.0", "1.1a1", "1.1"}},
		// Nothing else fits: the pre-releases that match are taken.
		{">=1.0", []string{"0.9", "1.1a1", "1.1b1"}, false, []string{"1.1a1", "1.1b1"}},
		{"", []string{"1.0rc1", "1.0.dev0"}, false, []string{"1.0rc1", "1.0.dev0"}},
		// A clause names a pre-release: they are all in.
		{">=1.1a1", []string{"1.0", "1.1a1", "1.1", "1.2b1"}, false, []string{"1.1a1", "1.1", "1.2b1"}},
		{"<1.0", []string{"1.0", "2.0a1"}, false, nil},
	}
	for _, tt := range tests {
		ss, err := ParseSpecifiers(tt.spec)
		if err != nil {
			t.Fatalf("ParseSpecifiers(%q): %v", tt.spec, err)
		}
		var vs []Version
		for _, s := range tt.versions {
			vs = append(vs, MustParse(s))
		}
		var got []string
		for _, v := range ss.Filter(vs, tt.allowPre) {
			got = append(got, v.String())
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("%q.Filter(%v, %v) = %v, want %v", tt.spec, tt.versions, tt.allowPre, got, tt.want)
		}
	}
}
