package gomonitor

import (
	"bufio"
	"bytes"
	"errors"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// mayNice reports whether this process has CAP_SYS_NICE (bit 23 of CapEff),
// which the kernel asks for to read or set another thread's timer slack.
func mayNice(t *testing.T) bool {
	t.Helper()
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "CapEff:"); ok {
			caps, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			if err != nil {
				t.Fatal(err)
			}
			return caps&(1<<23) != 0
		}
	}
	t.Fatal("no CapEff in /proc/self/status")
	return false
}

func monitor(t *testing.T) int {
	t.Helper()
	tid, ok := Thread()
	if !ok {
		t.Fatal("no monitor thread found in /proc/self/task")
	}
	return tid
}

// With CAP_SYS_NICE (root has it) Apply sets the monitor's slack and its
// restore puts the old one back; without, it names the missing capability
// in the log and the monitor's slack cannot even be read.
func TestApplySetsAndRestoresTheMonitorsSlack(t *testing.T) {
	tid := monitor(t)
	var logged bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logged, nil))
	if !mayNice(t) {
		Apply(3*time.Millisecond, log)()
		if _, err := TimerSlack(tid); !errors.Is(err, syscall.EPERM) || !strings.Contains(logged.String(), "CAP_SYS_NICE") {
			t.Errorf("without CAP_SYS_NICE: read %v, log %q; want EPERM and the capability named", err, logged.String())
		}
		return
	}
	before, err := TimerSlack(tid)
	if err != nil {
		t.Fatal(err)
	}
	restore := Apply(3*time.Millisecond, log)
	during, err := TimerSlack(tid)
	if err != nil || during != 3*time.Millisecond {
		t.Errorf("thread %d's slack %v, %v after Apply(3ms), want 3ms; log: %s", tid, during, err, logged.String())
	}
	restore()
	if after, err := TimerSlack(tid); err != nil || after != before {
		t.Errorf("slack %v, %v after restore, want %v as before", after, err, before)
	}
}

func TestApplyZeroDoesNothing(t *testing.T) {
	var logged bytes.Buffer
	Apply(0, slog.New(slog.NewTextHandler(&logged, nil)))()
	if logged.Len() != 0 {
		t.Errorf("Apply(0) logged %q, want nothing done", logged.String())
	}
	if !mayNice(t) {
		return
	}
	tid := monitor(t)
	if d, err := TimerSlack(tid); err != nil || d == 0 {
		t.Errorf("slack %v, %v; want the thread's own", d, err)
	}
}

func TestSetTimerSlackRefusesWhatIsNotPositive(t *testing.T) {
	tid := monitor(t)
	for _, d := range []time.Duration{0, -time.Millisecond} {
		if err := SetTimerSlack(tid, d); err == nil {
			t.Errorf("SetTimerSlack(%d, %v) = nil, want an error", tid, d)
		}
	}
}

// Without CAP_SYS_NICE the kernel refuses another thread's slack with EPERM.
func TestSetTimerSlackOfAnotherThread(t *testing.T) {
	tid := monitor(t)
	if !mayNice(t) {
		if err := SetTimerSlack(tid, 2*time.Millisecond); !errors.Is(err, syscall.EPERM) {
			t.Errorf("without CAP_SYS_NICE: %v, want EPERM", err)
		}
		return
	}
	before, err := TimerSlack(tid)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = SetTimerSlack(tid, before) }()
	if err := SetTimerSlack(tid, 2*time.Millisecond); err != nil {
		t.Fatalf("with CAP_SYS_NICE: %v", err)
	}
	if d, err := TimerSlack(tid); err != nil || d != 2*time.Millisecond {
		t.Errorf("slack %v, %v after setting 2ms", d, err)
	}
}
