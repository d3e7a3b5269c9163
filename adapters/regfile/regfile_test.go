package regfile_test

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/refinery/refinery-worker/adapters/regfile"
)

func TestReadFileReadsWhatOsReadFileReads(t *testing.T) {
	dir := t.TempDir()
	for _, size := range []int{0, 1, 511, 512, 513, 4096, 100_000} {
		t.Run(strconv.Itoa(size), func(t *testing.T) {
			p := filepath.Join(dir, strconv.Itoa(size))
			want := bytes.Repeat([]byte("0123456789abcdef"), size/16+1)[:size]
			if err := os.WriteFile(p, want, 0o644); err != nil {
				t.Fatal(err)
			}
			got, err := regfile.ReadFile(p)
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("ReadFile = %d bytes, %v; want the %d bytes written", len(got), err, size)
			}
		})
	}
	// A file whose size stat reports as 0 but that has content.
	got, err := regfile.ReadFile("/proc/self/status")
	if err != nil || !strings.Contains(string(got), "\nPid:") {
		t.Fatalf("ReadFile(/proc/self/status) = %q, %v", got, err)
	}
}

func TestOpenFileErrorsAreOsErrors(t *testing.T) {
	p := filepath.Join(t.TempDir(), "missing")
	_, err := regfile.Open(p)
	var pe *fs.PathError
	if !errors.Is(err, fs.ErrNotExist) || !errors.As(err, &pe) || pe.Path != p || pe.Op != "open" {
		t.Fatalf("Open(missing) = %v, want a *fs.PathError {open %s} wrapping fs.ErrNotExist", err, p)
	}
	f, err := regfile.OpenFile(filepath.Join(t.TempDir(), "x"), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if _, err := regfile.OpenFile(f.Name(), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("O_EXCL on an existing file: %v, want fs.ErrExist", err)
	}
}

// The files a worker opens must not reach the containers it starts
// (O_CLOEXEC), and must behave as os.OpenFile's: created with perm, written
// and read back, not on the poller (no deadlines).
func TestOpenFileIsCloseOnExecAndPlain(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	f, err := regfile.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o640)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	info, err := os.ReadFile(fmt.Sprintf("/proc/self/fdinfo/%d", f.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	var flags int64
	for _, line := range strings.Split(string(info), "\n") {
		if v, ok := strings.CutPrefix(line, "flags:"); ok {
			flags, _ = strconv.ParseInt(strings.TrimSpace(v), 8, 64)
		}
	}
	if flags&syscall.O_CLOEXEC == 0 {
		t.Errorf("fd flags %o: no O_CLOEXEC", flags)
	}
	if err := f.SetDeadline(time.Now()); !errors.Is(err, os.ErrNoDeadline) {
		t.Errorf("SetDeadline = %v, want os.ErrNoDeadline (a file off the poller)", err)
	}
	if _, err := f.WriteString("hello\n"); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if want := fs.FileMode(0o640) &^ umask(); fi.Mode().Perm() != want {
		t.Errorf("mode %v, want %v", fi.Mode().Perm(), want)
	}
	if got, _ := regfile.ReadFile(p); string(got) != "hello\n" {
		t.Errorf("read back %q", got)
	}
}

func umask() fs.FileMode {
	m := syscall.Umask(0)
	syscall.Umask(m)
	return fs.FileMode(m)
}

func ExampleReadFile() {
	p := filepath.Join(os.TempDir(), "regfile-example")
	_ = os.WriteFile(p, []byte("[]"), 0o644)
	defer os.Remove(p)
	data, err := regfile.ReadFile(p)
	fmt.Println(string(data), err)
	// Output: [] <nil>
}

// BenchmarkOpenClose opens and closes a regular file with os.Open and with
// Open, in one run: the difference is the poller round trip per open.
func BenchmarkOpenClose(b *testing.B) {
	p := filepath.Join(b.TempDir(), "f")
	if err := os.WriteFile(p, []byte("[]"), 0o644); err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name string
		open func(string) (*os.File, error)
	}{{"os", os.Open}, {"regfile", regfile.Open}} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				f, err := c.open(p)
				if err != nil {
					b.Fatal(err)
				}
				f.Close()
			}
		})
	}
}

// SyncDir syncs an existing directory; a missing one is an error that names
// it and wraps fs.ErrNotExist.
func TestSyncDir(t *testing.T) {
	dir := t.TempDir()
	if err := regfile.SyncDir(dir); err != nil {
		t.Fatalf("SyncDir(%s) = %v", dir, err)
	}
	missing := filepath.Join(dir, "gone")
	err := regfile.SyncDir(missing)
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), missing) {
		t.Fatalf("SyncDir(missing) = %v, want an error naming %s and wrapping fs.ErrNotExist", err, missing)
	}
}
