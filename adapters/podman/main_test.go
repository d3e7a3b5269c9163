package podman

import (
	"fmt"
	"os"
	"testing"

	"github.com/refinery/refinery-worker/internal/testkit/parallel"
)

// TestMain runs four of the parallel tests at once even where GOMAXPROCS is
// 2: they mostly wait on podman and on builds in containers (an explicit
// -parallel wins).
func TestMain(m *testing.M) {
	if err := parallel.AtLeast(4); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	os.Exit(m.Run())
}
