package outbox

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/refinery/refinery-worker/adapters/regfile"
)

// Several workers may share one CACHE_DIR. Each Outbox therefore owns an
// instance directory, Dir/instances/<id>, holding an exclusive flock on its
// lock file for as long as it is open (the kernel drops the lock when the
// process dies). Open adopts the records of every instance whose lock is free
// (a worker that died or closed), moving them into its own directory, so the
// reports of a dead worker are delivered by the next one that starts.

const (
	instancesDir = "instances"
	lockFile     = "lock"
)

// openInstance creates and locks a new instance directory under root. It is
// prepared under a dot name and renamed when locked, so that no other process
// can take it for a dead one.
func openInstance(root string) (dir string, lock *os.File, err error) {
	var b [6]byte
	_, _ = rand.Read(b[:])
	id := fmt.Sprintf("%d-%s", os.Getpid(), hex.EncodeToString(b[:]))
	tmp := filepath.Join(root, "."+id)
	if err := os.MkdirAll(filepath.Join(tmp, pendingDir), 0o700); err != nil {
		return "", nil, fmt.Errorf("create instance: %w", err)
	}
	lock, err = regfile.OpenFile(filepath.Join(tmp, lockFile), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return "", nil, fmt.Errorf("create instance lock: %w", err)
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		_ = lock.Close()
		return "", nil, fmt.Errorf("lock instance: %w", err)
	}
	dir = filepath.Join(root, id)
	if err := os.Rename(tmp, dir); err != nil {
		_ = lock.Close()
		return "", nil, fmt.Errorf("publish instance: %w", err)
	}
	if err := regfile.SyncDir(root); err != nil {
		_ = lock.Close()
		return "", nil, err
	}
	return dir, lock, nil
}

// adoptOrphans moves the batch files of unlocked instances under root into
// this instance's pending directory, each under a number from reserve, in
// their order, and returns those numbers.
func adoptOrphans(root, ownDir string, reserve func() uint64) ([]uint64, error) {
	ents, err := os.ReadDir(root)
	if err != nil {
		return nil, fmt.Errorf("read instances: %w", err)
	}
	ownPending := filepath.Join(ownDir, pendingDir)
	var adopted []uint64
	for _, e := range ents {
		name := e.Name()
		dir := filepath.Join(root, name)
		if !e.IsDir() || dir == ownDir {
			continue
		}
		if strings.HasPrefix(name, ".") {
			// An instance that died before it was published holds nothing.
			if tryLock(dir) {
				_ = os.RemoveAll(dir)
			}
			continue
		}
		lock, ok := lockIfFree(dir)
		if !ok {
			continue // a live worker owns it
		}
		files, err := batchFiles(filepath.Join(dir, pendingDir))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			_ = lock.Close()
			return adopted, err
		}
		for _, n := range files {
			to := reserve()
			if err := os.Rename(filepath.Join(dir, pendingDir, recName(n)), filepath.Join(ownPending, recName(to))); err != nil {
				_ = lock.Close()
				return adopted, fmt.Errorf("adopt records: %w", err)
			}
			adopted = append(adopted, to)
		}
		if err := regfile.SyncDir(ownPending); err != nil {
			_ = lock.Close()
			return adopted, err
		}
		_ = os.RemoveAll(dir)
		_ = lock.Close()
	}
	return adopted, nil
}

func lockIfFree(dir string) (*os.File, bool) {
	f, err := regfile.OpenFile(filepath.Join(dir, lockFile), os.O_RDWR, 0o600)
	if errors.Is(err, os.ErrNotExist) {
		f, err = regfile.OpenFile(filepath.Join(dir, lockFile), os.O_CREATE|os.O_RDWR, 0o600)
	}
	if err != nil {
		return nil, false
	}
	if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil {
		_ = f.Close()
		return nil, false
	}
	return f, true
}

func tryLock(dir string) bool {
	f, ok := lockIfFree(dir)
	if ok {
		_ = f.Close()
	}
	return ok
}
