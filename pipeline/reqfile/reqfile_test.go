package reqfile

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

func reqStrings(es []Entry) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.Requirement.String())
	}
	return out
}

func TestParseFileSharedFixture(t *testing.T) {
	f, err := ParseFile("testdata/requirements.txt")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"lxml==5.2.1", "numpy==1.26.4", "PyYAML>=6.0,<7", `requests[socks]~=2.31; python_version >= "3.8"`,
		"zope.interface", "six==1.16.0", "charset_normalizer==3.3.2",
	}
	if got := reqStrings(f.Requirements); !slices.Equal(got, want) {
		t.Errorf("requirements = %q, want %q", got, want)
	}
	if got := reqStrings(f.Constraints); !slices.Equal(got, []string{"urllib3<3", `idna>=3.4; python_version >= "3.8"`}) {
		t.Errorf("constraints = %q", got)
	}
	six := f.Requirements[5]
	if !slices.Equal(six.Hashes, []string{"sha256:8abb2f1d86890a2dfb989f9a77cfcfd3e47c2a354b01111771326f8aa26e0254"}) {
		t.Errorf("six hashes = %q", six.Hashes)
	}
	if six.Line != 7 || !strings.HasSuffix(six.File, "requirements.txt") {
		t.Errorf("six at %s:%d", six.File, six.Line)
	}
	if idna := f.Constraints[1]; idna.Line != 3 || !strings.HasSuffix(idna.File, "constraints.txt") {
		t.Errorf("idna at %s:%d", idna.File, idna.Line)
	}
}

func TestParseOptionsAndIncludes(t *testing.T) {
	fsys := fstest.MapFS{
		"app/requirements.txt": {Data: []byte(strings.Join([]string{
			"\ufeff# top",
			"--index-url https://user:pw@index.example/simple",
			"--extra-index-url=https://extra.example/simple",
			"--extra-index-url https://extra.example/simple",
			"-i https://index2.example/simple",
			"--pre",
			"-r sub/more.txt",
			"-cconstraints.txt",
			"a==1.0 \\",
			"    --hash=sha256:" + strings.Repeat("a", 64) + " \\",
			"    --hash sha512:" + strings.Repeat("B", 128),
			"b  # trailing comment",
			"c[x]>=1;sys_platform=='linux'",
			"d @ https://x.example/d.whl#egg=d",
		}[:12], "\n") + "\r\n")},
		"app/sub/more.txt":     {Data: []byte("e>=2\n-r ../requirements.txt\n-r more.txt\n")},
		"app/constraints.txt":  {Data: []byte("f<3\n-r sub/more.txt\n")},
		"unrelated/other.txt":  {Data: []byte("zzz\n")},
		"app/sub/ignored.txt":  {Data: []byte("-e .\n")},
		"app/sub/empty.txt":    {Data: nil},
		"app/sub/comment.txt":  {Data: []byte("#only\n")},
		"app/sub/continue.txt": {Data: []byte("x\\")},
	}
	f, err := Parse(fsys, "app/requirements.txt")
	if err != nil {
		t.Fatal(err)
	}
	if got := reqStrings(f.Requirements); !slices.Equal(got, []string{"e>=2", "a==1.0", "b"}) {
		t.Errorf("requirements = %q", got)
	}
	// constraints.txt includes sub/more.txt, which includes requirements.txt:
	// read again as constraints, each file once per mode.
	if got := reqStrings(f.Constraints); !slices.Equal(got, []string{"f<3", "e>=2", "a==1.0", "b"}) {
		t.Errorf("constraints = %q", got)
	}
	if f.IndexURL != "https://index2.example/simple" || !slices.Equal(f.ExtraIndexURLs, []string{"https://extra.example/simple"}) || !f.Pre {
		t.Errorf("options: index %q extra %q pre %v", f.IndexURL, f.ExtraIndexURLs, f.Pre)
	}
	a := f.Requirements[1]
	if a.Line != 9 || len(a.Hashes) != 2 || a.Hashes[1] != "sha512:"+strings.Repeat("b", 128) {
		t.Errorf("a: line %d hashes %q", a.Line, a.Hashes)
	}
}

func TestParseRejects(t *testing.T) {
	tests := []struct {
		content string
		line    int
		want    string
	}{
		{"ok\n-e .\n", 2, "editable"},
		{"ok\n\n--editable git+https://x/y.git\n", 3, "editable"},
		{"git+https://github.com/x/y.git#egg=y\n", 1, "URL"},
		{"ok\nhttps://x.example/y-1.0.tar.gz\n", 2, "URL"},
		{"./local/dir\n", 1, "path"},
		{"pkg-1.0-py3-none-any.whl\n", 1, "path"},
		{"y @ https://x.example/y.whl\n", 1, "URL"},
		{"ok\nfoo==1.0 --install-option=x\n", 2, "--install-option"},
		{"foo==1.0 --hash=md5:abc\n", 1, "bad --hash"},
		{"foo==1.0 --hash\n", 1, "needs a value"},
		{"--find-links /tmp\n", 1, "--find-links"},
		{"foo==\n", 1, "invalid"},
		{"a\nb\\\nc==\n", 2, "invalid"},
		{"-r\n", 1, "needs a file"},
		{"-r missing.txt\n", 1, "missing.txt"},
		{"--index-url\n", 1, "needs a URL"},
		{"-r https://x.example/r.txt\n", 1, "URL"},
	}
	for _, tt := range tests {
		fsys := fstest.MapFS{"r.txt": {Data: []byte(tt.content)}}
		_, err := Parse(fsys, "r.txt")
		var le *LineError
		if !errors.As(err, &le) {
			t.Errorf("%q: err = %v, want a LineError", tt.content, err)
			continue
		}
		if le.Line != tt.line || le.File != "r.txt" || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: err = %v, want line %d mentioning %q", tt.content, err, tt.line, tt.want)
		}
	}
}

func TestParseIncludedErrorNamesIncludedFile(t *testing.T) {
	fsys := fstest.MapFS{
		"r.txt":     {Data: []byte("a\n-r dir/b.txt\n")},
		"dir/b.txt": {Data: []byte("ok\n\n-e .\n")},
	}
	_, err := Parse(fsys, "r.txt")
	var le *LineError
	if !errors.As(err, &le) || le.File != "dir/b.txt" || le.Line != 3 || !errors.Is(err, ErrUnsupported) {
		t.Fatalf("err = %v", err)
	}
}

func TestParseBytes(t *testing.T) {
	f, err := ParseBytes("upload.txt", []byte("numpy>=1.26\nlxml==5.2.1\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := reqStrings(f.Requirements); !slices.Equal(got, []string{"numpy>=1.26", "lxml==5.2.1"}) {
		t.Errorf("requirements = %q", got)
	}
	if _, err := ParseBytes("upload.txt", []byte("-r other.txt\n")); !errors.Is(err, ErrUnsupported) {
		t.Errorf("include in memory: err = %v", err)
	}
}
