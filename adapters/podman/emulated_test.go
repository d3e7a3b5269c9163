package podman

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/refinery/refinery-worker/internal/testkit/pyfixture"
	"github.com/refinery/refinery-worker/pipeline"
)

// requireEmulatedImage skips (or, with REFINERY_REQUIRE_REAL=1, fails) unless
// the s390x builder image exists and this host can run it.
func requireEmulatedImage(t testing.TB) string {
	t.Helper()
	bin := requirePodman(t)
	image := ArchImage("s390x")
	out, err := exec.Command(bin, "image", "inspect", "--format", "{{.Architecture}}", image).Output()
	if err != nil {
		missing(t, "podman image "+image+" (run `sh scripts/build-local-image.sh s390x`)")
	}
	if arch := strings.TrimSpace(string(out)); arch != "s390x" {
		t.Fatalf("%s is for %s, not s390x", image, arch)
	}
	if runtime.GOARCH != "s390x" {
		if err := checkBinfmt(DefaultBinfmtDir, "s390x", hostMachine()); err != nil {
			missing(t, "s390x emulation ("+err.Error()+")")
		}
	}
	return image
}

// getrandomModule calls getrandom(2), versioned GLIBC_2.25 in glibc, so the
// built extension really needs more than manylinux2014's glibc 2.17 (the
// plain CModule needs no versioned glibc symbol at all).
func getrandomModule(module string) string {
	return `#include <Python.h>
#include <sys/random.h>
static PyObject *byte(PyObject *self, PyObject *args) {
	unsigned char b;
	if (getrandom(&b, 1, 0) != 1) return PyErr_SetFromErrno(PyExc_OSError);
	return PyLong_FromLong(b);
}
static PyMethodDef methods[] = {{"byte", byte, METH_NOARGS, "a random byte"}, {NULL, NULL, 0, NULL}};
static struct PyModuleDef mod = {PyModuleDef_HEAD_INIT, "` + module + `", NULL, -1, methods};
PyMODINIT_FUNC PyInit_` + module + `(void) { return PyModule_Create(&mod); }
`
}

// failingModule compiles and links but refuses to be imported.
func failingModule(module string) string {
	return `#include <Python.h>
PyMODINIT_FUNC PyInit_` + module + `(void) {
	PyErr_SetString(PyExc_ImportError, "` + module + ` refuses to load on purpose");
	return NULL;
}
`
}

// emulatedRun builds one sdist (a C extension) served by a local index in
// the s390x image and returns the result, the log and the output dir.
func emulatedRun(t *testing.T, project, module, csrc, target string) (pipeline.Result, string, string) {
	t.Helper()
	image := requireEmulatedImage(t)
	srv := serveIndex(t, map[string]sdistFile{
		project: {project + "-0.3.tar.gz", sdist(t, project, module, "0.3", csrc)},
	})
	s := newRealRunner(t, func(o *Options) {
		o.Image = image
		o.Arch = "s390x"
		o.Network = "host"
		o.IndexURL = srv.URL + "/simple/"
		o.Timeout = 5 * time.Minute
	})
	job := newJob(project, "0.3")
	job.PlatformTag = target
	w := newWatchWriter("")
	res := s.runner.Run(context.Background(), job, w)
	log := w.String()
	if strings.Contains(log, "does not match the expected platform") {
		t.Errorf("podman platform warning in the job log:\n%s", log)
	}
	return res, log, s.opts.OutputDir
}

