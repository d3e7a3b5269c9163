package cpuuse

import (
	"os"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/refinery/refinery-worker/adapters/gomonitor"
)

// threadCPU is this thread's CPU time as the kernel's scheduler counts it
// (gomonitor.CPU), a measure apart from the process-wide one under test.
func threadCPU(t *testing.T) time.Duration {
	d, ok := gomonitor.CPU(syscall.Gettid())
	if !ok {
		t.Fatal("no schedstat for this thread in /proc/self/task")
	}
	return d
}

func TestSinceCountsCPUAndABlockingWait(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	start := Now()
	// Spin until this thread has used 20 ms of CPU (not 20 ms of wall
	// time: other tests may share the cores).
	for spun := threadCPU(t); threadCPU(t)-spun < 20*time.Millisecond; {
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	time.AfterFunc(5*time.Millisecond, func() { w.Close() })
	_, _ = r.Read(make([]byte, 1)) // parks until the writer closes
	u := Since(start)
	if u.CPU < 20*time.Millisecond {
		t.Errorf("CPU %v after a spin that took 20 ms of one thread's CPU, want at least that", u.CPU)
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

// The monitor thread's CPU is part of the process's, and known on Linux.
func TestSinceReportsTheMonitorsShare(t *testing.T) {
	start := Now()
	deadline := time.Now().Add(20 * time.Millisecond)
	for time.Now().Before(deadline) { // keep a processor busy: the monitor polls
	}
	u := Since(start)
	if !u.MonitorKnown || u.Monitor < 0 || u.Monitor > u.CPU {
		t.Errorf("monitor CPU %v (known %v) against the process's %v", u.Monitor, u.MonitorKnown, u.CPU)
	}
}
