package cpuuse

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestSinceCountsCPUAndABlockingWait(t *testing.T) {
	start := Now()
	deadline := time.Now().Add(20 * time.Millisecond)
	for time.Now().Before(deadline) { // spin: CPU time, not a sleep
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	time.AfterFunc(5*time.Millisecond, func() { w.Close() })
	_, _ = r.Read(make([]byte, 1)) // parks until the writer closes
	u := Since(start)
	if u.CPU < 10*time.Millisecond {
		t.Errorf("CPU %v after a 20 ms spin, want at least 10 ms", u.CPU)
	}
	if u.Voluntary+u.Involuntary < 1 {
		t.Errorf("no context switch counted across a blocking wait: %+v", u)
	}
}

func TestPerItem(t *testing.T) {
	for _, tc := range []struct {
		cpu   time.Duration
		items int
		want  float64
	}{
		{time.Second, 1000, 1000},
		{350 * time.Millisecond, 1000, 350},
		{0, 10, 0},
	} {
		if got := (Usage{CPU: tc.cpu}).PerItem(tc.items); got != tc.want {
			t.Errorf("Usage{CPU: %v}.PerItem(%d) = %v, want %v", tc.cpu, tc.items, got, tc.want)
		}
	}
}

func TestSinceCountsFirstTouchOfMappedMemory(t *testing.T) {
	const pages = 256
	mem, err := syscall.Mmap(-1, 0, pages*os.Getpagesize(), syscall.PROT_READ|syscall.PROT_WRITE,
		syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Munmap(mem)
	start := Now()
	for i := 0; i < len(mem); i += os.Getpagesize() {
		mem[i] = 1
	}
	if u := Since(start); u.MinorFaults < pages/2 {
		t.Errorf("%d minor faults after touching %d fresh pages, want at least %d", u.MinorFaults, pages, pages/2)
	}
}

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

// The thread Now takes for the runtime's monitor sleeps in nanosleep, as
// sysmon's usleep does while a processor is busy (no other thread of a Go
// program does), and its CPU is part of the process's.
func TestMonitorIsTheThreadInNanosleep(t *testing.T) {
	start := Now()
	if !start.MonitorKnown {
		t.Fatal("no monitor thread found in /proc/self/task")
	}
	seen := map[string]int{}
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) && seen[strconv.Itoa(syscall.SYS_NANOSLEEP)] < 5 {
		spin := time.Now().Add(time.Millisecond)
		for time.Now().Before(spin) { // keep this processor busy: the monitor polls, not parks
		}
		b, err := os.ReadFile("/proc/self/task/" + strconv.Itoa(start.monitorTID) + "/syscall")
		if err != nil {
			t.Fatal(err)
		}
		nr, _, _ := strings.Cut(strings.TrimSpace(string(b)), " ")
		seen[nr]++
	}
	if seen[strconv.Itoa(syscall.SYS_NANOSLEEP)] < 5 {
		t.Errorf("thread %d (pid %d) was not seen in nanosleep; its system calls when sampled: %v",
			start.monitorTID, os.Getpid(), seen)
	}
	u := Since(start)
	if !u.MonitorKnown || u.Monitor < 0 || u.Monitor > u.CPU {
		t.Errorf("monitor CPU %v (known %v) against the process's %v", u.Monitor, u.MonitorKnown, u.CPU)
	}
}
