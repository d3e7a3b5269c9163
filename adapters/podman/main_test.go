package podman

import (
	"testing"

	"github.com/refinery/refinery-worker/internal/testkit/parallel"
)

// TestMain runs four of the parallel tests at once even where GOMAXPROCS is
// 2: they mostly wait on podman and on builds in containers (an explicit -parallel wins).
func TestMain(m *testing.M) { parallel.Main(m, 4) }
