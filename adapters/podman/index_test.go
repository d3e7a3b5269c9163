package podman

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
)

// sdist makes a source distribution name-version.tar.gz of a setuptools
// package with one C extension module built from csrc.
func sdist(t testing.TB, name, module, version, csrc string) []byte {
	t.Helper()
	root := fmt.Sprintf("%s-%s/", name, version)
	files := map[string]string{
		"PKG-INFO": fmt.Sprintf("Metadata-Version: 2.1\nName: %s\nVersion: %s\n", name, version),
		"setup.py": fmt.Sprintf(`from setuptools import setup, Extension
setup(name=%q, version=%q, ext_modules=[Extension(%q, sources=[%q])])
`, name, version, module, module+".c"),
		module + ".c": csrc,
	}
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, f := range []string{"PKG-INFO", "setup.py", module + ".c"} {
		body := files[f]
		if err := tw.WriteHeader(&tar.Header{Name: root + f, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(body)); err != nil {
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

// cModule is a minimal CPython extension module.
func cModule(module string) string {
	return fmt.Sprintf(`#include <Python.h>
static PyObject *answer(PyObject *self, PyObject *args) { return PyLong_FromLong(42); }
static PyMethodDef methods[] = {{"answer", answer, METH_NOARGS, "42"}, {NULL, NULL, 0, NULL}};
static struct PyModuleDef mod = {PyModuleDef_HEAD_INIT, %q, NULL, -1, methods};
PyMODINIT_FUNC PyInit_%s(void) { return PyModule_Create(&mod); }
`, module, module)
}

// serveIndex starts a PEP 503 simple index on 127.0.0.1 serving one sdist per
// project (key: normalised project name).
func serveIndex(t testing.TB, files map[string]struct {
	File string
	Data []byte
}) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	for project, f := range files {
		sum := sha256.Sum256(f.Data)
		mux.HandleFunc("/simple/"+project+"/", func(w http.ResponseWriter, _ *http.Request) {
			fmt.Fprintf(w, "<!DOCTYPE html><html><body><a href=\"/files/%s#sha256=%s\">%s</a></body></html>\n",
				f.File, hex.EncodeToString(sum[:]), f.File)
		})
		mux.HandleFunc("/files/"+f.File, func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/gzip")
			_, _ = w.Write(f.Data)
		})
	}
	srv := httptest.NewServer(mux) // listens on 127.0.0.1
	t.Cleanup(srv.Close)
	return srv
}

// serveIndexVersions serves sdists of several versions of one project.
func serveIndexVersions(t testing.TB, project, module string, versions ...string) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	var links bytes.Buffer
	for _, v := range versions {
		file := fmt.Sprintf("%s-%s.tar.gz", project, v)
		data := sdist(t, project, module, v, cModule(module))
		sum := sha256.Sum256(data)
		fmt.Fprintf(&links, "<a href=\"/files/%s#sha256=%s\">%s</a>\n", file, hex.EncodeToString(sum[:]), file)
		mux.HandleFunc("/files/"+file, func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(data) })
	}
	mux.HandleFunc("/simple/"+project+"/", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintf(w, "<!DOCTYPE html><html><body>%s</body></html>\n", links.String())
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}
