package handlers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/refinery/refinery-worker/adapters/wheelindex"
	"github.com/refinery/refinery-worker/internal/testkit/wheeltest"
)

// simpleServer publishes one wheel and serves the index over real HTTP.
func simpleServer(t *testing.T) (*httptest.Server, wheelindex.Published, string) {
	t.Helper()
	out := t.TempDir()
	x, err := wheelindex.Open(wheelindex.Options{Dir: filepath.Join(out, "simple")})
	if err != nil {
		t.Fatal(err)
	}
	src, err := wheeltest.Write(out, wheeltest.Spec{Name: "Demo_Pkg", Version: "1.0", RequiresPython: ">=3.8"})
	if err != nil {
		t.Fatal(err)
	}
	p, err := x.Publish(context.Background(), src, "")
	if err != nil {
		t.Fatal(err)
	}
	e := NewHTTP(HTTPOptions{Plans: noPlans{}})
	if err := AddSimple(e, x.Dir()); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return srv, p, out
}

func get(t *testing.T, url string, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestNegotiate(t *testing.T) {
	for _, tc := range []struct{ accept, page, ctype string }{
		{"", "index.html", "text/html; charset=utf-8"},
		{"application/vnd.pypi.simple.v1+json", "index.json", wheelindex.TypeJSON},
		{"application/vnd.pypi.simple.latest+json", "index.json", wheelindex.TypeJSON},
		{"application/vnd.pypi.simple.v1+html", "index.html", wheelindex.TypeHTML},
		{"application/vnd.pypi.simple.latest+html", "index.html", wheelindex.TypeHTML},
		{"text/html", "index.html", "text/html; charset=utf-8"},
		// pip's header
		{"application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01", "index.json", wheelindex.TypeJSON},
		{"application/vnd.pypi.simple.v1+json;q=0.2, text/html", "index.html", "text/html; charset=utf-8"},
		{"text/html;q=0.5, application/vnd.pypi.simple.v1+json;q=0.5", "index.json", wheelindex.TypeJSON},
		{"*/*", "index.html", "text/html; charset=utf-8"},
		{"application/vnd.pypi.simple.v1+json;q=0, text/html;q=0.1", "index.html", "text/html; charset=utf-8"},
		{"application/json", "", ""},
		{"text/html;q=0", "", ""},
	} {
		page, ctype := negotiate(tc.accept)
		if page != tc.page || ctype != tc.ctype {
			t.Errorf("Accept %q: got %q %q, want %q %q", tc.accept, page, ctype, tc.page, tc.ctype)
		}
	}
}

func TestSimpleServesPagesByAccept(t *testing.T) {
	srv, p, _ := simpleServer(t)
	resp, body := get(t, srv.URL+"/simple/demo-pkg/", map[string]string{"Accept": wheelindex.TypeJSON})
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != wheelindex.TypeJSON || !strings.Contains(resp.Header.Get("Vary"), "Accept") {
		t.Fatalf("json: %d %v", resp.StatusCode, resp.Header)
	}
	if !strings.Contains(body, `"api-version":"1.1"`) || !strings.Contains(body, p.File.SHA256()) {
		t.Fatalf("json body %s", body)
	}
	resp, body = get(t, srv.URL+"/simple/demo-pkg/", nil)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") ||
		!strings.Contains(body, `data-requires-python="&gt;=3.8"`) {
		t.Fatalf("html: %d %v %s", resp.StatusCode, resp.Header, body)
	}
	resp, body = get(t, srv.URL+"/simple/", map[string]string{"Accept": "application/vnd.pypi.simple.latest+json"})
	if resp.StatusCode != 200 || !strings.Contains(body, `"name":"Demo_Pkg"`) {
		t.Fatalf("root: %d %s", resp.StatusCode, body)
	}
	if resp, _ = get(t, srv.URL+"/simple/demo-pkg/", map[string]string{"Accept": "application/json"}); resp.StatusCode != http.StatusNotAcceptable {
		t.Fatalf("unacceptable Accept: %d", resp.StatusCode)
	}
}

func TestSimpleRedirectsToNormalisedNames(t *testing.T) {
	srv, _, _ := simpleServer(t)
	for _, tc := range []struct{ path, location string }{
		{"/simple/Demo_Pkg/", "/simple/demo-pkg/"},
		{"/simple/demo.pkg", "/simple/demo-pkg/"},
		{"/simple/demo-pkg", "/simple/demo-pkg/"},
		{"/simple", "/simple/"},
		{"/simple/DEMO__PKG/Demo_Pkg-1.0-py3-none-any.whl", "/simple/demo-pkg/Demo_Pkg-1.0-py3-none-any.whl"},
	} {
		resp, _ := get(t, srv.URL+tc.path, nil)
		if resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != tc.location {
			t.Errorf("%s: %d to %q, want 301 to %q", tc.path, resp.StatusCode, resp.Header.Get("Location"), tc.location)
		}
	}
}

func TestSimpleServesFilesWithETagAndRange(t *testing.T) {
	srv, p, out := simpleServer(t)
	want, _ := os.ReadFile(filepath.Join(out, "simple", p.Path))
	url := srv.URL + "/simple/" + p.Path
	resp, body := get(t, url, nil)
	if resp.StatusCode != 200 || body != string(want) || resp.Header.Get("Content-Type") != "application/zip" || resp.Header.Get("ETag") == "" {
		t.Fatalf("wheel: %d %v", resp.StatusCode, resp.Header)
	}
	etag := resp.Header.Get("ETag")
	if resp, body = get(t, url, map[string]string{"If-None-Match": etag}); resp.StatusCode != http.StatusNotModified || body != "" {
		t.Fatalf("If-None-Match: %d", resp.StatusCode)
	}
	if resp, body = get(t, url, map[string]string{"Range": "bytes=10-19"}); resp.StatusCode != http.StatusPartialContent || body != string(want[10:20]) {
		t.Fatalf("Range: %d %q", resp.StatusCode, body)
	}
	resp, body = get(t, url+".metadata", nil)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") || !strings.Contains(body, "Requires-Python: >=3.8") {
		t.Fatalf("metadata: %d %v %s", resp.StatusCode, resp.Header, body)
	}
	req, _ := http.NewRequest(http.MethodHead, url, nil)
	hr, err := http.DefaultClient.Do(req)
	if err != nil || hr.StatusCode != 200 || hr.ContentLength != int64(len(want)) {
		t.Fatalf("HEAD: %v %v", err, hr)
	}
	hr.Body.Close()
}

