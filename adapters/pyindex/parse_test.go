package pyindex

import (
	"errors"
	"net/url"
	"strings"
	"testing"
)

func TestParseFilename(t *testing.T) {
	tests := []struct {
		key, file string
		kind      Kind
		version   string
		tags      WheelTags
		ok        bool
	}{
		{"zope-interface", "zope.interface-6.1-cp311-cp311-manylinux_2_17_s390x.manylinux2014_s390x.whl", Wheel, "6.1",
			WheelTags{"cp311", "cp311", "manylinux_2_17_s390x.manylinux2014_s390x"}, true},
		{"six", "six-1.16.0-py2.py3-none-any.whl", Wheel, "1.16.0", WheelTags{"py2.py3", "none", "any"}, true},
		{"foo", "foo-1.0-1build-py3-none-any.whl", Wheel, "1.0", WheelTags{"py3", "none", "any"}, true},
		{"python-dateutil", "python-dateutil-2.9.0.post0.tar.gz", Sdist, "2.9.0.post0", WheelTags{}, true},
		{"python-dateutil", "python_dateutil-2.9.0.zip", Sdist, "2.9.0", WheelTags{}, true},
		{"pyyaml", "PyYAML-6.0.1.tar.gz", Sdist, "6.0.1", WheelTags{}, true},
		{"six", "six-1.16.0.exe", "", "", WheelTags{}, false},
		{"six", "other-1.0.tar.gz", "", "", WheelTags{}, false},
		{"six", "six-notaversion.tar.gz", "", "", WheelTags{}, false},
		{"six", "six-1.0-py3-any.whl", "", "", WheelTags{}, false},
	}
	for _, tt := range tests {
		kind, v, tags, ok := parseFilename(tt.key, tt.file)
		if ok != tt.ok || kind != tt.kind || tags != tt.tags || (ok && v.String() != tt.version) {
			t.Errorf("parseFilename(%q, %q) = %v %v %+v %v", tt.key, tt.file, kind, v, tags, ok)
		}
	}
}

func TestParseHTMLPage(t *testing.T) {
	page, _ := url.Parse("https://idx.example/simple/foo/")
	body := []byte(`<html><head><base href="https://cdn.example/pkgs/"></head><body>
<a href="foo-1.0.tar.gz#sha256=abc" data-requires-python="&gt;=3.8,&lt;4">foo-1.0.tar.gz</a>
<a href="../x/foo-1.1-py3-none-any.whl" data-yanked="" data-dist-info-metadata="true">foo-1.1-py3-none-any.whl</a>
<a href="/abs/foo-1.2-py3-none-any.whl" data-core-metadata="false"></a>
</body></html>`)
	files, err := parseHTMLPage(body, page)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 3 {
		t.Fatalf("files = %+v", files)
	}
	if f := files[0]; f.URL.String() != "https://cdn.example/pkgs/foo-1.0.tar.gz" || f.Hashes["sha256"] != "abc" || f.RequiresPython != ">=3.8,<4" || f.Yanked {
		t.Errorf("file 0 = %+v (url %s)", f, f.URL)
	}
	if f := files[1]; f.URL.String() != "https://cdn.example/x/foo-1.1-py3-none-any.whl" || !f.Yanked || !f.Metadata {
		t.Errorf("file 1 = %+v (url %s)", f, f.URL)
	}
	if f := files[2]; f.Filename != "foo-1.2-py3-none-any.whl" || f.Metadata || f.URL.String() != "https://cdn.example/abs/foo-1.2-py3-none-any.whl" {
		t.Errorf("file 2 = %+v (url %s)", f, f.URL)
	}
}

func TestParseCoreMetadata(t *testing.T) {
	h, err := parseCoreMetadata([]byte("Metadata-Version: 2.1\r\nName: foo\nVersion: 1.0\nRequires-Dist: bar\n  >=1\nRequires-Dist: baz; extra == 'x'\nSummary: s\n\nRequires-Dist: not-a-header\n"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := metadataFrom(h, SourceWheel)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.RequiresDist) != 2 || m.RequiresDist[0].String() != "bar>=1" || m.Name != "foo" || !m.Known {
		t.Errorf("metadata = %+v", m)
	}
	if _, err := parseCoreMetadata([]byte("no colon here\n")); err == nil {
		t.Error("malformed metadata accepted")
	}
}

func TestSplitIndexURLs(t *testing.T) {
	got := SplitIndexURLs(" https://a.example/simple, https://b.example/simple\nhttps://c.example/simple ,, ")
	if len(got) != 3 || got[0] != "https://a.example/simple" || got[2] != "https://c.example/simple" {
		t.Errorf("SplitIndexURLs = %q", got)
	}
	if got := SplitIndexURLs(""); len(got) != 0 {
		t.Errorf("SplitIndexURLs(\"\") = %q", got)
	}
}

func TestReadLimited(t *testing.T) {
	if b, err := readLimited(strings.NewReader("12345"), 5); err != nil || string(b) != "12345" {
		t.Errorf("at the limit: %q, %v", b, err)
	}
	if _, err := readLimited(strings.NewReader("123456"), 5); !errors.Is(err, errTooLarge) {
		t.Errorf("over the limit: %v", err)
	}
}