// The main case: on any host, a C extension built in the s390x image
// is retagged linux_s390x → manylinux and passes the offline import on s390x.
func TestEmulatedS390xWheelIsRetaggedAndSmokeTested(t *testing.T) {
	t.Parallel() // own dirs, index server, runner and worker id: it waits on podman, so it runs beside the others
	res, log, out := emulatedRun(t, "cpkg", "cpkg", cModule("cpkg"), "manylinux_2_36_s390x")
	if res.Status != pipeline.StatusBuilt || len(res.Wheels) != 1 {
		t.Fatalf("result %+v\nlog:\n%s", res, log)
	}
	wh := res.Wheels[0]
	plat := pipeline.WheelPlatformTag(wh.File)
	if !strings.HasPrefix(wh.File, "cpkg-0.3-cp311-cp311-manylinux") || !strings.HasSuffix(plat, "_s390x") || strings.Contains(plat, "linux_s390x.") || plat == "linux_s390x" {
		t.Errorf("wheel %s (platform %s), want a manylinux s390x wheel", wh.File, plat)
	}
	for _, tag := range wh.Tags {
		if !strings.HasPrefix(tag, "cp311-cp311-manylinux") || !strings.HasSuffix(tag, "_s390x") {
			t.Errorf("WHEEL Tag %s is not a manylinux s390x tag", tag)
		}
	}
	entries, _ := os.ReadDir(out)
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".whl") && e.Name() != wh.File {
			t.Errorf("output dir also holds %s", e.Name())
		}
	}
	audit, _ := res.Metadata[MetaAudit].(map[string]any)
	if audit["arch"] != "s390x" {
		t.Errorf("audit metadata %v, want arch s390x", audit)
	}
	if !strings.Contains(log, "smoke: imported cpkg") || !strings.Contains(log, "smoke test of "+wh.File+" passed") {
		t.Errorf("log does not show the smoke test importing cpkg:\n%s", log)
	}
}

// The default target, manylinux2014 (glibc 2.17), cannot take a wheel built
// on bookworm (glibc 2.36) that calls getrandom (GLIBC_2.25).
func TestEmulatedManylinux2014RefusesNewerGlibc(t *testing.T) {
	t.Parallel() // own dirs, index server, runner and worker id: it waits on podman, so it runs beside the others
	res, log, out := emulatedRun(t, "rndpkg", "rndpkg", getrandomModule("rndpkg"), "manylinux2014_s390x")
	if res.Status != pipeline.StatusFailed || res.Reason != pipeline.ReasonPlatformMismatch {
		t.Fatalf("result %+v, want failed platform_mismatch\nlog:\n%s", res, log)
	}
	if !strings.Contains(res.Error, "GLIBC_2.25") || !strings.Contains(res.Error, "2.17") {
		t.Errorf("error %q does not name the glibc levels (GLIBC_2.25 needed, 2.17 allowed)", res.Error)
	}
	if len(res.Wheels) != 0 {
		t.Errorf("wheels %v delivered for a mismatch", res.Wheels)
	}
	if _, err := os.Stat(filepath.Join(out, RejectedDir, "rndpkg-0.3-cp311-cp311-linux_s390x.whl")); err != nil {
		t.Errorf("the refused wheel is not in %s/: %v", RejectedDir, err)
	}
	if strings.Contains(log, "smoke test:") {
		t.Errorf("a refused wheel was smoke tested:\n%s", log)
	}
}

// An extension whose import fails is not built, whatever the audit says.
func TestEmulatedImportFailureFailsSmokeTest(t *testing.T) {
	t.Parallel() // own dirs, index server, runner and worker id: it waits on podman, so it runs beside the others
	res, log, _ := emulatedRun(t, "badimport", "badimport", failingModule("badimport"), "manylinux_2_36_s390x")
	if res.Status != pipeline.StatusFailed || res.Reason != pipeline.ReasonSmokeTest {
		t.Fatalf("result %+v, want failed smoke_test\nlog:\n%s", res, log)
	}
	if !strings.Contains(log, "badimport refuses to load on purpose") {
		t.Errorf("the import error is not in the job log:\n%s", log)
	}
	if len(res.Wheels) != 0 {
		t.Errorf("wheels %v delivered after a failed smoke test", res.Wheels)
	}
}

