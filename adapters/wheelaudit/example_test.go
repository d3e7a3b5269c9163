package wheelaudit

import (
	"fmt"
	"os"
	"path/filepath"
)

// A C extension built on Debian bookworm for s390x needs GLIBC_2.34: it does
// not fit manylinux2014, and it fits manylinux_2_36 once retagged with the
// oldest policy it satisfies.
func Example() {
	dir, err := os.MkdirTemp("", "wheelaudit-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	so, err := os.ReadFile("testdata/s390x/new.so")
	if err != nil {
		fmt.Println(err)
		return
	}
	path, err := writeWheelFile(dir, "cpkg-0.3-cp311-cp311-linux_s390x.whl", []string{"cp311-cp311-linux_s390x"},
		member{"cpkg/_ext.so", so})
	if err != nil {
		fmt.Println(err)
		return
	}

	rep, err := Audit(path)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(rep.Arch, rep.GlibcLevel, rep.Needed)
	v := rep.Fits("manylinux2014_s390x")
	fmt.Println(v.OK, v.Reason, v.Error)
	v = rep.Fits("manylinux_2_36_s390x")
	fmt.Println(v.OK, v.RetagTo)
	newPath, err := Retag(path, v.RetagTo)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(filepath.Base(newPath))
	// Output:
	// s390x 2.34 [libc.so.6]
	// false platform_mismatch needs GLIBC_2.34, manylinux2014 allows 2.17
	// true [manylinux_2_34_s390x]
	// cpkg-0.3-cp311-cp311-manylinux_2_34_s390x.whl
}
