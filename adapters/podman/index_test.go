package podman

import (
	"fmt"
	"net/http/httptest"
	"testing"

	"github.com/refinery/refinery-worker/internal/testkit/pyfixture"
)

// sdist, cModule and the index servers are pyfixture's, shared with the
// end-to-end tests of cmd/.
func sdist(t testing.TB, name, module, version, csrc string) []byte {
	return pyfixture.Sdist(t, name, module, version, csrc)
}

func cModule(module string) string { return pyfixture.CModule(module) }

// serveIndex starts a PEP 503 simple index on 127.0.0.1 serving one sdist per
// project (key: normalised project name).
func serveIndex(t testing.TB, files map[string]struct {
	File string
	Data []byte
}) *httptest.Server {
	t.Helper()
	all := map[string][]pyfixture.File{}
	for project, f := range files {
		all[project] = []pyfixture.File{{Name: f.File, Data: f.Data}}
	}
	return pyfixture.ServeIndex(t, all)
}

// serveIndexVersions serves sdists of several versions of one project.
func serveIndexVersions(t testing.TB, project, module string, versions ...string) *httptest.Server {
	t.Helper()
	var fs []pyfixture.File
	for _, v := range versions {
		fs = append(fs, pyfixture.File{Name: fmt.Sprintf("%s-%s.tar.gz", project, v), Data: sdist(t, project, module, v, cModule(module))})
	}
	return pyfixture.ServeIndex(t, map[string][]pyfixture.File{project: fs})
}
