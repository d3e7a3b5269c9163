package filequeue

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/refinery/refinery-worker/adapters/regfile"
	"github.com/refinery/refinery-worker/adapters/tempfile"
	"github.com/refinery/refinery-worker/pipeline/retry"
)

// flock applies how (syscall.LOCK_*) to f, retrying on EINTR.
func flock(f *os.File, how int) error {
	for {
		err := syscall.Flock(int(f.Fd()), how)
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}

// randHex returns n random bytes as hex.
func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on Linux
	return hex.EncodeToString(b)
}

// samePath reports whether path still names the file open as f.
func samePath(f *os.File, path string) (bool, error) {
	fi, err := f.Stat()
	if err != nil {
		return false, err
	}
	pi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return os.SameFile(fi, pi), nil
}

// lockQueue opens the queue file and takes flock(LOCK_EX) on it, creating it
// as "[]" when missing. It returns only once the locked descriptor is the file
// the path names (a rename may have replaced it meanwhile). It polls with a
// capped backoff until ctx or Options.LockTimeout ends the wait.
func (q *Queue) lockQueue(ctx context.Context) (*os.File, error) {
	if q.opts.LockTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, q.opts.LockTimeout)
		defer cancel()
	}
	// A held lock is polled (LOCK_NB) under the worker's retry policy:
	// 50µs doubling to 5ms, until ctx or LockTimeout ends the wait.
	policy := retry.Policy{Initial: 50 * time.Microsecond, Max: 5 * time.Millisecond}
	busy := 0
	for {
		f, err := regfile.Open(q.path)
		if errors.Is(err, fs.ErrNotExist) {
			if err := q.createEmpty(); err != nil {
				return nil, err
			}
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("open queue %s: %w", q.path, err)
		}
		err = flock(f, syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			same, serr := samePath(f, q.path)
			if serr != nil {
				_ = f.Close()
				return nil, fmt.Errorf("stat queue %s: %w", q.path, serr)
			}
			if same {
				return f, nil
			}
			_ = f.Close() // replaced by a rename: lock the new file
			continue
		}
		_ = f.Close()
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("lock queue %s: %w", q.path, err)
		}
		busy++
		if werr := policy.Wait(ctx, busy); werr != nil {
			return nil, fmt.Errorf("lock queue %s: %w", q.path, werr)
		}
	}
}

// createEmpty creates the queue file as "[]" unless it exists, atomically (a
// reader never sees it empty).
func (q *Queue) createEmpty() error {
	tmp, err := q.writeTemp(q.path, []byte("[]"), false, 0o644)
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	_ = tmp.Close()
	if err := os.Link(tmp.Name(), q.path); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("create queue %s: %w", q.path, err)
	}
	return q.syncDir(q.dir)
}

