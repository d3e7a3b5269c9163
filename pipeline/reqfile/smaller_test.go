package reqfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestEnvExpansion: ${NAME} of upper-case letters, digits and underscores
// is expanded from the environment, as pip does; others stay as written.
func TestEnvExpansion(t *testing.T) {
	t.Setenv("PKG_VERSION_1", "2.0")
	f, err := ParseBytes("r.txt", []byte("demo==${PKG_VERSION_1}\nother==1.0 ; platform_release == \"${UNSET_VAR_X}\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := reqStrings(f.Requirements); !slices.Equal(got, []string{"demo==2.0", `other==1.0; platform_release == "${UNSET_VAR_X}"`}) {
		t.Errorf("requirements = %q", got)
	}
}

// TestInstallOnlyOptionsIgnored: options that shape how pip installs are
// skipped with a note instead of aborting the file.
func TestInstallOnlyOptionsIgnored(t *testing.T) {
	f, err := ParseBytes("r.txt", []byte("--only-binary :all:\n--prefer-binary\n--trusted-host example.org\ndemo\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := reqStrings(f.Requirements); !slices.Equal(got, []string{"demo"}) {
		t.Errorf("requirements = %q", got)
	}
	if want := []string{"r.txt: --only-binary", "r.txt: --prefer-binary", "r.txt: --trusted-host"}; !slices.Equal(f.Ignored, want) {
		t.Errorf("ignored = %q, want %q", f.Ignored, want)
	}
	if _, err := ParseBytes("r.txt", []byte("--no-such-option\n")); !errors.Is(err, ErrUnsupported) {
		t.Errorf("unknown option: err = %v", err)
	}
}

// TestHugeLineErrorBounded: a 5 MiB bad line gives an error of bounded
// size that still says where and how long.
func TestHugeLineErrorBounded(t *testing.T) {
	_, err := ParseBytes("r.txt", []byte("a"+strings.Repeat("!", 5<<20)+"\n"))
	if err == nil {
		t.Fatal("want an error")
	}
	if len(err.Error()) > 1024 || !strings.HasPrefix(err.Error(), "r.txt:1: ") || !strings.Contains(err.Error(), "bytes in all") {
		t.Errorf("error of %d bytes: %.300s", len(err.Error()), err)
	}
}

// TestMissingIncludeNamed: a missing absolute "-r" file is named with its
// leading "/".
func TestMissingIncludeNamed(t *testing.T) {
	dir := t.TempDir()
	main := filepath.Join(dir, "requirements.txt")
	missing := filepath.Join(dir, "sub", "absent.txt")
	if err := os.WriteFile(main, []byte("-r "+missing+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := ParseFile(main)
	if !errors.Is(err, fs.ErrNotExist) || strings.Count(err.Error(), missing) == 0 ||
		strings.Contains(err.Error(), " "+strings.TrimPrefix(missing, "/")) {
		t.Errorf("err = %v, want it to name %s", err, missing)
	}
}
