package diskgate

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestDisk(t *testing.T) {
	const mib = 1 << 20
	cases := []struct {
		name    string
		minFree uint64
		free    map[string]uint64 // missing: statfs fails
		wantErr string
		wantLow bool
	}{
		{name: "off", minFree: 0, wantErr: ""},
		{name: "enough everywhere", minFree: 100 * mib, free: map[string]uint64{"/out": 200 * mib, "/cache": 100 * mib}},
		{name: "cache low", minFree: 100 * mib, free: map[string]uint64{"/out": 200 * mib, "/cache": 99 * mib},
			wantErr: "/cache has 99.0 MiB free, below MIN_FREE_DISK (100.0 MiB): not taking new items", wantLow: true},
		{name: "statfs fails", minFree: 1, free: map[string]uint64{"/out": 5},
			wantErr: "statfs /cache: no such dir", wantLow: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var low []bool
			g := New(Options{Dirs: []string{"/out", "/cache"}, MinFree: tc.minFree, OnDisk: func(b bool) { low = append(low, b) }})
			g.free = func(d string) (uint64, error) {
				if n, ok := tc.free[d]; ok {
					return n, nil
				}
				return 0, errors.New("no such dir")
			}
			err := g.Disk(t.Context())
			if got := errString(err); got != tc.wantErr {
				t.Errorf("Disk = %q, want %q", got, tc.wantErr)
			}
			if errString(g.Check()) != tc.wantErr {
				t.Errorf("Check = %v, want the disk's error", g.Check())
			}
			if tc.minFree > 0 && (len(low) == 0 || low[0] != tc.wantLow) {
				t.Errorf("OnDisk calls %v, want low=%v", low, tc.wantLow)
			}
		})
	}
}

func TestDiskCheckIsReusedForASecond(t *testing.T) {
	free, calls := uint64(10), 0
	now := time.Unix(1000, 0)
	g := New(Options{Dirs: []string{"/out"}, MinFree: 5})
	g.free = func(string) (uint64, error) { calls++; return free, nil }
	g.now = func() time.Time { return now }
	if err := g.Disk(t.Context()); err != nil {
		t.Fatal(err)
	}
	free = 1
	now = now.Add(999 * time.Millisecond)
	if err := g.Disk(t.Context()); err != nil || calls != 1 {
		t.Errorf("within a second: err %v, %d statfs calls; want the cached answer", err, calls)
	}
	now = now.Add(time.Millisecond)
	if err := g.Disk(t.Context()); err == nil || calls != 2 {
		t.Errorf("after a second: err %v, %d statfs calls; want a new check", err, calls)
	}
}

func TestPause(t *testing.T) {
	var heard []bool
	g := New(Options{OnPause: func(b bool) { heard = append(heard, b) }})
	if g.Check() != nil || g.Paused() != "" {
		t.Fatal("a new gate is closed")
	}
	g.Pause("operator: maintenance")
	if err := g.Check(); err == nil || err.Error() != "operator: maintenance" || g.Paused() != "operator: maintenance" {
		t.Errorf("paused: Check = %v, Paused = %q", err, g.Paused())
	}
	g.Resume()
	if g.Check() != nil || g.Paused() != "" {
		t.Errorf("resumed: Check = %v, Paused = %q", g.Check(), g.Paused())
	}
	if len(heard) != 2 || !heard[0] || heard[1] {
		t.Errorf("OnPause heard %v, want [true false]", heard)
	}
}

func TestStatfsFreeReadsARealDirectory(t *testing.T) {
	if n, err := statfsFree(t.TempDir()); err != nil || n == 0 {
		t.Errorf("statfsFree = %d, %v", n, err)
	}
	if _, err := statfsFree("/nonexistent/dir"); err == nil {
		t.Error("statfsFree of a missing directory did not fail")
	}
}

func TestHuman(t *testing.T) {
	for n, want := range map[uint64]string{512: "512 B", 2048: "2.0 KiB", 3 << 20: "3.0 MiB", 5 << 30: "5.0 GiB"} {
		if got := human(n); got != want {
			t.Errorf("human(%d) = %q, want %q", n, got, want)
		}
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return strings.TrimSpace(err.Error())
}
