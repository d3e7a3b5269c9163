package pep440

import (
	"errors"
	"testing"
)

func TestParseNormalises(t *testing.T) {
	tests := []struct{ in, want string }{
		// PEP 440 "Normalization" section examples.
		{"1.0", "1.0"},
		{"1.1RC1", "1.1rc1"},
		{"1.0a1", "1.0a1"},
		{"1.0.a1", "1.0a1"},
		{"1.0-a1", "1.0a1"},
		{"1.0_a1", "1.0a1"},
		{"1.0alpha1", "1.0a1"},
		{"1.0beta2", "1.0b2"},
		{"1.0c1", "1.0rc1"},
		{"1.0pre1", "1.0rc1"},
		{"1.0preview1", "1.0rc1"},
		{"1.0a.1", "1.0a1"},
		{"1.0a-1", "1.0a1"},
		{"1.2a", "1.2a0"},
		{"1.2.post2", "1.2.post2"},
		{"1.2-post2", "1.2.post2"},
		{"1.2_post2", "1.2.post2"},
		{"1.2post2", "1.2.post2"},
		{"1.2.post-2", "1.2.post2"},
		{"1.2.rev2", "1.2.post2"},
		{"1.2.r2", "1.2.post2"},
		{"1.2.post", "1.2.post0"},
		{"1.0-1", "1.0.post1"},
		{"1.2.dev2", "1.2.dev2"},
		{"1.2-dev2", "1.2.dev2"},
		{"1.2dev2", "1.2.dev2"},
		{"1.2.dev", "1.2.dev0"},
		{"1.0+ubuntu-1", "1.0+ubuntu.1"},
		{"1.0+Ubuntu_1", "1.0+ubuntu.1"},
		{"1.0+abc.007", "1.0+abc.7"},
		{"v1.0", "1.0"},
		{"V1.0", "1.0"},
		{"  1.0\n", "1.0"},
		{"00.01.002", "0.1.2"},
		{"0!1.0", "1.0"},
		{"1!1.0", "1!1.0"},
		{"2012.10", "2012.10"},
		{"1.0RC1.POST2.DEV3", "1.0rc1.post2.dev3"},
		{"1.0.post1.dev0+local.7", "1.0.post1.dev0+local.7"},
		{"1!2.0b3-4.dev5+x", "1!2.0b3.post4.dev5+x"},
	}
	for _, tt := range tests {
		v, err := Parse(tt.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.in, err)
			continue
		}
		if got := v.String(); got != tt.want {
			t.Errorf("Parse(%q).String() = %q, want %q", tt.in, got, tt.want)
		}
		// The canonical form parses to itself.
		if again := MustParse(v.String()).String(); again != tt.want {
			t.Errorf("round trip of %q = %q", tt.want, again)
		}
	}
}

func TestParseRejects(t *testing.T) {
	for _, in := range []string{
		"", " ", "a", "1.0.", ".1", "1..0", "1.0+", "1.0+.a", "1.0-", "1.0a1a2", "1,0",
		"1.0 a1", "1.0+ab cd", "1.0.dev1.post1", "1.0-dev-1-", "1.0+a+b", "--1", "1!", "!1",
		"99999999999999999999", "1.0.post99999999999999999999",
		"1.0\x00", "1.0é",
	} {
		if v, err := Parse(in); err == nil {
			t.Errorf("Parse(%q) = %q, want error", in, v)
		} else if !errors.Is(err, ErrInvalidVersion) {
			t.Errorf("Parse(%q) error %v does not wrap ErrInvalidVersion", in, err)
		}
	}
}

func TestAccessors(t *testing.T) {
	v := MustParse("2!1.2.3rc4.post5.dev6+abc.7")
	if v.Epoch() != 2 {
		t.Errorf("Epoch = %d", v.Epoch())
	}
	if r := v.Release(); len(r) != 3 || r[0] != 1 || r[2] != 3 {
		t.Errorf("Release = %v", r)
	}
	if p, ok := v.Pre(); !ok || p != (Pre{Kind: ReleaseCandidate, N: 4}) {
		t.Errorf("Pre = %v %v", p, ok)
	}
	if n, ok := v.Post(); !ok || n != 5 {
		t.Errorf("Post = %d %v", n, ok)
	}
	if n, ok := v.Dev(); !ok || n != 6 {
		t.Errorf("Dev = %d %v", n, ok)
	}
	if got := v.Public(); got != "2!1.2.3rc4.post5.dev6" {
		t.Errorf("Public = %q", got)
	}
	if got := v.BaseVersion(); got != "2!1.2.3" {
		t.Errorf("BaseVersion = %q", got)
	}
	if got := v.LocalString(); got != "abc.7" {
		t.Errorf("LocalString = %q", got)
	}
	if got := v.WithoutLocal().String(); got != "2!1.2.3rc4.post5.dev6" {
		t.Errorf("WithoutLocal = %q", got)
	}
	// Accessors return copies.
	v.Release()[0] = 9
	if v.Release()[0] != 1 {
		t.Error("Release leaked internal slice")
	}
}

func TestIsPrerelease(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"1.0", false}, {"1.0a1", true}, {"1.0b1", true}, {"1.0rc1", true}, {"1.0.dev0", true},
		{"1.0.post1", false}, {"1.0.post1.dev1", true}, {"1.0+local", false}, {"1.0rc1+local", true},
	}
	for _, tt := range tests {
		if got := MustParse(tt.in).IsPrerelease(); got != tt.want {
			t.Errorf("IsPrerelease(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}
