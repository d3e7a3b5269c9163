// Package tempfile creates the temporary files of atomic replacements
// (write, fsync, rename) so that a later process can tell those a killed
// writer left behind, and removes them.
//
// A file is named <prefix><pid>-<random><suffix> and stays flock'ed
// (exclusive) while its writer has it open. A file is left over when nobody
// holds its lock and its writer is gone: the pid in its name is no process
// here, or it is older than the caller's staleness bound (a writer in another
// pid namespace, or a name without a pid from an earlier version).
package tempfile

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/refinery/refinery-worker/adapters/regfile"
)

// Create creates and locks a new file in dir named prefix<pid>-<random>suffix,
// mode 0600. Close releases the lock.
func Create(dir, prefix, suffix string) (*os.File, error) {
	for range 100 {
		b := make([]byte, 6)
		_, _ = rand.Read(b) // crypto/rand.Read never fails on Linux
		name := filepath.Join(dir, prefix+strconv.Itoa(os.Getpid())+"-"+hex.EncodeToString(b)+suffix)
		f, err := regfile.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if err := flock(f, syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			_ = f.Close()
			_ = os.Remove(name)
			return nil, fmt.Errorf("lock %s: %w", name, err)
		}
		return f, nil
	}
	return nil, fmt.Errorf("create temp file in %s: no free name", dir)
}

// RemoveLeftovers removes the files in dir named prefix*suffix that a gone
// writer left: unlocked, and named after a pid that is no live process, or
// not changed for staleAfter. It returns the paths removed; a file it cannot
// judge or remove is kept.
func RemoveLeftovers(dir, prefix, suffix string, staleAfter time.Duration) []string {
	des, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var removed []string
	for _, de := range des {
		name := de.Name()
		if de.IsDir() || len(name) < len(prefix)+len(suffix) || !strings.HasPrefix(name, prefix) || !strings.HasSuffix(name, suffix) {
			continue
		}
		p := filepath.Join(dir, name)
		if leftover(p, strings.TrimSuffix(strings.TrimPrefix(name, prefix), suffix), staleAfter) {
			if os.Remove(p) == nil {
				removed = append(removed, p)
			}
		}
	}
	return removed
}

// leftover reports whether the temp file p (mid: its name between prefix and
// suffix) belongs to no live writer.
func leftover(p, mid string, staleAfter time.Duration) bool {
	f, err := regfile.Open(p)
	if err != nil {
		return false
	}
	defer f.Close()
	if flock(f, syscall.LOCK_EX|syscall.LOCK_NB) != nil {
		return false // its writer has it open
	}
	if fi, err := f.Stat(); err == nil && time.Since(fi.ModTime()) > staleAfter {
		return true
	}
	pidText, _, ok := strings.Cut(mid, "-")
	pid, err := strconv.Atoi(pidText)
	if !ok || err != nil || pid <= 0 || pid == os.Getpid() {
		return false
	}
	return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}

// flock applies how (syscall.LOCK_*) to f, retrying on EINTR.
func flock(f *os.File, how int) error {
	for {
		err := syscall.Flock(int(f.Fd()), how)
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}
