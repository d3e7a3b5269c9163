package parallel

import (
	"flag"
	"io"
	"testing"
)

func TestRaise(t *testing.T) {
	tests := []struct {
		name string
		def  int      // the flag's default, as GOMAXPROCS would make it
		args []string // the test binary's command line
		n    int
		want string
	}{
		{"default below n is raised", 2, nil, 4, "4"},
		{"default at n stays", 4, nil, 4, "4"},
		{"default above n stays", 16, nil, 4, "16"},
		{"explicit lower value wins", 2, []string{"-test.parallel=1"}, 4, "1"},
		{"explicit equal to default wins", 2, []string{"-test.parallel", "2"}, 4, "2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fs := flag.NewFlagSet("x.test", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			fs.Int(flagName, tc.def, "")
			if err := fs.Parse(tc.args); err != nil {
				t.Fatal(err)
			}
			if err := raise(fs, tc.n); err != nil {
				t.Fatal(err)
			}
			if got := fs.Lookup(flagName).Value.String(); got != tc.want {
				t.Errorf("-%s = %s, want %s", flagName, got, tc.want)
			}
		})
	}
}

func TestRaiseWithoutTheFlagDoesNothing(t *testing.T) {
	fs := flag.NewFlagSet("tool", flag.ContinueOnError)
	if err := fs.Parse(nil); err != nil {
		t.Fatal(err)
	}
	if err := raise(fs, 4); err != nil {
		t.Errorf("raise on a flag set without -%s: %v", flagName, err)
	}
}