func TestSimpleGivesNothingOutsideTheIndex(t *testing.T) {
	srv, p, out := simpleServer(t)
	secret := filepath.Join(out, "manifest.json")
	os.WriteFile(secret, []byte(`["secret"]`), 0o644)
	pdir := filepath.Join(out, "simple", "demo-pkg")
	// A symbolic link to a file outside, named like a wheel, and a linked project.
	os.Symlink(secret, filepath.Join(pdir, "evil-1.0-py3-none-any.whl"))
	os.Symlink(out, filepath.Join(out, "simple", "linked"))
	os.WriteFile(filepath.Join(pdir, ".tmp-1-abc"), []byte("partial"), 0o644)
	for _, path := range []string{
		"/simple/../manifest.json",
		"/simple/%2e%2e/manifest.json",
		"/simple/demo-pkg/..%2f..%2fmanifest.json",
		"/simple/demo-pkg/%2e%2e%2f%2e%2e%2fmanifest.json",
		"/simple/demo-pkg/evil-1.0-py3-none-any.whl",
		"/simple/linked/",
		"/simple/linked/manifest.json",
		"/simple/demo-pkg/.tmp-1-abc",
		"/simple/demo-pkg/index.json",
		"/simple/index.json",
		"/simple/.lock",
		"/simple/.stats.json",
		"/simple/nope/",
		"/simple/demo-pkg/" + strings.TrimSuffix(p.File.Filename, ".whl") + ".zip",
	} {
		resp, body := get(t, srv.URL+path, nil)
		if resp.StatusCode == http.StatusMovedPermanently {
			resp, body = get(t, srv.URL+resp.Header.Get("Location"), nil)
		}
		if resp.StatusCode != http.StatusNotFound || strings.Contains(body, "secret") {
			t.Errorf("%s: %d %q, want 404", path, resp.StatusCode, body)
		}
	}
}

// TestSimpleLargeDownloadOutlivesWriteTimeout: a slow client fetches a wheel
// that takes longer than the server's write timeout (meant for the control
// endpoints) and still gets every byte.
func TestSimpleLargeDownloadOutlivesWriteTimeout(t *testing.T) {
	out := t.TempDir()
	x, err := wheelindex.Open(wheelindex.Options{Dir: filepath.Join(out, "simple")})
	if err != nil {
		t.Fatal(err)
	}
	src, err := wheeltest.Write(out, wheeltest.Spec{Name: "big", Version: "1.0", Payload: 16 << 20})
	if err != nil {
		t.Fatal(err)
	}
	p, err := x.Publish(context.Background(), src, "")
	if err != nil {
		t.Fatal(err)
	}
	e := NewHTTP(HTTPOptions{Plans: noPlans{}})
	if err := AddSimple(e, x.Dir()); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(e)
	srv.Config.WriteTimeout = 300 * time.Millisecond
	srv.Start()
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/simple/" + p.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	h := sha256.New()
	buf := make([]byte, 1<<20)
	for {
		n, err := resp.Body.Read(buf)
		h.Write(buf[:n])
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("download cut: %v", err)
		}
		time.Sleep(50 * time.Millisecond) // a slow client: the whole read takes seconds
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != p.File.SHA256() {
		t.Fatalf("downloaded sha256 %s, want %s", got, p.File.SHA256())
	}
}
