package wheelaudit

import (
	"archive/zip"
	"fmt"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"testing"
)

// benchWheel writes a wheel shaped like a real C-extension wheel: four
// s390x ELF files, each padded to about 1.5 MiB with data that deflates
// about as well as machine code (one byte in 16 values), and 300 Python
// files.
func benchWheel(b *testing.B) (string, int64) {
	b.Helper()
	rng := rand.New(rand.NewSource(1))
	pad := func(elf []byte) []byte {
		out := append([]byte(nil), elf...)
		extra := make([]byte, 3<<19)
		for i := range extra {
			extra[i] = byte(rng.Intn(16)) * 17
		}
		return append(out, extra...) // past the section headers: the file still parses
	}
	ms := []member{
		{"cpkg/_core.so", pad(fixture(b, "s390x/old.so"))},
		{"cpkg/_io.so", pad(fixture(b, "s390x/new.so"))},
		{"cpkg/_xml.so", pad(fixture(b, "s390x/xml.so"))},
		{"cpkg.libs/libxml2.so.2", pad(fixture(b, "s390x/libxml2.so.2"))},
	}
	for i := range 300 {
		src := make([]byte, 2048)
		for j := range src {
			src[j] = "abcdefghij (): =\n"[rng.Intn(17)]
		}
		ms = append(ms, member{fmt.Sprintf("cpkg/mod%03d.py", i), src})
	}
	p, err := writeWheelFile(b.TempDir(), "cpkg-0.3-cp311-cp311-linux_s390x.whl", []string{"cp311-cp311-linux_s390x"}, ms...)
	if err != nil {
		b.Fatal(err)
	}
	st, err := os.Stat(p)
	if err != nil {
		b.Fatal(err)
	}
	return p, st.Size()
}

// BenchmarkAudit measures one Audit plus Fits of a realistic wheel; ns/op
// is the time per wheel, to set against a build's time. "wheelaudit" is
// what Audit does; "stdlib-flate" is the baseline with compress/flate.
func BenchmarkAudit(b *testing.B) {
	p, size := benchWheel(b)
	for _, bc := range []struct {
		name    string
		inflate func() zip.Decompressor
	}{
		{"wheelaudit", pooledInflater},
		{"stdlib-flate", func() zip.Decompressor { return nil }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			f, err := os.Open(p)
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			b.SetBytes(size)
			b.ReportAllocs()
			for b.Loop() {
				rep, err := auditZipWith(filepath.Base(p), f, size, DefaultLimits(), bc.inflate())
				if err != nil {
					b.Fatal(err)
				}
				if v := rep.Fits("manylinux_2_36_s390x"); !v.OK {
					b.Fatal(v.Error)
				}
			}
			b.ReportMetric(float64(size)/(1<<20), "MiB/wheel")
		})
	}
}

// BenchmarkRetag measures Retag of the same wheel (copying a fresh wheel
// each time is not timed).
func BenchmarkRetag(b *testing.B) {
	p, size := benchWheel(b)
	dir := b.TempDir()
	b.SetBytes(size)
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		src := filepath.Join(dir, filepath.Base(p))
		if err := copyFile(p, src); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		dst, err := Retag(src, []string{"manylinux_2_17_s390x", "manylinux2014_s390x"})
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if err := os.Remove(dst); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
