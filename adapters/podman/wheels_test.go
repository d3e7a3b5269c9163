package podman

import (
	"archive/zip"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/refinery/refinery-worker/pipeline"
)

func writeWheel(t *testing.T, dir, file string, wheelMeta string) {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	if wheelMeta != "" {
		name, version, _ := parseWheelName(file)
		f, err := zw.Create(name + "-" + version + ".dist-info/WHEEL")
		if err != nil {
			t.Fatal(err)
		}
		f.Write([]byte(wheelMeta))
	}
	f, _ := zw.Create("mod.py")
	f.Write([]byte("x = 1\n"))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, file), buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

const goodWheelMeta = "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: false\nTag: cp311-cp311-linux_x86_64\n"

func TestFindWheels(t *testing.T) {
	job := pipeline.Job{Name: "zope-interface", Version: "6.0"}
	tests := []struct {
		name    string
		setup   func(t *testing.T, dir string)
		want    []string
		wantErr string
		others  int // entries left in the dir besides the wheels found
	}{
		{"none", func(*testing.T, string) {}, nil, "", 0},
		{"normalised name", func(t *testing.T, dir string) {
			writeWheel(t, dir, "zope.interface-6.0-cp311-cp311-linux_x86_64.whl", goodWheelMeta)
		}, []string{"zope.interface-6.0-cp311-cp311-linux_x86_64.whl"}, "", 0},
		{"underscore and build tag", func(t *testing.T, dir string) {
			writeWheel(t, dir, "Zope_Interface-6.0-1-cp311-cp311-linux_x86_64.whl", goodWheelMeta)
		}, []string{"Zope_Interface-6.0-1-cp311-cp311-linux_x86_64.whl"}, "", 0},
		{"other package and version ignored", func(t *testing.T, dir string) {
			writeWheel(t, dir, "zope_interface-6.1-cp311-cp311-linux_x86_64.whl", goodWheelMeta)
			writeWheel(t, dir, "numpy-6.0-cp311-cp311-linux_x86_64.whl", goodWheelMeta)
			os.WriteFile(filepath.Join(dir, "zope_interface-6.0.tar.gz"), []byte("x"), 0o644)
		}, nil, "", 3},
		{"old wheel ignored", func(t *testing.T, dir string) {
			writeWheel(t, dir, "zope_interface-6.0-cp311-cp311-linux_x86_64.whl", goodWheelMeta)
			old := time.Now().Add(-time.Hour)
			os.Chtimes(filepath.Join(dir, "zope_interface-6.0-cp311-cp311-linux_x86_64.whl"), old, old)
		}, nil, "", 1},
		{"not a zip", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, "zope_interface-6.0-cp311-cp311-linux_x86_64.whl"), []byte("junk"), 0o644)
		}, nil, "not a readable zip", 0},
		{"no WHEEL", func(t *testing.T, dir string) {
			writeWheel(t, dir, "zope_interface-6.0-cp311-cp311-linux_x86_64.whl", "")
		}, nil, "no *.dist-info/WHEEL", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			tc.setup(t, dir)
			got, others, err := findWheels(dir, job, time.Now().Add(-time.Minute))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var files []string
			for _, w := range got {
				files = append(files, w.File)
				if len(w.SHA256) != 64 || w.Size == 0 || !slices.Equal(w.Tags, []string{"cp311-cp311-linux_x86_64"}) {
					t.Errorf("wheel %+v", w)
				}
			}
			if !slices.Equal(files, tc.want) {
				t.Errorf("found %q, want %q", files, tc.want)
			}
			if others != tc.others {
				t.Errorf("others = %d, want %d", others, tc.others)
			}
		})
	}
}

// Whole lines reach the log in one write, whatever the reads' sizes (the
// read buffer grows from copyBufMin while reads fill it).
func TestCopyLinesHandsOverWholeLines(t *testing.T) {
	long := "a\nb" + strings.Repeat("x", streamSegment+10) + "\nc"
	many := strings.Repeat("line of a chatty build, long enough to span reads\n", 4000)
	for _, tc := range []struct {
		name string
		in   string
		r    func(string) io.Reader
	}{
		{"long line", long, func(s string) io.Reader { return strings.NewReader(s) }},
		{"long line, one byte a read", long, func(s string) io.Reader { return iotest.OneByteReader(strings.NewReader(s)) }},
		{"many lines", many, func(s string) io.Reader { return strings.NewReader(s) }},
		{"many lines, half reads", many, func(s string) io.Reader { return iotest.HalfReader(strings.NewReader(s)) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var writes []string
			w := writerFunc(func(p []byte) { writes = append(writes, string(p)) })
			if err := copyLines(w, tc.r(tc.in)); err != nil {
				t.Fatal(err)
			}
			if strings.Join(writes, "") != tc.in {
				t.Fatal("bytes lost or changed")
			}
			for _, s := range writes[:len(writes)-1] {
				if !strings.HasSuffix(s, "\n") && len(s) != streamSegment {
					t.Errorf("write of %d bytes ends mid-line below the segment size", len(s))
				}
			}
		})
	}
}

type writerFunc func(p []byte)

func (f writerFunc) Write(p []byte) (int, error) { f(p); return len(p), nil }
