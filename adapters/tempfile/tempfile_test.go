package tempfile

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// A file this process holds open is never a leftover; once closed, one named
// after a dead pid is, and one without a pid only when stale.
func TestRemoveLeftovers(t *testing.T) {
	dir := t.TempDir()
	open, err := Create(dir, ".q.tmp-", "")
	if err != nil {
		t.Fatal(err)
	}
	defer open.Close()
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	deadName := filepath.Join(dir, ".q.tmp-"+strconv.Itoa(dead.Process.Pid)+"-ab")
	noPid := filepath.Join(dir, ".q.tmp-12345")
	for _, p := range []string{deadName, noPid} {
		if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	removed := RemoveLeftovers(dir, ".q.tmp-", "", time.Hour)
	if len(removed) != 1 || removed[0] != deadName {
		t.Fatalf("removed %v, want only %s", removed, deadName)
	}
	if _, err := os.Stat(open.Name()); err != nil {
		t.Errorf("the open file was removed: %v", err)
	}
	old := time.Now().Add(-2 * time.Hour)
	_ = os.Chtimes(noPid, old, old)
	if removed := RemoveLeftovers(dir, ".q.tmp-", "", time.Hour); len(removed) != 1 || removed[0] != noPid {
		t.Errorf("stale file without pid: removed %v", removed)
	}
}
