package config_test

import (
	"fmt"

	"github.com/refinery/refinery-worker/internal/config"
)

func ExampleLoad() {
	cfg, err := config.Load([]string{"QUEUE_BACKEND=redis", "BATCH_SIZE=200", "SHUTDOWN_GRACE=90", "WORKER_ID=w-1"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(cfg.QueueBackend, cfg.BatchSize, cfg.ShutdownGrace, cfg.Continuous(), cfg.ContainerOwner())

	// A bad configuration names every bad variable at once, sorted.
	_, err = config.Load([]string{"BATCH_SIZE=0", "SHUTDOWN_GRACE=never", "LOG_LEVEL=loud"})
	fmt.Println(err)
	// Output:
	// redis 200 1m30s true w-1
	// invalid configuration:
	//   BATCH_SIZE: 0 is outside 1..100000
	//   LOG_LEVEL: "loud" is not debug, info, warn or error
	//   SHUTDOWN_GRACE: "never" is neither a Go duration (90s, 5m) nor seconds
}
