package wheelaudit

import (
	"archive/zip"
	"crypto/sha256"
	"encoding/base64"
	"encoding/csv"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/refinery/refinery-worker/internal/testkit/testsvc"
)

// checkRecord verifies, as an installer does, that RECORD lists every
// member but itself with the right sha256 and size, and nothing else.
func checkRecord(t *testing.T, wheelPath string) {
	t.Helper()
	zr, err := zip.OpenReader(wheelPath)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var record *zip.File
	for _, f := range zr.File {
		if strings.HasSuffix(f.Name, ".dist-info/RECORD") {
			record = f
		}
	}
	if record == nil {
		t.Fatal("no RECORD")
	}
	rows := readCSV(t, record)
	listed := map[string]bool{}
	for _, row := range rows {
		listed[row[0]] = true
		if row[0] == record.Name {
			continue
		}
		f, err := zr.Open(row[0])
		if err != nil {
			t.Errorf("RECORD lists %s: %v", row[0], err)
			continue
		}
		data, err := io.ReadAll(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		if want := "sha256=" + base64.RawURLEncoding.EncodeToString(sum[:]); row[1] != want || row[2] != strconv.Itoa(len(data)) {
			t.Errorf("RECORD row %v, want %s,%d", row, want, len(data))
		}
	}
	for _, f := range zr.File {
		if !listed[f.Name] {
			t.Errorf("member %s not in RECORD", f.Name)
		}
	}
}

func readCSV(t *testing.T, f *zip.File) [][]string {
	t.Helper()
	rc, err := f.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	cr := csv.NewReader(rc)
	cr.FieldsPerRecord = 3
	rows, err := cr.ReadAll()
	if err != nil {
		t.Fatalf("RECORD: %v", err)
	}
	return rows
}

func TestRetagRewritesNameWheelAndRecord(t *testing.T) {
	src := makeWheel(t, "pkg-1.0-cp311-cp311-linux_s390x.whl", pyFile("pkg/__init__.py"), member{"pkg/_ext.so", fixture(t, "s390x/old.so")})
	rep, err := Audit(src)
	if err != nil {
		t.Fatal(err)
	}
	v := rep.Fits("manylinux2014_s390x")
	if !v.OK {
		t.Fatalf("Fits: %s", v.Error)
	}
	got, err := Retag(src, v.RetagTo)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(filepath.Dir(src), "pkg-1.0-cp311-cp311-manylinux_2_17_s390x.manylinux2014_s390x.whl"); got != want {
		t.Errorf("new path %s, want %s", got, want)
	}
	if _, err := os.Stat(src); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("old wheel still there (stat: %v)", err)
	}
	leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(src), ".retag-*"))
	if len(leftovers) != 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}
	checkRecord(t, got)
	after, err := Audit(got) // Audit also checks WHEEL's Tag lines against the new name
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"cp311-cp311-manylinux2014_s390x", "cp311-cp311-manylinux_2_17_s390x"}
	if !reflect.DeepEqual(sortedUnique(after.WheelTags), want) {
		t.Errorf("WHEEL tags %v, want %v", after.WheelTags, want)
	}
	if v := after.Fits("manylinux2014_s390x"); !v.OK || v.RetagTo != nil {
		t.Errorf("retagged wheel: ok %v retag %v error %q, want ok and nothing to retag", v.OK, v.RetagTo, v.Error)
	}
}

