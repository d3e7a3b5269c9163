package pyindex

import (
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"os"
	"strings"
)

// Size limits for what the client reads from an index.
const (
	// maxPage bounds a project page or a .metadata file.
	maxPage = 256 << 20
	// maxDownload bounds a whole distribution file spooled to disk.
	maxDownload = 4 << 30
)

// errTooLarge is wrapped when a response exceeds its limit.
var errTooLarge = fmt.Errorf("response too large")

// readLimited reads at most limit bytes and fails beyond.
func readLimited(r io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%w: over %d bytes", errTooLarge, limit)
	}
	return b, nil
}

// hashingReader hashes what passes through it with every strong algorithm
// the index announced.
type hashingReader struct {
	r      io.Reader
	want   map[string]string
	hashes map[string]hash.Hash
	n      int64
}

func newHashingReader(r io.Reader, announced map[string]string) *hashingReader {
	h := &hashingReader{r: r, want: map[string]string{}, hashes: map[string]hash.Hash{}}
	for algo, hexsum := range announced {
		if newHash, ok := hashers[strings.ToLower(algo)]; ok {
			h.want[algo] = hexsum
			h.hashes[algo] = newHash()
		}
	}
	return h
}

func (h *hashingReader) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	h.n += int64(n)
	if h.n > maxDownload {
		return n, fmt.Errorf("%w: over %d bytes", errTooLarge, int64(maxDownload))
	}
	for _, hh := range h.hashes {
		hh.Write(p[:n])
	}
	return n, err
}

// verify checks the hashes of everything read so far.
func (h *hashingReader) verify() error {
	for algo, hh := range h.hashes {
		got := hh.Sum(nil)
		want, err := hex.DecodeString(h.want[algo])
		if err != nil || subtle.ConstantTimeCompare(got, want) != 1 {
			return fmt.Errorf("%w: %s is %x, the index says %s", ErrHashMismatch, algo, got, h.want[algo])
		}
	}
	return nil
}

// spool copies r to a temporary file, checking announced hashes, and
// returns the file positioned anywhere; the caller closes and removes it
// with removeSpool.
func spool(r io.Reader, announced map[string]string) (*os.File, int64, error) {
	f, err := os.CreateTemp("", "pyindex-*")
	if err != nil {
		return nil, 0, fmt.Errorf("spool file: %w", err)
	}
	hr := newHashingReader(r, announced)
	n, err := io.Copy(f, hr)
	if err == nil {
		err = hr.verify()
	}
	if err != nil {
		removeSpool(f)
		return nil, 0, err
	}
	return f, n, nil
}

func removeSpool(f *os.File) {
	f.Close()
	os.Remove(f.Name())
}