// A wheel for the host's machine is refused for an s390x target: the case of
// the issue, a linux_x86_64 wheel that used to be recorded as built.
func TestHostWheelRefusedForS390xTarget(t *testing.T) {
	t.Parallel() // own dirs, index server, runner and worker id: it waits on podman, so it runs beside the others
	if runtime.GOARCH == "s390x" {
		t.Skip("skipping: the host is s390x, so its wheels are s390x wheels")
	}
	srv := serveIndex(t, map[string]sdistFile{
		"cpkg": {"cpkg-0.3.tar.gz", sdist(t, "cpkg", "cpkg", "0.3", cModule("cpkg"))},
	})
	s := newRealRunner(t, func(o *Options) {
		o.Network = "host"
		o.IndexURL = srv.URL + "/simple/"
	})
	job := newJob("cpkg", "0.3")
	job.PlatformTag = "manylinux2014_s390x"
	w := newWatchWriter("")
	res := s.runner.Run(context.Background(), job, w)
	if res.Status != pipeline.StatusFailed || res.Reason != pipeline.ReasonPlatformMismatch || len(res.Wheels) != 0 {
		t.Fatalf("result %+v, want failed platform_mismatch without wheels\nlog:\n%s", res, w)
	}
	if want := "machine " + strings.ReplaceAll(hostMachine(), "_", "-") + ", target s390x"; !strings.Contains(res.Error, want) {
		t.Errorf("error %q does not say %q", res.Error, want)
	}
}

// A wheel linking a library outside the manylinux policy (libffi.so.8,
// which the image has but no policy allows) needs grafting; the Debian image
// has no auditwheel, so the outcome says so rather than delivering it.
func TestWheelNeedingGraftWithoutAuditwheel(t *testing.T) {
	t.Parallel() // own dirs, index server, runner and worker id: it waits on podman, so it runs beside the others
	srv := serveIndex(t, map[string]sdistFile{
		"xpkg": {"xpkg-0.3.tar.gz", pyfixture.SdistLinking(t, "xpkg", "xpkg", "0.3", ffiModule("xpkg"), "-l:libffi.so.8")},
	})
	s := newRealRunner(t, func(o *Options) {
		o.Network = "host"
		o.IndexURL = srv.URL + "/simple/"
	})
	job := newJob("xpkg", "0.3")
	job.PlatformTag = "manylinux_2_36_" + hostMachine()
	w := newWatchWriter("")
	res := s.runner.Run(context.Background(), job, w)
	if res.Status != pipeline.StatusFailed || res.Reason != pipeline.ReasonPlatformMismatch || len(res.Wheels) != 0 {
		t.Fatalf("result %+v, want failed platform_mismatch without wheels\nlog:\n%s", res, w)
	}
	if want := "links libffi.so.8; no auditwheel in the image to graft it"; !strings.Contains(res.Error, want) {
		t.Errorf("error %q does not say %q\nlog:\n%s", res.Error, want, w)
	}
}

// ffiModule uses libffi (declared here: the image has the library but not
// its headers), so the linker keeps it in DT_NEEDED.
func ffiModule(module string) string {
	return `#include <Python.h>
void *ffi_closure_alloc(size_t size, void **code);
void ffi_closure_free(void *closure);
static PyObject *roundtrip(PyObject *self, PyObject *args) {
	void *code; void *c = ffi_closure_alloc(64, &code);
	if (c == NULL) return PyErr_NoMemory();
	ffi_closure_free(c);
	Py_RETURN_NONE;
}
static PyMethodDef methods[] = {{"roundtrip", roundtrip, METH_NOARGS, "alloc and free a closure"}, {NULL, NULL, 0, NULL}};
static struct PyModuleDef mod = {PyModuleDef_HEAD_INIT, "` + module + `", NULL, -1, methods};
PyMODINIT_FUNC PyInit_` + module + `(void) { return PyModule_Create(&mod); }
`
}
