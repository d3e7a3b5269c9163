// Package pyfixture makes Python packages and a simple index for tests: a
// setuptools sdist with one C extension module, and a PEP 503 index on
// 127.0.0.1 serving it. It is a test helper shared by packages' tests.
package pyfixture

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
)

// Sdist makes name-version.tar.gz: a setuptools package with one C extension
// module built from csrc.
func Sdist(t testing.TB, name, module, version, csrc string) []byte {
	t.Helper()
	return SdistLinking(t, name, module, version, csrc)
}

// SdistLinking is Sdist with extra linker arguments for the extension, e.g.
// "-l:libexpat.so.1" to link a library by its file name.
func SdistLinking(t testing.TB, name, module, version, csrc string, linkArgs ...string) []byte {
	t.Helper()
	root := fmt.Sprintf("%s-%s/", name, version)
	quoted := make([]string, len(linkArgs))
	for i, a := range linkArgs {
		quoted[i] = fmt.Sprintf("%q", a) // a Python string literal too, for plain ASCII
	}
	link := "[" + strings.Join(quoted, ", ") + "]"
	files := [][2]string{
		{"PKG-INFO", fmt.Sprintf("Metadata-Version: 2.1\nName: %s\nVersion: %s\n", name, version)},
		{"setup.py", fmt.Sprintf("from setuptools import setup, Extension\nsetup(name=%q, version=%q, ext_modules=[Extension(%q, sources=[%q], extra_link_args=%s)])\n",
			name, version, module, module+".c", link)},
		{module + ".c", csrc},
	}
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, f := range files {
		if err := tw.WriteHeader(&tar.Header{Name: root + f[0], Mode: 0o644, Size: int64(len(f[1])), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(f[1])); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// CModule is a minimal CPython extension module.
func CModule(module string) string {
	return fmt.Sprintf(`#include <Python.h>
static PyObject *answer(PyObject *self, PyObject *args) { return PyLong_FromLong(42); }
static PyMethodDef methods[] = {{"answer", answer, METH_NOARGS, "42"}, {NULL, NULL, 0, NULL}};
static struct PyModuleDef mod = {PyModuleDef_HEAD_INIT, %q, NULL, -1, methods};
PyMODINIT_FUNC PyInit_%s(void) { return PyModule_Create(&mod); }
`, module, module)
}

// File is one distribution file an index serves.
type File struct {
	Name string
	Data []byte
}

// ServeIndex starts a PEP 503 simple index on 127.0.0.1; files maps a
// normalised project name to its files. URL()+"/simple/" is the index URL.
func ServeIndex(t testing.TB, files map[string][]File) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	for project, fs := range files {
		var links bytes.Buffer
		for _, f := range fs {
			sum := sha256.Sum256(f.Data)
			fmt.Fprintf(&links, "<a href=\"/files/%s#sha256=%s\">%s</a>\n", f.Name, hex.EncodeToString(sum[:]), f.Name)
			mux.HandleFunc("/files/"+f.Name, func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(f.Data) })
		}
		page := links.String()
		mux.HandleFunc("/simple/"+project+"/", func(w http.ResponseWriter, _ *http.Request) {
			fmt.Fprintf(w, "<!DOCTYPE html><html><body>\n%s</body></html>\n", page)
		})
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// HostPlatformTag is the platform tag of a wheel built on this host without
// manylinux repair (linux_x86_64 here).
func HostPlatformTag() string {
	arch := map[string]string{"amd64": "x86_64", "arm64": "aarch64", "s390x": "s390x", "ppc64le": "ppc64le"}[runtime.GOARCH]
	return "linux_" + arch
}
