package wheelaudit

import (
	"bytes"
	"testing"
)

// FuzzAudit feeds arbitrary bytes as a wheel: Audit must return a report or
// an error, never panic, and stay within small limits.
func FuzzAudit(f *testing.F) {
	for _, fx := range []string{"s390x/old.so", "s390x/xml.so", "x86_64/cxx.so"} {
		data, err := wheelBytes("pkg-1.0-cp311-cp311-linux_s390x.whl", []string{"cp311-cp311-linux_s390x"},
			member{"pkg/_ext.so", fixture(f, fx)}, pyFile("pkg/__init__.py"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("PK\x05\x06" + string(make([]byte, 18))))
	limits := Limits{MaxMembers: 64, MaxMemberBytes: 1 << 20, MaxTotalBytes: 4 << 20, MaxMetadataBytes: 64 << 10}
	f.Fuzz(func(t *testing.T, data []byte) {
		rep, err := auditZip("pkg-1.0-cp311-cp311-linux_s390x.whl", bytes.NewReader(data), int64(len(data)), limits)
		if err == nil {
			rep.Fits("manylinux2014_s390x")
			rep.Metadata()
		}
	})
}

// FuzzScanELF feeds arbitrary bytes as an ELF file.
func FuzzScanELF(f *testing.F) {
	for _, fx := range []string{"s390x/old.so", "s390x/new.so", "x86_64/cxx.so", "x86_64/xml.so"} {
		f.Add(fixture(f, fx))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = scanELF(bytes.NewReader(data))
	})
}
