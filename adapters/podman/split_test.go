package podman

import (
	"slices"
	"strings"
	"testing"
)

func TestSplitCommand(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		wantErr string
	}{
		{"", nil, ""},
		{"  \t\n ", nil, ""},
		{"refinery-build", []string{"refinery-build"}, ""},
		{"python3 -m pip  wheel\t.", []string{"python3", "-m", "pip", "wheel", "."}, ""},
		{`sh -c 'make && make install'`, []string{"sh", "-c", "make && make install"}, ""},
		{`echo "a b" 'c d' e\ f`, []string{"echo", "a b", "c d", "e f"}, ""},
		{`a'b'"c"d`, []string{"abcd"}, ""},
		{`'' ""`, []string{"", ""}, ""},
		{`"x\"y\\z\$"`, []string{`x"y\z$`}, ""},
		{`"keep \n backslash"`, []string{`keep \n backslash`}, ""},
		{"a\\\nb", []string{"ab"}, ""},
		{`'it'\''s'`, []string{"it's"}, ""},
		{`'$HOME' \$x \;`, []string{"$HOME", "$x", ";"}, ""},
		{`echo 'unterminated`, nil, "unterminated single quote"},
		{`echo "unterminated`, nil, "unterminated double quote"},
		{`echo \`, nil, "trailing backslash"},
		{`make && make install`, nil, "shell operator"},
		{`echo hi; reboot`, nil, "shell operator"},
		{`cat </etc/passwd`, nil, "shell operator"},
		{`echo $(reboot)`, nil, "expanded"},
		{"echo `reboot`", nil, "expanded"},
		{`echo "$HOME"`, nil, "expanded"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := SplitCommand(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("SplitCommand(%q) = %q, %v; want error containing %q", tc.in, got, err, tc.wantErr)
				}
				return
			}
			if err != nil || !slices.Equal(got, tc.want) {
				t.Fatalf("SplitCommand(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestQuoteRoundTrip(t *testing.T) {
	args := []string{"podman", "run", "-e", "X=a b", "it's", "", "$(reboot)", "a\nb", `back\slash`, "`x`", "ünïcode", "--label", "k=v"}
	got, err := SplitCommand(Join(args))
	if err != nil || !slices.Equal(got, args) {
		t.Fatalf("round trip of %q via %q = %q, %v", args, Join(args), got, err)
	}
}

// FuzzSplitCommand: never panics, never returns both words and an error, and
// whatever it accepts survives Join → SplitCommand unchanged.
func FuzzSplitCommand(f *testing.F) {
	for _, s := range []string{"", "a b", `sh -c 'x && y'`, `"a\"b"`, `a\ b`, `''`, "a\\\nb", `"$x"`, `'unterminated`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		words, err := SplitCommand(s)
		if err != nil {
			if words != nil {
				t.Fatalf("words %q with error %v", words, err)
			}
			return
		}
		again, err := SplitCommand(Join(words))
		if err != nil || !slices.Equal(again, words) {
			t.Fatalf("SplitCommand(%q) = %q; Join = %q re-splits to %q, %v", s, words, Join(words), again, err)
		}
	})
}
