// Package parallel lets a test binary whose tests mostly wait (on podman,
// on worker processes, on a package index) run more of its parallel tests
// at once than Go's default of GOMAXPROCS, which is 2 on a small CI machine.
package parallel

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"testing"
)

// flagName is the testing package's -parallel flag as a test binary sees it.
const flagName = "test.parallel"

// AtLeast raises -test.parallel to n unless the command line set it: an
// explicit `go test -parallel N` always wins. Call it from TestMain before
// m.Run; it parses the command line if nothing has yet.
func AtLeast(n int) error {
	if !flag.Parsed() {
		flag.Parse()
	}
	return raise(flag.CommandLine, n)
}

// raise sets fs's -test.parallel to n when fs (already parsed) did not get
// it on its command line and its value is below n.
func raise(fs *flag.FlagSet, n int) error {
	f := fs.Lookup(flagName)
	if f == nil {
		return nil // not a test binary's flag set
	}
	explicit := false
	fs.Visit(func(v *flag.Flag) { explicit = explicit || v.Name == flagName })
	cur, err := strconv.Atoi(f.Value.String())
	if explicit || err != nil || cur >= n {
		return nil
	}
	if err := fs.Set(flagName, strconv.Itoa(n)); err != nil {
		return fmt.Errorf("raise -%s to %d: %w", flagName, n, err)
	}
	return nil
}

// Main is a whole TestMain for a package whose tests need nothing else: it
// raises -test.parallel to at least n (see AtLeast), runs the tests and
// exits with their status.
func Main(m *testing.M, n int) {
	if err := AtLeast(n); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	os.Exit(m.Run())
}
