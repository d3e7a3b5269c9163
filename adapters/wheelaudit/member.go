package wheelaudit

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"os"
)

// memberReader gives random access to one ELF member for debug/elf:
// a stored member is read in place from the wheel; a deflated one is
// inflated into memory, spilling to a temporary file past
// Limits.MaxMemoryBytes, so a large library does not sit in memory whole.
// close releases the temporary file.
func (b *budget) memberReader(f *zip.File, wheel io.ReaderAt, wheelSize int64) (r io.ReaderAt, closeFn func(), err error) {
	if f.Method == zip.Store && f.Flags&0x1 == 0 {
		off, err := f.DataOffset()
		if err != nil {
			return nil, nil, fmt.Errorf("member %s: %w", f.Name, err)
		}
		size := int64(f.CompressedSize64)
		if f.CompressedSize64 != f.UncompressedSize64 || size < 0 || off < 0 || off > wheelSize || size > wheelSize-off {
			return nil, nil, fmt.Errorf("member %s: stored sizes %d/%d at offset %d do not fit the %d-byte wheel",
				f.Name, f.CompressedSize64, f.UncompressedSize64, off, wheelSize)
		}
		return io.NewSectionReader(wheel, off, size), func() {}, nil
	}
	max := b.limits.MaxMemberBytes
	if left := b.limits.MaxTotalBytes - b.used; left < max {
		max = left
	}
	rc, err := f.Open()
	if err != nil {
		return nil, nil, fmt.Errorf("member %s: %w", f.Name, err)
	}
	defer rc.Close()
	sw := &spillWriter{memLimit: b.limits.MaxMemoryBytes, dir: b.limits.SpillDir}
	if n := f.UncompressedSize64; n > 0 && n <= uint64(sw.memLimit) && n <= uint64(max) {
		sw.buf.Grow(int(n)) // the declared size is only a hint: Write checks the real one
	}
	n, err := io.Copy(sw, io.LimitReader(rc, max+1))
	b.used += n
	if err == nil && n > max {
		err = fmt.Errorf("more than %d uncompressed bytes (limit per file %d, per wheel %d)", max, b.limits.MaxMemberBytes, b.limits.MaxTotalBytes)
	}
	if err != nil {
		sw.discard()
		return nil, nil, fmt.Errorf("member %s: %w", f.Name, err)
	}
	if sw.file != nil {
		return sw.file, sw.discard, nil
	}
	return bytes.NewReader(sw.buf.Bytes()), func() {}, nil
}

// spillWriter keeps up to memLimit bytes in memory, then moves to a
// temporary file.
type spillWriter struct {
	memLimit int64
	dir      string
	buf      bytes.Buffer
	file     *os.File
}

func (s *spillWriter) Write(p []byte) (int, error) {
	if s.file == nil && int64(s.buf.Len()+len(p)) > s.memLimit {
		f, err := os.CreateTemp(s.dir, "wheelaudit-*.elf")
		if err != nil {
			return 0, fmt.Errorf("spill to a temporary file: %w", err)
		}
		s.file = f
		if _, err := f.Write(s.buf.Bytes()); err != nil {
			return 0, fmt.Errorf("spill to a temporary file: %w", err)
		}
		s.buf = bytes.Buffer{}
	}
	if s.file != nil {
		return s.file.Write(p)
	}
	return s.buf.Write(p)
}

func (s *spillWriter) discard() {
	if s.file != nil {
		_ = s.file.Close()
		_ = os.Remove(s.file.Name())
		s.file = nil
	}
}
