package wheelaudit

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestAuditAndRetag(t *testing.T) {
	t.Run("retags a linux wheel that fits", func(t *testing.T) {
		src := makeWheel(t, "cpkg-0.3-cp311-cp311-linux_s390x.whl", member{"cpkg/_ext.so", fixture(t, "s390x/old.so")})
		rep, v, got, err := AuditAndRetag(src, "manylinux2014_s390x")
		if err != nil || !v.OK {
			t.Fatalf("AuditAndRetag: %v, %+v", err, v)
		}
		want := "cpkg-0.3-cp311-cp311-manylinux_2_17_s390x.manylinux2014_s390x.whl"
		if filepath.Base(got) != want || rep.File != want {
			t.Errorf("path %s, report file %s, want %s", got, rep.File, want)
		}
		fresh, err := Audit(got) // the report must describe the file on disk
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(sortedUnique(rep.FileTags), sortedUnique(fresh.FileTags)) ||
			!reflect.DeepEqual(sortedUnique(rep.WheelTags), sortedUnique(fresh.WheelTags)) {
			t.Errorf("report tags %v/%v, file on disk %v/%v", rep.FileTags, rep.WheelTags, fresh.FileTags, fresh.WheelTags)
		}
	})
	t.Run("leaves a wheel that does not fit", func(t *testing.T) {
		src := makeWheel(t, "cpkg-0.3-cp311-cp311-linux_s390x.whl", member{"cpkg/_ext.so", fixture(t, "s390x/new.so")})
		_, v, got, err := AuditAndRetag(src, "manylinux2014_s390x")
		if err != nil || v.OK || v.Error != "needs GLIBC_2.34, manylinux2014 allows 2.17" || got != src {
			t.Fatalf("AuditAndRetag = %+v, %s, %v", v, got, err)
		}
		if _, err := os.Stat(src); err != nil {
			t.Error(err)
		}
	})
	t.Run("unreadable wheel is an error", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "cpkg-0.3-cp311-cp311-linux_s390x.whl")
		if err := os.WriteFile(p, []byte("not a zip"), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, _, _, err := AuditAndRetag(p, "manylinux2014_s390x"); err == nil {
			t.Fatal("no error for a file that is not a zip")
		}
	})
}
