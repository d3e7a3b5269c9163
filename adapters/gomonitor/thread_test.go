package gomonitor

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestFollowingID(t *testing.T) {
	const pidLimit = 4194304
	for _, tc := range []struct {
		name   string
		pid    int
		ids    []int
		want   int
		wantOK bool
	}{
		{"next up", 100, []int{100, 105, 101, 300}, 101, true},
		{"a gap after the pid", 100, []int{100, 140, 120}, 120, true},
		{"only the main thread", 100, []int{100}, 0, false},
		{"ids wrapped after the pid", pidLimit - 4, []int{pidLimit - 4, 7, 300}, 7, true},
		{"before the wrap comes first", pidLimit - 4, []int{pidLimit - 4, 3, pidLimit - 2}, pidLimit - 2, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := followingID(tc.pid, tc.ids, pidLimit)
			if got != tc.want || ok != tc.wantOK {
				t.Errorf("followingID(%d, %v) = %d, %v; want %d, %v", tc.pid, tc.ids, got, ok, tc.want, tc.wantOK)
			}
		})
	}
}

// The thread Thread names sleeps in nanosleep, as sysmon's usleep does while
// a processor is busy (no other thread of a Go program does), and has run.
func TestThreadIsTheOneInNanosleep(t *testing.T) {
	tid, ok := Thread()
	if !ok {
		t.Fatal("no monitor thread found in /proc/self/task")
	}
	nanosleep := strconv.Itoa(syscall.SYS_NANOSLEEP)
	seen := map[string]int{}
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) && seen[nanosleep] < 5 {
		spin := time.Now().Add(time.Millisecond)
		for time.Now().Before(spin) { // keep this processor busy: the monitor polls, not parks
		}
		b, err := os.ReadFile("/proc/self/task/" + strconv.Itoa(tid) + "/syscall")
		if err != nil {
			t.Fatal(err)
		}
		nr, _, _ := strings.Cut(strings.TrimSpace(string(b)), " ")
		seen[nr]++
	}
	if seen[nanosleep] < 5 {
		t.Errorf("thread %d (pid %d) was not seen in nanosleep; its system calls when sampled: %v", tid, os.Getpid(), seen)
	}
	if cpu, ok := CPU(tid); !ok || cpu <= 0 {
		t.Errorf("CPU(%d) = %v, %v; want some run time", tid, cpu, ok)
	}
}