// TestRetaggedWheelInstallsWithPip has pip itself judge the result, for the
// target platform: `pip install --platform manylinux2014_s390x` refuses the
// linux_s390x wheel and installs the retagged one.
func TestRetaggedWheelInstallsWithPip(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		testsvc.Missing(t, "python3", "the retag test installs the result with pip")
	}
	if out, err := exec.Command(py, "-m", "pip", "--version").CombinedOutput(); err != nil {
		testsvc.Missing(t, "pip (python3 -m pip)", "the retag test installs the result with pip: "+strings.TrimSpace(string(out)))
	}
	pipInstall := func(wheel string) (string, []byte, error) {
		target := t.TempDir()
		cmd := exec.Command(py, "-m", "pip", "install", "--no-index", "--no-deps", "--disable-pip-version-check", "--no-cache-dir",
			"--platform", "manylinux2014_s390x", "--implementation", "cp", "--python-version", "3.11", "--abi", "cp311",
			"--only-binary=:all:", "--target", target, wheel)
		cmd.Env = append(os.Environ(), "PIP_CONFIG_FILE="+os.DevNull)
		out, err := cmd.CombinedOutput()
		return target, out, err
	}
	src := makeWheel(t, "pkg-1.0-cp311-cp311-linux_s390x.whl", pyFile("pkg/__init__.py"), member{"pkg/_ext.so", fixture(t, "s390x/old.so")})
	if _, out, err := pipInstall(src); err == nil || !strings.Contains(string(out), "not a supported wheel on this platform") {
		t.Fatalf("pip installed the linux_s390x wheel for manylinux2014_s390x (err %v):\n%s", err, out)
	}
	rep, err := Audit(src)
	if err != nil {
		t.Fatal(err)
	}
	v := rep.Fits("manylinux2014_s390x")
	if !v.OK {
		t.Fatalf("Fits: %s", v.Error)
	}
	got, err := Retag(src, v.RetagTo)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(py, "-m", "zipfile", "-t", got).CombinedOutput(); err != nil {
		t.Fatalf("python3 -m zipfile -t: %v\n%s", err, out)
	}
	target, out, err := pipInstall(got)
	if err != nil {
		t.Fatalf("pip install %s: %v\n%s", filepath.Base(got), err, out)
	}
	installed, err := os.ReadFile(filepath.Join(target, "pkg", "_ext.so"))
	if err != nil {
		t.Fatal(err)
	}
	if string(installed) != string(fixture(t, "s390x/old.so")) {
		t.Error("installed _ext.so differs from the wheel's")
	}
	wheel, err := os.ReadFile(filepath.Join(target, "pkg-1.0.dist-info", "WHEEL"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(wheel), "Tag: cp311-cp311-manylinux2014_s390x\n") {
		t.Errorf("installed WHEEL lacks the new tag:\n%s", wheel)
	}
}

func TestRetagRefusesBadInput(t *testing.T) {
	good := []member{pyFile("pkg/__init__.py"), {"pkg/_ext.so", fixture(t, "s390x/old.so")}}
	tests := []struct {
		name    string
		members []member
		tags    []string
		want    string
	}{
		{"path traversal", append([]member{{"../evil.py", []byte("x")}}, good...), []string{"manylinux_2_17_s390x"}, `member "../evil.py": path traversal (..)`},
		{"absolute path", append([]member{{"/etc/evil", []byte("x")}}, good...), []string{"manylinux_2_17_s390x"}, `member "/etc/evil": absolute path`},
		{"backslash", append([]member{{`pkg\..\..\evil`, []byte("x")}}, good...), []string{"manylinux_2_17_s390x"}, "backslash or NUL"},
		{"bad tag", good, []string{"Manylinux 2014"}, `platform tag "Manylinux 2014"`},
		{"no tags", good, nil, "no platform tags given"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := makeWheel(t, "pkg-1.0-cp311-cp311-linux_s390x.whl", tt.members...)
			before, err := os.ReadFile(src)
			if err != nil {
				t.Fatal(err)
			}
			_, err = Retag(src, tt.tags)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "pkg-1.0-cp311-cp311-linux_s390x.whl") {
				t.Fatalf("Retag error %v, want one naming the wheel and %q", err, tt.want)
			}
			after, err := os.ReadFile(src)
			if err != nil || string(after) != string(before) {
				t.Errorf("the original wheel changed or vanished (%v)", err)
			}
			entries, _ := os.ReadDir(filepath.Dir(src))
			if len(entries) != 1 {
				t.Errorf("files left in the wheel's directory: %v", entries)
			}
		})
	}
}
