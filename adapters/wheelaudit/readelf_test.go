package wheelaudit

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/refinery/refinery-worker/internal/testkit/testsvc"
)

var (
	readelfNeeded  = regexp.MustCompile(`\(NEEDED\)\s+Shared library: \[([^\]]+)\]`)
	readelfSoname  = regexp.MustCompile(`\(SONAME\)\s+Library soname: \[([^\]]+)\]`)
	readelfVersion = regexp.MustCompile(`Name: (\S+)\s+Flags:`)
	readelfMachine = regexp.MustCompile(`Machine:\s+(.+)`)
)

// TestAuditAgreesWithReadelf reads every fixture with binutils' readelf
// and with scanELF: machine, DT_NEEDED, DT_SONAME and needed versions must
// agree.
func TestAuditAgreesWithReadelf(t *testing.T) {
	readelf, err := exec.LookPath("readelf")
	if err != nil {
		testsvc.Missing(t, "readelf", "binutils cross-checks the ELF reader")
	}
	files, err := filepath.Glob("testdata/*/*.so*")
	if err != nil || len(files) < 8 {
		t.Fatalf("fixtures: %v %v", files, err)
	}
	// Real libraries too, where installed: many version needs, verdefs, big files.
	for _, lib := range []string{"/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "/usr/lib/x86_64-linux-gnu/libxml2.so.2",
		"/usr/s390x-linux-gnu/lib/libstdc++.so.6", "/usr/s390x-linux-gnu/lib/libc.so.6"} {
		if _, err := os.Stat(lib); err == nil {
			files = append(files, lib)
		}
	}
	machines := map[string]string{"Advanced Micro Devices X86-64": "x86_64", "IBM S/390": "s390x"}
	for _, file := range files {
		t.Run(file, func(t *testing.T) {
			out, err := exec.Command(readelf, "-h", "-d", "-V", "--wide", file).CombinedOutput()
			if err != nil {
				t.Fatalf("readelf: %v\n%s", err, out)
			}
			text := string(out)
			var needed, versions []string
			for _, m := range readelfNeeded.FindAllStringSubmatch(text, -1) {
				needed = append(needed, m[1])
			}
			for _, m := range readelfVersion.FindAllStringSubmatch(text, -1) {
				versions = append(versions, m[1])
			}
			soname := ""
			if m := readelfSoname.FindStringSubmatch(text); m != nil {
				soname = m[1]
			}
			machine := ""
			if m := readelfMachine.FindStringSubmatch(text); m != nil {
				machine = machines[strings.TrimSpace(m[1])]
			}

			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			info, err := scanELF(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			sort.Strings(versions)
			got := append([]string(nil), info.Versions...)
			sort.Strings(got)
			if info.Arch != machine || info.Soname != soname || !reflect.DeepEqual(info.Needed, needed) || !reflect.DeepEqual(got, versions) {
				t.Errorf("scanELF: arch %q soname %q needed %v versions %v\nreadelf: arch %q soname %q needed %v versions %v",
					info.Arch, info.Soname, info.Needed, got, machine, soname, needed, versions)
			}
		})
	}
}