// writeTemp writes data to a new temporary file beside path and fsyncs it.
// With lock, the file is flock'ed (LOCK_EX) before anything is written.
func (q *Queue) writeTemp(path string, data []byte, lock bool, perm fs.FileMode) (*os.File, error) {
	f, err := tempfile.Create(filepath.Dir(path), tempPrefix(path), "")
	if err != nil {
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	if err := fill(f, data, lock, perm); err != nil {
		discard(f)
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	return f, nil
}

// discard closes and removes a temp file that will not be renamed (nil: none).
func discard(f *os.File) {
	if f != nil {
		_ = f.Close()
		_ = os.Remove(f.Name())
	}
}

// fill makes the new, empty file f hold data durably: flock'ed first with
// lock, then its mode, its bytes and an fsync.
func fill(f *os.File, data []byte, lock bool, perm fs.FileMode) error {
	if lock {
		if err := flock(f, syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			return err
		}
	}
	if err := f.Chmod(perm); err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		return err
	}
	return f.Sync()
}

// tempPrefix starts the names of path's temp files.
func tempPrefix(path string) string { return "." + filepath.Base(path) + ".tmp-" }

// removeLeftoverTemps removes the temp files of the queue and in-flight files
// that dead writers left (a kill during a write); they can be as large as the
// queue.
func (q *Queue) removeLeftoverTemps() {
	for _, p := range []string{q.path, q.flightPath} {
		for _, gone := range tempfile.RemoveLeftovers(q.dir, tempPrefix(p), "", staleTemp) {
			q.opts.Logger.Info("removed a temp file a dead writer left", "path", gone)
		}
	}
}

// replace atomically replaces path with data (temp file, fsync, rename, fsync
// of the directory). With lock it returns the new file, still open and
// flock'ed, so that no other process can lock the new queue file before the
// caller's change is complete; otherwise it returns nil.
func (q *Queue) replace(path string, data []byte, lock bool, perm fs.FileMode) (*os.File, error) {
	f, err := q.writeTemp(path, data, lock, perm)
	if err != nil {
		return nil, err
	}
	return q.commit(f, path, lock)
}

// commit renames the temp file f (written by writeTemp) over path and fsyncs
// the directory; as replace's second half, it returns f still open with
// lock, else closes it. On failure the temp is removed.
func (q *Queue) commit(f *os.File, path string, lock bool) (*os.File, error) {
	if err := os.Rename(f.Name(), path); err != nil {
		discard(f)
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	// The rename is made durable in the directory it happened in: the
	// reserve lives in the owners dir, not beside the queue.
	if err := q.syncDir(filepath.Dir(path)); err != nil {
		// The rename is done and every process sees the new file: report
		// success, or a caller would undo a change that happened.
		q.log.Error("fsync after rename; the change may not survive a power loss", "path", path, "err", err)
	}
	if lock {
		return f, nil
	}
	return nil, f.Close()
}

// replaceVia replaces the queue with data through the temp file tmp (created
// and flock'ed here), running before between the temp's fsync and its rename,
// and undo if the rename fails (see txn.setQueueWith). It returns the new
// queue file, open and flock'ed.
func (q *Queue) replaceVia(tmp string, data []byte, perm fs.FileMode, before, undo func() error) (*os.File, error) {
	f, err := regfile.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("write %s: %w", q.path, err)
	}
	err = fill(f, data, true, perm)
	if err == nil {
		err = q.syncDir(q.dir) // the temp must exist before the reserve names it
	}
	if err != nil {
		discard(f) // f is tmp
		return nil, fmt.Errorf("write %s: %w", q.path, err)
	}
	// From here the reserve side may name tmp: remove tmp only once undo
	// succeeded, else tmp stays as the mark that the queue was not replaced,
	// and this instance's reserve is unusable until it exits.
	undone := func(err error) (*os.File, error) {
		_ = f.Close()
		if uerr := undo(); uerr != nil {
			q.resBroken = fmt.Errorf("reserve left mid-change: %w", uerr)
			q.log.Error("undo a reserve change after a failed queue write; leaving the temp file that marks it undone", "tmp", tmp, "err", uerr)
			return nil, fmt.Errorf("write %s: %w", q.path, err)
		}
		_ = os.Remove(tmp)
		return nil, fmt.Errorf("write %s: %w", q.path, err)
	}
	q.step("temp")
	if err := before(); err != nil {
		return undone(err)
	}
	q.step("before")
	if err := os.Rename(tmp, q.path); err != nil {
		return undone(err)
	}
	if err := q.syncDir(q.dir); err != nil {
		q.log.Error("fsync after rename; the change may not survive a power loss", "path", q.path, "err", err)
	}
	q.step("renamed")
	return f, nil
}

// syncDir fsyncs dir (the queue's directory, or the owners dir for a
// reserve) so that the renames and creations in it are durable in order.
func (q *Queue) syncDir(dir string) error {
	if err := regfile.SyncDir(dir); err != nil {
		return err
	}
	if q.dirSynced != nil {
		q.dirSynced(dir)
	}
	return nil
}

// readQueueFile reads the queue file f from the start, unless it is larger
// than MaxBytes.
func (q *Queue) readQueueFile(f *os.File) ([]byte, error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if err := q.checkSize(fi.Size()); err != nil {
		return nil, err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	buf.Grow(int(fi.Size()) + 512)
	_, err = buf.ReadFrom(f)
	return buf.Bytes(), err
}

// readQueue reads and parses the queue through read, retrying a parse failure
// under the worker's retry policy (pipeline/retry): ParseRetries retries,
// ParseBackoff doubling, no jitter. The control-plane rewrites the file in
// place without locking, so a reader may catch it half-written.
//
// With a cache (only under q.mu), contents identical to the cached ones are not
// parsed again, and a new parse is cached.
func (q *Queue) readQueue(ctx context.Context, read func() ([]byte, error), c *queueCache) ([][]byte, error) {
	policy := retry.Policy{Initial: q.opts.ParseBackoff, MaxAttempts: q.opts.ParseRetries + 1}
	for attempt := 0; ; attempt++ {
		data, err := read()
		var tooLarge *TooLargeError
		if errors.As(err, &tooLarge) {
			return nil, err
		}
		if err != nil {
			return nil, fmt.Errorf("read queue %s: %w", q.path, err)
		}
		if c != nil && c.data != nil && bytes.Equal(data, c.data) {
			return c.items, nil
		}
		items, at, err := parseArrayAt(data)
		if err == nil {
			if c != nil {
				*c = queueCache{data: data, items: items, at: at}
			}
			return items, nil
		}
		if attempt >= q.opts.ParseRetries {
			return nil, fmt.Errorf("parse queue %s (%d bytes, %d attempts): %w", q.path, len(data), attempt+1, err)
		}
		q.log.Warn("queue file does not parse, retrying", "path", q.path, "attempt", attempt+1, "err", err)
		if q.parseFailHook != nil {
			q.parseFailHook(attempt)
		}
		if werr := policy.Wait(ctx, attempt+1); werr != nil {
			return nil, fmt.Errorf("parse queue %s: %w (after: %w)", q.path, werr, err)
		}
	}
}

// readQueueUnlocked reads the queue file by path (missing = empty). Writers
// replace the file by rename, so a plain read sees one whole version, except
// for the control-plane's in-place rewrites, which readQueue retries.
func (q *Queue) readQueueUnlocked(ctx context.Context) ([][]byte, error) {
	return q.readQueue(ctx, func() ([]byte, error) {
		f, err := regfile.Open(q.path)
		if errors.Is(err, fs.ErrNotExist) {
			return []byte("[]"), nil
		}
		if err != nil {
			return nil, err
		}
		defer f.Close()
		return q.readQueueFile(f)
	}, nil)
}
