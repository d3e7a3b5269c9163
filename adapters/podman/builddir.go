package podman

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// makeJobDir creates a job's build dir with one mkdir: its parent,
// OUTPUT_DIR, exists (NewRunner made it) unless it was removed meanwhile,
// which costs a MkdirAll. A dir an earlier run of the job left is used as
// it is (findWheels takes only wheels newer than this run).
func makeJobDir(dir string) error {
	err := os.Mkdir(dir, 0o755)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, fs.ErrExist):
		if st, serr := os.Stat(dir); serr == nil && st.IsDir() {
			return nil
		}
		return fmt.Errorf("create %s: %w", dir, err)
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("create %s: %w", dir, err)
		}
		return nil
	}
	return fmt.Errorf("create %s: %w", dir, err)
}

// removeJobDir removes a job's build dir: one rmdir when it is empty (its
// wheels were moved out, or the build made none), else everything in it.
func removeJobDir(dir string) error {
	err := syscall.Rmdir(dir)
	if err == nil || errors.Is(err, syscall.ENOENT) {
		return nil
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("remove %s: %w", dir, err)
	}
	return nil
}
