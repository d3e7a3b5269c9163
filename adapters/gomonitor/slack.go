package gomonitor

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The timer slack is how late the kernel may end a thread's sleep so that
// it can fold wake-ups together: 50 µs by default. The monitor asks for
// 20 µs sleeps while it keeps taking processors from threads in system
// calls; with a slack of 10 ms (its own longest sleep) it keeps the pace it
// has when idle, a podman client's short wait is not seen in two polls in a
// row, and nothing is taken. Its other duties (preempting a goroutine after
// 10 ms, polling the network after 10 ms, handing off a processor held by a
// long system call) are late by at most the slack, as they are when it has
// backed off by itself. The slack of every other thread is left as it is:
// no timer of the program moves.

// TimerSlack is thread tid's timer slack (/proc/<tid>/timerslack_ns).
func TimerSlack(tid int) (time.Duration, error) {
	b, err := os.ReadFile(slackFile(tid))
	if err != nil {
		return 0, fmt.Errorf("read the timer slack of thread %d: %w", tid, err)
	}
	ns, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("read the timer slack of thread %d: %w", tid, err)
	}
	return time.Duration(ns), nil
}

// SetTimerSlack sets thread tid's timer slack. For a thread other than the
// caller's the kernel asks for CAP_SYS_NICE (root has it); without it the
// error wraps syscall.EPERM.
func SetTimerSlack(tid int, d time.Duration) error {
	if d <= 0 {
		return fmt.Errorf("set the timer slack of thread %d: %v is not positive", tid, d)
	}
	if err := os.WriteFile(slackFile(tid), []byte(strconv.FormatInt(d.Nanoseconds(), 10)), 0); err != nil {
		return fmt.Errorf("set the timer slack of thread %d: %w", tid, err)
	}
	return nil
}

func slackFile(tid int) string { return "/proc/" + strconv.Itoa(tid) + "/timerslack_ns" }

// Apply sets the monitor thread's timer slack to slack (0: leaves it) and
// logs what it did. It returns a func that puts the slack the thread had
// back (a no-op when nothing was changed). A failure is logged, never fatal:
// the worker runs as well with the kernel's default, only dearer.
func Apply(slack time.Duration, log *slog.Logger) (restore func()) {
	restore = func() {}
	if slack <= 0 {
		return restore
	}
	tid, ok := Thread()
	if !ok {
		log.Info("runtime monitor thread not found; its timer slack is left as it is")
		return restore
	}
	was, err := TimerSlack(tid)
	if err == nil {
		err = SetTimerSlack(tid, slack)
	}
	if err != nil {
		msg := "runtime monitor thread's timer slack left as it is"
		if errors.Is(err, syscall.EPERM) {
			msg += " (setting it needs CAP_SYS_NICE)"
		}
		log.Info(msg, "err", err)
		return restore
	}
	log.Info("runtime monitor thread's timer slack set", "thread", tid, "slack", slack, "was", was)
	return func() { _ = SetTimerSlack(tid, was) }
}
