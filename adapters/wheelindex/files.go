package wheelindex

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
)

// tmpPrefix starts every temporary file; the server never serves dot files.
const tmpPrefix = ".tmp-"

// lockFile holds an exclusive flock on path until Close. Workers sharing
// OUTPUT_DIR serialise their changes to the index with it.
func lockFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open index lock: %w", err)
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock index: %w", err)
	}
	return f, nil
}

// writeAtomic replaces path with data: a temporary file in the same
// directory, fsynced, renamed into place. Readers see the old or the new
// content, never a part.
func writeAtomic(path string, data []byte) error { return write(path, data, true) }

// write is writeAtomic; sync false skips the fsync, for files a crash may
// leave stale without harm (the counts, which index rebuild recounts).
func write(path string, data []byte, sync bool) error {
	f, err := os.CreateTemp(filepath.Dir(path), tmpPrefix+"*")
	if err != nil {
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil && sync {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, 0o644)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	return nil
}

// stage puts a copy of src (a hard link when the file system allows, else a
// copy) at a temporary name in dir and returns that name. The worker's
// builds put wheels into OUTPUT_DIR by rename, never by rewriting a file in
// place, so a hard link's bytes do not change under the index.
func stage(src, dir string) (string, error) {
	tmp := filepath.Join(dir, fmt.Sprintf("%s%d-%s", tmpPrefix, os.Getpid(), randHex(8)))
	if err := os.Link(src, tmp); err == nil {
		return tmp, nil
	}
	in, err := os.Open(src)
	if err != nil {
		return "", fmt.Errorf("open wheel: %w", err)
	}
	defer in.Close()
	out, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return "", fmt.Errorf("copy wheel: %w", err)
	}
	_, err = io.Copy(out, in)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("copy wheel: %w", err)
	}
	return tmp, nil
}

// hashFile returns the sha256 (hex) and size of path, and fsyncs it so its
// bytes are on disk before any page lists them.
func hashFile(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, fmt.Errorf("hash %s: %w", filepath.Base(path), err)
	}
	if err := f.Sync(); err != nil {
		return "", 0, fmt.Errorf("sync %s: %w", filepath.Base(path), err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
