package relit

import (
	"fmt"
	"reflect"
	"regexp/syntax"
	"testing"
)

func parse(t testing.TB, expr string) *syntax.Regexp {
	t.Helper()
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		t.Fatal(err)
	}
	return re.Simplify()
}

func TestRequired(t *testing.T) {
	tests := []struct {
		expr string
		want [][]string
	}{
		{`fatal error: \S+\.h: No such file`, [][]string{{"fatal error: ", ".h: No such file"}}},
		{`Killed|out of memory`, [][]string{{"Killed"}, {"out of memory"}}},
		{`(?:gcc|cc1): error`, [][]string{{"gcc", ": error"}, {"cc1", ": error"}}},
		{`x?y*`, [][]string{{}}},          // nothing is required
		{`a{2,}`, [][]string{{"a", "a"}}}, // Simplify spells it a then a+
		{`[é-ü]`, nil},                    // needs a byte ≥ 0x80: no ASCII line matches
		{`(?:a|b|c|d|e|f|g|h|i)(?:1|2|3|4|5|6|7|8|9)`, [][]string{{}}}, // 81 ways: left unchecked
	}
	for _, tc := range tests {
		t.Run(tc.expr, func(t *testing.T) {
			if got := Required(parse(t, tc.expr)); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Required(%q) = %q, want %q", tc.expr, got, tc.want)
			}
		})
	}
}

func TestCommon(t *testing.T) {
	tests := []struct {
		alts [][]string
		want []string
	}{
		{nil, nil},
		{[][]string{{"a", "b", "a"}}, []string{"a", "b"}},
		{[][]string{{"gcc", ": error"}, {"cc1", ": error"}}, []string{": error"}},
		{[][]string{{"x"}, {}}, nil},
	}
	for _, tc := range tests {
		if got := Common(tc.alts); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Common(%q) = %q, want %q", tc.alts, got, tc.want)
		}
	}
}

func ExampleRequired() {
	re, _ := syntax.Parse(`(?:gcc|clang): error: (\S+)`, syntax.Perl)
	alts := Required(re.Simplify())
	fmt.Println(alts)
	fmt.Println(Common(alts))
	// Output:
	// [[gcc : error: ] [clang : error: ]]
	// [: error: ]
}
