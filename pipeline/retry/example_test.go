package retry_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/refinery/refinery-worker/pipeline/retry"
)

func ExampleDo() {
	// The caller states its limits where it configures the policy.
	p := retry.Policy{Initial: 100 * time.Millisecond, Max: time.Second, MaxAttempts: 4,
		Timer: &fakeTimer{}} // tests: no real waits
	calls := 0
	err := retry.Do(context.Background(), p, func(context.Context) error {
		calls++
		if calls < 3 {
			return errors.New("connection refused")
		}
		return nil
	}, func(r retry.Retry) {
		fmt.Printf("attempt %d failed (%v), next in %v\n", r.Attempt, r.Err, r.Wait)
	})
	fmt.Println("calls:", calls, "err:", err)
	// Output:
	// attempt 1 failed (connection refused), next in 100ms
	// attempt 2 failed (connection refused), next in 200ms
	// calls: 3 err: <nil>
}

func ExamplePolicy_Delay() {
	// A caller that schedules instead of sleeping (a requeue's not_before).
	p := retry.Policy{Initial: time.Minute, Max: 10 * time.Minute}
	for n := 1; n <= 5; n++ {
		fmt.Println(n, p.Delay(n))
	}
	// Output:
	// 1 1m0s
	// 2 2m0s
	// 3 4m0s
	// 4 8m0s
	// 5 10m0s
}
