package podman

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"syscall"
)

// dirPool keeps emptied build dirs for the next jobs, each renamed to a
// spare name in OUTPUT_DIR/.build-spares, so that a job's dir is one rename
// out of the pool and one back instead of an mkdir and an rmdir. Only a dir
// known to be empty goes back (its wheels were all moved out); any other is
// removed as before. It is safe for concurrent use.
type dirPool struct {
	dir string // OUTPUT_DIR/.build-spares
	log *slog.Logger

	mu     sync.Mutex
	spares []string
}

const (
	// spareDirs is the name, in OUTPUT_DIR, of the dir holding the pool.
	spareDirs = ".build-spares"
	// maxSpares bounds the pool; emptied dirs beyond it are removed.
	maxSpares = 8
)

// newDirPool returns the pool of the build dirs under outputDir. Spares a
// killed worker left are removed (an empty dir each; a spare another live
// worker still holds may go too, which only makes it create its next dir).
func newDirPool(outputDir string, log *slog.Logger) *dirPool {
	p := &dirPool{dir: filepath.Join(outputDir, spareDirs), log: log}
	des, err := os.ReadDir(p.dir)
	if err != nil {
		return p
	}
	for _, de := range des {
		if err := syscall.Rmdir(filepath.Join(p.dir, de.Name())); err != nil && !errors.Is(err, syscall.ENOENT) {
			log.Warn("remove a spare build dir", "dir", filepath.Join(p.dir, de.Name()), "err", err)
		}
	}
	return p
}

// make makes dir, a job's build dir: a spare renamed into place, else
// makeJobDir. A dir an earlier run of the job left with files in it is used
// as it is (the spare stays in the pool).
func (p *dirPool) make(dir string) error {
	spare := p.take()
	if spare == "" {
		return makeJobDir(dir)
	}
	err := rename(spare, dir) // replaces an empty dir of that name
	if err == nil {
		return nil
	}
	if !errors.Is(err, fs.ErrNotExist) { // the spare is still there
		p.put(spare)
	}
	return makeJobDir(dir)
}

// release takes back dir, a build dir known to be empty. When the pool is
// full (concurrent releases may pass maxSpares by a few), or the rename
// fails, dir is removed.
func (p *dirPool) release(dir string) error {
	if p.full() {
		return removeJobDir(dir)
	}
	spare := filepath.Join(p.dir, randomName())
	err := rename(dir, spare)
	if errors.Is(err, fs.ErrNotExist) && os.Mkdir(p.dir, 0o755) == nil { // first use
		err = rename(dir, spare)
	}
	if err != nil {
		return removeJobDir(dir)
	}
	p.put(spare)
	return nil
}

func (p *dirPool) take() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := len(p.spares)
	if n == 0 {
		return ""
	}
	s := p.spares[n-1]
	p.spares = p.spares[:n-1]
	return s
}

func (p *dirPool) put(spare string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.spares = append(p.spares, spare)
}

func (p *dirPool) full() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.spares) >= maxSpares
}

// randomName is 16 hex digits.
func randomName() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on Linux
	return hex.EncodeToString(b)
}

// rename is rename(2), which os.Rename is without its Lstat of newname:
// that costs a system call and refuses a directory newname, which rename(2)
// replaces when it is empty (a dir pool's spare renamed onto a job's empty
// build dir).
func rename(oldname, newname string) error {
	for {
		err := syscall.Rename(oldname, newname)
		if err == nil {
			return nil
		}
		if !errors.Is(err, syscall.EINTR) {
			return &os.LinkError{Op: "rename", Old: oldname, New: newname, Err: err}
		}
	}
}
