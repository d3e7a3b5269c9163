// Package wheeltest writes small, valid, pure-Python wheels for tests and
// benchmarks: METADATA, WHEEL, RECORD and one module that pip can install.
package wheeltest

import (
	"archive/zip"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Spec describes a pure wheel.
type Spec struct {
	Name           string // distribution name as METADATA spells it
	Version        string
	RequiresPython string // optional
	Module         string // top-level module; default the name with _
	// Payload adds a data file of this many random (incompressible) bytes.
	Payload int
}

// FileName is the PEP 427 file name of the wheel.
func (s Spec) FileName() string {
	return fmt.Sprintf("%s-%s-py3-none-any.whl", s.dist(), s.Version)
}

func (s Spec) dist() string {
	r := strings.NewReplacer("-", "_", ".", "_")
	return r.Replace(s.Name)
}

// Write makes the wheel in dir and returns its path.
func Write(dir string, s Spec) (string, error) {
	if s.Module == "" {
		s.Module = strings.ToLower(s.dist())
	}
	di := fmt.Sprintf("%s-%s.dist-info", s.dist(), s.Version)
	md := fmt.Sprintf("Metadata-Version: 2.1\nName: %s\nVersion: %s\n", s.Name, s.Version)
	if s.RequiresPython != "" {
		md += "Requires-Python: " + s.RequiresPython + "\n"
	}
	md += "\nA test package.\n"
	files := [][2]string{
		{s.Module + "/__init__.py", fmt.Sprintf("VERSION = %q\n", s.Version)},
		{di + "/METADATA", md},
		{di + "/WHEEL", "Wheel-Version: 1.0\nGenerator: wheeltest\nRoot-Is-Purelib: true\nTag: py3-none-any\n"},
	}
	if s.Payload > 0 {
		data := make([]byte, s.Payload)
		_, _ = rand.Read(data)
		files = append(files, [2]string{s.Module + "/payload.bin", string(data)})
	}
	var record strings.Builder
	for _, f := range files {
		h := sha256.Sum256([]byte(f[1]))
		fmt.Fprintf(&record, "%s,sha256=%s,%d\n", f[0], base64.RawURLEncoding.EncodeToString(h[:]), len(f[1]))
	}
	fmt.Fprintf(&record, "%s/RECORD,,\n", di)
	files = append(files, [2]string{di + "/RECORD", record.String()})

	path := filepath.Join(dir, s.FileName())
	tmp := filepath.Join(dir, ".wheeltest-"+s.FileName())
	out, err := os.Create(tmp)
	if err != nil {
		return "", err
	}
	zw := zip.NewWriter(out)
	for _, f := range files {
		w, err := zw.Create(f[0])
		if err != nil {
			out.Close()
			return "", err
		}
		if _, err := w.Write([]byte(f[1])); err != nil {
			out.Close()
			return "", err
		}
	}
	if err := zw.Close(); err != nil {
		out.Close()
		return "", err
	}
	if err := out.Close(); err != nil {
		return "", err
	}
	return path, os.Rename(tmp, path)
}
