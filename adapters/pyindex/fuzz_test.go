package pyindex

import (
	"net/url"
	"testing"
)

// FuzzPages feeds index pages and core metadata from hostile indexes to
// the parsers: they may refuse, never panic.
func FuzzPages(f *testing.F) {
	f.Add([]byte(`<a href="x-1.0.tar.gz#sha256=ab" data-requires-python="&gt;=3" data-yanked="">x-1.0.tar.gz</a>`))
	f.Add([]byte(`{"meta":{"api-version":"1.1"},"files":[{"filename":"x-1.0-py3-none-any.whl","url":"../x.whl","hashes":{},"yanked":"r","core-metadata":{"sha256":"00"}}]}`))
	f.Add([]byte("Metadata-Version: 2.2\nName: x\nRequires-Dist: y>=1; extra == 'z'\n  folded\n\nbody"))
	f.Add([]byte(`<base href="::"><a href="%zz">`))
	page, _ := url.Parse("https://idx.example/simple/x/")
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = parseHTMLPage(data, page)
		_, _ = parseJSONPage(data, page)
		if h, err := parseCoreMetadata(data); err == nil {
			_, _ = metadataFrom(h, SourceSdist)
			_, _ = metadataFrom(h, SourceWheel)
		}
		for _, key := range []string{"x", "python-dateutil"} {
			_, _, _, _ = parseFilename(key, string(data))
		}
	})
}
