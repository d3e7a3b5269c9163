// Package cpuuse reads what this process has used so far (getrusage): CPU
// time, context switches and minor page faults, plus the CPU of the Go
// runtime's monitor thread (/proc), for benchmarks that report them per
// item; BenchmarkMachine prices those operations on the machine at hand.
//
// CPU time is the figure other processes on a shared machine distort least;
// the context switches tell two runs of the same code apart when the
// scheduler, not the code, made one of them dearer (a thread that blocks or
// is preempted more often pays for each switch in system time).
package cpuuse

import (
	"syscall"
	"testing"
	"time"

	"github.com/refinery/refinery-worker/adapters/gomonitor"
)

// Usage is what the process has used since it started.
type Usage struct {
	// CPU is user plus system time.
	CPU time.Duration
	// Voluntary counts the times a thread blocked (a system call that
	// waits, a futex sleep); Involuntary the times one was preempted.
	Voluntary, Involuntary int64
	// MinorFaults counts page faults served without I/O: each is a first
	// touch of memory the process mapped (or got back from the kernel after
	// returning it), and on a virtual machine that shadows page tables each
	// costs far more than on bare metal.
	MinorFaults int64
	// Monitor is the CPU time of the Go runtime's monitor thread (sysmon,
	// see adapters/gomonitor), part of CPU; valid only when MonitorKnown.
	Monitor      time.Duration
	MonitorKnown bool
	monitorTID   int
}

// Now is the process's usage so far; zero if getrusage fails (it cannot for
// RUSAGE_SELF on Linux).
func Now() Usage {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return Usage{}
	}
	u := Usage{CPU: time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), Voluntary: ru.Nvcsw, Involuntary: ru.Nivcsw,
		MinorFaults: ru.Minflt}
	if tid, ok := gomonitor.Thread(); ok {
		u.Monitor, u.MonitorKnown = gomonitor.CPU(tid)
		u.monitorTID = tid
	}
	return u
}

// Since is what was used between start and now.
func Since(start Usage) Usage {
	now := Now()
	u := Usage{CPU: now.CPU - start.CPU, Voluntary: now.Voluntary - start.Voluntary,
		Involuntary: now.Involuntary - start.Involuntary, MinorFaults: now.MinorFaults - start.MinorFaults}
	if start.MonitorKnown && now.MonitorKnown && start.monitorTID == now.monitorTID {
		u.Monitor, u.MonitorKnown, u.monitorTID = now.Monitor-start.Monitor, true, now.monitorTID
	}
	return u
}

// PerItem is the CPU µs per item.
func (u Usage) PerItem(items int) float64 {
	return float64(u.CPU.Microseconds()) / float64(items)
}

// Report reports u spread over items as b's cpu-µs/item, vcsw/item,
// ivcsw/item and minflt/item, and monitor-µs/item (the part of cpu-µs/item
// that the runtime's monitor thread used) when it is known.
func (u Usage) Report(b *testing.B, items int) {
	if u.MonitorKnown {
		b.ReportMetric(float64(u.Monitor.Microseconds())/float64(items), "monitor-µs/item")
	}
	b.ReportMetric(u.PerItem(items), "cpu-µs/item")
	b.ReportMetric(float64(u.Voluntary)/float64(items), "vcsw/item")
	b.ReportMetric(float64(u.Involuntary)/float64(items), "ivcsw/item")
	b.ReportMetric(float64(u.MinorFaults)/float64(items), "minflt/item")
}
