package transport

import (
	"testing"

	"github.com/refinery/refinery-worker/internal/testkit/parallel"
)

// TestMain runs four of the parallel tests at once even where GOMAXPROCS is
// 2: each has its own redis-server or Kafka and mostly waits on claim,
// session and build timers (an explicit -parallel wins).
func TestMain(m *testing.M) { parallel.Main(m, 4) }
