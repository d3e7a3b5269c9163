package main

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/refinery/refinery-worker/adapters/gomonitor"
)

// serve gives the runtime's monitor thread the timer slack of
// MONITOR_TIMER_SLACK_US (10 ms by default) and leaves it with 0; without
// CAP_SYS_NICE it cannot, and its log says what it lacks.
func TestServeSetsTheMonitorThreadsTimerSlack(t *testing.T) {
	own, err := os.ReadFile("/proc/self/timerslack_ns") // what a child inherits
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, value string
		want        time.Duration
	}{
		{"default", "", 10 * time.Millisecond},
		{"set", "2500", 2500 * time.Microsecond},
		{"off", "0", 0}, // 0: as inherited
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			addr := freeAddr(t)
			e.vars["WORKER_HTTP_ADDR"] = addr
			e.vars["LOG_LEVEL"] = "info"
			e.vars["LOG_FORMAT"] = "text"
			if tc.value != "" {
				e.vars["MONITOR_TIMER_SLACK_US"] = tc.value
			}
			c := e.command("serve")
			var stderr bytes.Buffer
			c.Stderr = &stderr
			if err := c.Start(); err != nil {
				t.Fatal(err)
			}
			defer func() {
				_ = c.Process.Signal(syscall.SIGTERM)
				_ = c.Wait()
			}()
			waitHTTP(t, "http://"+addr+"/health")
			tid, ok := gomonitor.ThreadOf(c.Process.Pid)
			if !ok {
				t.Fatalf("no monitor thread in /proc/%d/task", c.Process.Pid)
			}
			got, err := gomonitor.TimerSlack(tid)
			if errors.Is(err, syscall.EPERM) { // no CAP_SYS_NICE here, nor in the worker
				if tc.value != "0" && !strings.Contains(stderr.String(), "CAP_SYS_NICE") {
					t.Errorf("without CAP_SYS_NICE the log does not say so:\n%s", stderr.String())
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := tc.want
			if want == 0 {
				ns, _ := time.ParseDuration(strings.TrimSpace(string(own)) + "ns")
				want = ns
			}
			if got != want {
				t.Errorf("MONITOR_TIMER_SLACK_US=%q: monitor thread %d's slack %v, want %v; log:\n%s", tc.value, tid, got, want, stderr.String())
			}
		})
	}
}
