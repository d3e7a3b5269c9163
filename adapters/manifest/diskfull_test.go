package manifest

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/refinery/refinery-worker/internal/testkit/testsvc"
	"github.com/refinery/refinery-worker/pipeline"
)

// smallDisk mounts a tmpfs of size bytes at a new directory.
func smallDisk(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		msg := "mounting a tmpfs (needs root): " + strings.TrimSpace(string(out))
		if os.Getenv(testsvc.RequireRealEnv) == "1" {
			t.Fatalf("%s is required with %s=1: %v", msg, testsvc.RequireRealEnv, err)
		}
		t.Skipf("skipping: %s: %v", msg, err)
	}
	t.Cleanup(func() { _ = exec.Command("umount", "-l", dir).Run() })
	return dir
}

// fill writes a file until the disk is full.
func fill(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 4096)
	for {
		if _, err := f.Write(buf); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			return
		}
	}
}

// A journal append cut short by a full disk must not take the next entry
// with it: the entry recorded once space is back survives a close that
// cannot bring manifest.json up to date, and is folded in at the next start.
func TestShortJournalWriteLosesNoLaterEntry(t *testing.T) {
	dir := smallDisk(t, "64k")
	path := filepath.Join(dir, "manifest.json")
	s, err := Open(Options{Path: path, FlushInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := s.Record(ctx, outcome("c-0", "first", pipeline.StatusBuilt)); err != nil {
		t.Fatal(err)
	}
	filler := filepath.Join(dir, "filler")
	fill(t, filler)
	// Larger than what is left of the journal's last page: the write is cut.
	big := outcome("c-1", "big", pipeline.StatusFailed)
	big.Entry.Metadata["error"] = strings.Repeat("x", 3*4096)
	if err := s.Record(ctx, big); err == nil {
		t.Fatal("Record on a full disk succeeded")
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	if err := s.Record(ctx, outcome("c-2", "after", pipeline.StatusBuilt)); err != nil {
		t.Fatalf("Record with space again: %v", err)
	}
	fill(t, filler) // full again at close: manifest.json cannot be rewritten
	if err := s.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(Options{Path: path, FlushInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	for claim, want := range map[string]pipeline.Status{"c-0": pipeline.StatusBuilt, "c-2": pipeline.StatusBuilt} {
		if st, ok := s2.Recorded(claim); !ok || st != want {
			t.Errorf("claim %s recorded = %v, %q after restart; want %q", claim, ok, st, want)
		}
	}
	if _, ok := s2.Recorded("c-1"); ok {
		t.Error("the entry whose Record failed is recorded")
	}
}
