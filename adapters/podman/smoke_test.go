package podman

import (
	"archive/zip"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func writeZip(t *testing.T, path string, files map[string]string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	for name, body := range files {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestTopLevelModules(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  []string
	}{
		{"top_level.txt wins", map[string]string{
			"cpkg-0.3.dist-info/top_level.txt": "cpkg\n_cpkg_impl\n\nnot valid\n",
			"cpkg-0.3.dist-info/RECORD":        "other/__init__.py,,\n",
		}, []string{"_cpkg_impl", "cpkg"}},
		{"from RECORD", map[string]string{
			"cpkg-0.3.dist-info/RECORD": "cpkg.cpython-311-s390x-linux-gnu.so,sha256=x,10\n" +
				"helper.py,sha256=y,3\npkg/__init__.py,,\npkg/sub.py,,\n" +
				"cpkg-0.3.data/scripts/run,,\ncpkg-0.3.dist-info/RECORD,,\nnspkg-1-py3.9-nspkg.pth,,\n",
		}, []string{"cpkg", "helper", "pkg"}},
		{"nothing", map[string]string{"x-1.dist-info/WHEEL": "Tag: py3-none-any\n"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "w.whl")
			writeZip(t, p, tc.files)
			got, err := topLevelModules(p)
			if err != nil || !slices.Equal(got, tc.want) {
				t.Errorf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}
