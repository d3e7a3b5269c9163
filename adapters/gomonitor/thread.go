// Package gomonitor finds the Go runtime's monitor thread (sysmon) of this
// process, reads its CPU time and sets its timer slack.
//
// The monitor runs no goroutine, so pprof never samples it, yet its CPU is
// the process's: it wakes every 20 µs while it keeps taking processors from
// threads blocked in system calls, and backs off towards 10 ms once it finds
// nothing to do. A worker whose two builds each wait in waitid for their
// podman client keeps it at 20 µs, and on a virtual machine each of those
// wake-ups is dear (docs/performance.md).
//
// runtime.main starts it before any other thread (before the package inits,
// the garbage collector's workers or any goroutine), so it is the thread whose
// id follows the process id most closely. Thread ids are handed out upwards
// and wrap at /proc/sys/kernel/pid_max.
package gomonitor

import (
	"bytes"
	"os"
	"strconv"
	"time"
)

// Thread is the id of this process's monitor thread; false when
// /proc/self/task cannot be read or holds no thread but the main one.
func Thread() (int, bool) { return ThreadOf(os.Getpid()) }

// ThreadOf is the id of the monitor thread of Go process pid (the thread
// that follows pid), read from /proc/<pid>/task.
func ThreadOf(pid int) (int, bool) {
	des, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/task")
	if err != nil {
		return 0, false
	}
	tids := make([]int, 0, len(des))
	for _, de := range des {
		if tid, err := strconv.Atoi(de.Name()); err == nil {
			tids = append(tids, tid)
		}
	}
	return followingID(pid, tids, pidMax())
}

// followingID is the id among ids (other than pid) created first after pid,
// ids being handed out upwards from pid and wrapping at limit.
func followingID(pid int, ids []int, limit int) (int, bool) {
	best, bestGap := 0, 0
	for _, id := range ids {
		if id == pid {
			continue
		}
		gap := id - pid
		if gap < 0 {
			gap += limit
		}
		if best == 0 || gap < bestGap {
			best, bestGap = id, gap
		}
	}
	return best, best != 0
}

// pidMax is /proc/sys/kernel/pid_max, else Linux's largest (4194304).
func pidMax() int {
	b, err := os.ReadFile("/proc/sys/kernel/pid_max")
	if err == nil {
		if n, err := strconv.Atoi(string(bytes.TrimSpace(b))); err == nil && n > 0 {
			return n
		}
	}
	return 1 << 22
}

// CPU is the time thread tid of this process has run on a CPU (the first
// field of its schedstat, in ns).
func CPU(tid int) (time.Duration, bool) {
	b, err := os.ReadFile("/proc/self/task/" + strconv.Itoa(tid) + "/schedstat")
	if err != nil {
		return 0, false
	}
	first, _, _ := bytes.Cut(b, []byte(" "))
	ns, err := strconv.ParseInt(string(first), 10, 64)
	if err != nil {
		return 0, false
	}
	return time.Duration(ns), true
}
