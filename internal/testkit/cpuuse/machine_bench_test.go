package cpuuse

import (
	"os"
	"os/exec"
	"runtime"
	"syscall"
	"testing"
)

// BenchmarkMachine prices the kernel operations the worker's per-item cost
// is made of, so that figures from two machines can be told apart by the
// machine: the same worker costs 2-4 times more per item on a VM whose
// kernel shadows page tables than on one that does not. Each sub-benchmark
// reports ns/op for one operation:
//   - syscall: getppid, the cheapest round trip into the kernel;
//   - fault: the first write to a freshly mapped page (a minor fault);
//   - switch: a round trip of one byte between two threads over two pipes,
//     each side blocking in read, also reported per one-way hand-off
//     (ns/switch: a thread woken from a blocking read, what a stage hop or
//     a client's exit costs when the reader had gone to sleep);
//   - spawn: fork, exec and wait of /bin/true, one at a time.
func BenchmarkMachine(b *testing.B) {
	b.Run("syscall", func(b *testing.B) {
		for b.Loop() {
			syscall.Getppid()
		}
	})
	b.Run("fault", func(b *testing.B) {
		page := os.Getpagesize()
		const chunk = 1024 // pages mapped at a time
		var mem []byte
		i := 0
		for b.Loop() {
			if i == len(mem) {
				if mem != nil {
					b.StopTimer()
					mustUnmap(b, mem)
					b.StartTimer()
				}
				var err error
				mem, err = syscall.Mmap(-1, 0, chunk*page, syscall.PROT_READ|syscall.PROT_WRITE,
					syscall.MAP_PRIVATE|syscall.MAP_ANON)
				if err != nil {
					b.Fatal(err)
				}
				i = 0
			}
			mem[i] = 1
			i += page
		}
		if mem != nil {
			mustUnmap(b, mem)
		}
	})
	b.Run("switch", func(b *testing.B) {
		var ping, pong [2]int
		if err := syscall.Pipe(ping[:]); err != nil {
			b.Fatal(err)
		}
		if err := syscall.Pipe(pong[:]); err != nil {
			b.Fatal(err)
		}
		defer closeAll(ping[0], pong[0], pong[1]) // ping[1] is closed below
		done := make(chan struct{})
		go func() { // the echo side, on a thread of its own
			runtime.LockOSThread()
			defer close(done)
			buf := make([]byte, 1)
			for {
				if n, _ := syscall.Read(ping[0], buf); n != 1 {
					return
				}
				if _, err := syscall.Write(pong[1], buf); err != nil {
					return
				}
			}
		}()
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		buf := []byte{1}
		b.ResetTimer()
		for range b.N {
			if _, err := syscall.Write(ping[1], buf); err != nil {
				b.Fatal(err)
			}
			if _, err := syscall.Read(pong[0], buf); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(2*b.N), "ns/switch")
		_ = syscall.Close(ping[1]) // the echo side reads EOF and ends
		<-done
	})
	b.Run("spawn", func(b *testing.B) {
		bin, err := exec.LookPath("true")
		if err != nil {
			b.Skipf("no true(1) on PATH: %v", err)
		}
		for b.Loop() {
			if err := exec.Command(bin).Run(); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func mustUnmap(b *testing.B, mem []byte) {
	b.Helper()
	if err := syscall.Munmap(mem); err != nil {
		b.Fatal(err)
	}
}

func closeAll(fds ...int) {
	for _, fd := range fds {
		_ = syscall.Close(fd)
	}
}
