// Package regfile opens regular files and directories as os.File without
// Go's poller.
//
// os.Open and os.OpenFile try to put every descriptor they open on the
// runtime's poller: on Linux they set O_NONBLOCK (two fcntl calls), ask epoll
// for it (refused with EPERM for a regular file or a directory) and set the
// descriptor back to blocking (two more fcntl calls). Five system calls per
// open, for nothing. open(2) and os.NewFile (one fcntl, to read the status
// flags) give the same *os.File. The queue and manifest paths open 1.5 to 2
// files per item.
package regfile

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// OpenFile opens name as os.OpenFile does (flag from os.O_*, O_CLOEXEC
// always added; perm's permission bits when the file is created). Errors are
// *fs.PathError, as os.OpenFile's. Use it for regular files and directories
// only: a pipe, socket or terminal opened this way is not on the poller, so
// its reads block a thread and deadlines are not supported.
func OpenFile(name string, flag int, perm fs.FileMode) (*os.File, error) {
	for {
		fd, err := syscall.Open(name, flag|syscall.O_CLOEXEC, uint32(perm.Perm()))
		if err == nil {
			return os.NewFile(uintptr(fd), name), nil
		}
		if !errors.Is(err, syscall.EINTR) {
			return nil, &fs.PathError{Op: "open", Path: name, Err: err}
		}
	}
}

// Open opens name for reading, as os.Open does.
func Open(name string) (*os.File, error) { return OpenFile(name, os.O_RDONLY, 0) }

// ReadFile reads the whole file name, as os.ReadFile does (with what was
// read before an error).
func ReadFile(name string) ([]byte, error) {
	f, err := Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	size := 0
	if fi, err := f.Stat(); err == nil && fi.Size() < 1<<40 {
		size = int(fi.Size())
	}
	var buf bytes.Buffer
	buf.Grow(size + bytes.MinRead) // EOF is then read without a copy
	_, err = buf.ReadFrom(f)
	return buf.Bytes(), err
}

// SyncDir fsyncs the directory dir, so that the creations, renames and
// removals in it so far survive a power loss, in the order of the SyncDir
// calls that follow them (a rename is durable when its directory's SyncDir
// returns, not before).
func SyncDir(dir string) error {
	d, err := Open(dir)
	if err != nil {
		return fmt.Errorf("sync dir %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync dir %s: %w", dir, err)
	}
	return nil
}
