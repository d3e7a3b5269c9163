package wheelaudit

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// member is one file of a test wheel.
type member struct {
	name string
	data []byte
}

// fixture reads an ELF file made by testdata/make-fixtures.sh.
func fixture(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatalf("fixture %s (regenerate with testdata/make-fixtures.sh): %v", name, err)
	}
	return data
}

// wheelBytes assembles a wheel the way build backends do: the members, then
// dist-info with METADATA, WHEEL (one Tag line per entry of tags) and a
// RECORD with sha256 hashes and sizes.
func wheelBytes(name string, tags []string, members ...member) ([]byte, error) {
	return wheelBytesMethod(name, tags, zip.Deflate, members...)
}

// wheelBytesMethod is wheelBytes with every member compressed by method.
func wheelBytesMethod(name string, tags []string, method uint16, members ...member) ([]byte, error) {
	wn, err := parseWheelName(name)
	if err != nil {
		return nil, err
	}
	info := wn.Dist + "-" + wn.Version + ".dist-info/"
	var wheel strings.Builder
	wheel.WriteString("Wheel-Version: 1.0\nGenerator: wheelaudit-test\nRoot-Is-Purelib: false\n")
	for _, t := range tags {
		wheel.WriteString("Tag: " + t + "\n")
	}
	all := append(append([]member{}, members...),
		member{info + "METADATA", []byte("Metadata-Version: 2.1\nName: " + wn.Dist + "\nVersion: " + wn.Version + "\n")},
		member{info + "WHEEL", []byte(wheel.String())})
	var record strings.Builder
	for _, m := range all {
		sum := sha256.Sum256(m.data)
		fmt.Fprintf(&record, "%s,sha256=%s,%d\n", m.name, base64.RawURLEncoding.EncodeToString(sum[:]), len(m.data))
	}
	record.WriteString(info + "RECORD,,\n")
	all = append(all, member{info + "RECORD", []byte(record.String())})
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, m := range all {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: m.name, Method: method})
		if err != nil {
			return nil, err
		}
		if _, err := w.Write(m.data); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// writeWheelFile writes a wheel into dir and returns its path.
func writeWheelFile(dir, name string, tags []string, members ...member) (string, error) {
	data, err := wheelBytes(name, tags, members...)
	if err != nil {
		return "", err
	}
	p := filepath.Join(dir, name)
	return p, os.WriteFile(p, data, 0o644)
}

// makeWheel is writeWheelFile for tests, with WHEEL's tags taken from the name.
func makeWheel(t testing.TB, name string, members ...member) string {
	t.Helper()
	wn, err := parseWheelName(name)
	if err != nil {
		t.Fatal(err)
	}
	p, err := writeWheelFile(t.TempDir(), name, wn.triples(), members...)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func pyFile(name string) member {
	return member{name, []byte("def answer():\n    return 42\n")}
}
