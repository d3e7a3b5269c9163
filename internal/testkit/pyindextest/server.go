package pyindextest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Options shape how the index answers.
type Options struct {
	// NoJSON serves PEP 503 HTML only, whatever the client asks for.
	NoJSON bool
	// NoRanges ignores Range headers and always sends whole files.
	NoRanges bool
	// Username and Password, when set, are required (basic auth).
	Username, Password string
	// WrongHashes announces hashes that do not match the files and
	// metadata served, as a tampered mirror would.
	WrongHashes bool
	// RawPages serves these bodies (text/html) as the pages of the named
	// projects, for tests of broken pages.
	RawPages map[string]string
	// Latency delays every answer, to stand for a remote index in
	// benchmarks (tests should leave it zero).
	Latency time.Duration
}

// Server is a running test index.
type Server struct {
	srv   *httptest.Server
	opts  Options
	files map[string]*file   // by file name
	proj  map[string][]*file // by normalised project name

	mu     sync.Mutex
	counts map[string]int
}

type file struct {
	dist     Dist
	name     string
	body     []byte
	metadata []byte // PEP 658, or nil
	sha256   string
}

// modTime is fixed so that responses are stable.
var modTime = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

// Start builds every distribution and serves them.
func Start(dists []Dist, opts Options) (*Server, error) {
	s := &Server{opts: opts, files: map[string]*file{}, proj: map[string][]*file{}, counts: map[string]int{}}
	for _, d := range dists {
		for _, tags := range d.WheelTags {
			body, err := d.Wheel(tags)
			if err != nil {
				return nil, err
			}
			f := &file{dist: d, name: d.WheelName(tags), body: body}
			if d.PEP658 {
				f.metadata = d.Metadata("2.1", nil)
			}
			s.add(f)
		}
		if d.Sdist {
			body, err := d.SdistArchive()
			if err != nil {
				return nil, err
			}
			s.add(&file{dist: d, name: d.SdistName(), body: body})
		}
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	return s, nil
}

func (s *Server) add(f *file) {
	body := f.body
	if s.opts.WrongHashes {
		body = append([]byte("tampered"), body...)
	}
	sum := sha256.Sum256(body)
	f.sha256 = hex.EncodeToString(sum[:])
	s.files[f.name] = f
	key := Normalize(f.dist.Name)
	s.proj[key] = append(s.proj[key], f)
}

// URL is the simple index URL, ending in "/simple/".
func (s *Server) URL() string { return s.srv.URL + "/simple/" }

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// Count returns how many requests of a kind were served: "page-json",
// "page-html", "not-modified", "metadata", "file", "range", "unauthorized".
func (s *Server) Count(kind string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts[kind]
}

func (s *Server) count(kind string) {
	s.mu.Lock()
	s.counts[kind]++
	s.mu.Unlock()
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if s.opts.Latency > 0 {
		select {
		case <-time.After(s.opts.Latency):
		case <-r.Context().Done():
			return
		}
	}
	if s.opts.Username != "" {
		u, p, ok := r.BasicAuth()
		if !ok || u != s.opts.Username || p != s.opts.Password {
			s.count("unauthorized")
			w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
	}
	switch {
	case r.URL.Path == "/simple/":
		s.serveRoot(w, r)
	case strings.HasPrefix(r.URL.Path, "/simple/"):
		name := strings.Trim(strings.TrimPrefix(r.URL.Path, "/simple/"), "/")
		if Normalize(name) != name {
			http.Redirect(w, r, "/simple/"+Normalize(name)+"/", http.StatusMovedPermanently)
			return
		}
		s.serveProject(w, r, name)
	case strings.HasPrefix(r.URL.Path, "/files/"):
		s.serveFile(w, r, strings.TrimPrefix(r.URL.Path, "/files/"))
	default:
		http.NotFound(w, r)
	}
}

func (s *Server) serveRoot(w http.ResponseWriter, r *http.Request) {
	names := make([]string, 0, len(s.proj))
	for n := range s.proj {
		names = append(names, n)
	}
	sort.Strings(names)
	var b bytes.Buffer
	b.WriteString("<!DOCTYPE html><html><body>\n")
	for _, n := range names {
		fmt.Fprintf(&b, "<a href=\"/simple/%s/\">%s</a>\n", n, n)
	}
	b.WriteString("</body></html>\n")
	s.write(w, r, "text/html", b.Bytes())
}

// wantsJSON reports whether the Accept header takes PEP 691 JSON (q > 0).
func wantsJSON(accept string) bool {
	for _, part := range strings.Split(accept, ",") {
		params := strings.Split(part, ";")
		if strings.TrimSpace(params[0]) != "application/vnd.pypi.simple.v1+json" {
			continue
		}
		q := 1.0
		for _, p := range params[1:] {
			if k, v, ok := strings.Cut(p, "="); ok && strings.TrimSpace(k) == "q" {
				if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
					q = f
				}
			}
		}
		return q > 0
	}
	return false
}

func (s *Server) serveProject(w http.ResponseWriter, r *http.Request, name string) {
	if raw, ok := s.opts.RawPages[name]; ok {
		s.count("page-html")
		s.write(w, r, "text/html", []byte(raw))
		return
	}
	files, ok := s.proj[name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	if !s.opts.NoJSON && wantsJSON(r.Header.Get("Accept")) {
		s.count("page-json")
		type jsonFile struct {
			Filename       string            `json:"filename"`
			URL            string            `json:"url"`
			Hashes         map[string]string `json:"hashes"`
			RequiresPython *string           `json:"requires-python,omitempty"`
			Yanked         any               `json:"yanked"`
			CoreMetadata   any               `json:"core-metadata,omitempty"`
		}
		page := struct {
			Meta  map[string]string `json:"meta"`
			Name  string            `json:"name"`
			Files []jsonFile        `json:"files"`
		}{Meta: map[string]string{"api-version": "1.1"}, Name: name}
		for _, f := range files {
			jf := jsonFile{Filename: f.name, URL: "../../files/" + f.name, Hashes: map[string]string{"sha256": f.sha256}, Yanked: false}
			if rp := f.dist.RequiresPython; rp != "" && !f.dist.HideRequiresPython {
				jf.RequiresPython = &rp
			}
			if f.dist.Yanked != "" {
				jf.Yanked = f.dist.Yanked
			}
			if f.metadata != nil {
				sum := sha256.Sum256(s.announced(f.metadata))
				jf.CoreMetadata = map[string]string{"sha256": hex.EncodeToString(sum[:])}
			}
			page.Files = append(page.Files, jf)
		}
		body, _ := json.Marshal(page)
		s.write(w, r, "application/vnd.pypi.simple.v1+json", body)
		return
	}
	s.count("page-html")
	var b bytes.Buffer
	fmt.Fprintf(&b, "<!DOCTYPE html>\n<html><head><meta name=\"pypi:repository-version\" content=\"1.0\"><title>Links for %s</title></head><body>\n", name)
	for _, f := range files {
		fmt.Fprintf(&b, `<a href="/files/%s#sha256=%s"`, f.name, f.sha256)
		if rp := f.dist.RequiresPython; rp != "" && !f.dist.HideRequiresPython {
			fmt.Fprintf(&b, ` data-requires-python="%s"`, html.EscapeString(rp))
		}
		if f.dist.Yanked != "" {
			fmt.Fprintf(&b, ` data-yanked="%s"`, html.EscapeString(f.dist.Yanked))
		}
		if f.metadata != nil {
			sum := sha256.Sum256(s.announced(f.metadata))
			fmt.Fprintf(&b, ` data-core-metadata="sha256=%s" data-dist-info-metadata="sha256=%s"`, hex.EncodeToString(sum[:]), hex.EncodeToString(sum[:]))
		}
		fmt.Fprintf(&b, ">%s</a><br/>\n", f.name)
	}
	b.WriteString("</body></html>\n")
	s.write(w, r, "text/html", b.Bytes())
}

// announced is what the index claims a body is (see WrongHashes).
func (s *Server) announced(body []byte) []byte {
	if s.opts.WrongHashes {
		return append([]byte("tampered"), body...)
	}
	return body
}

// write sends body with an ETag and answers If-None-Match with 304.
func (s *Server) write(w http.ResponseWriter, r *http.Request, ctype string, body []byte) {
	sum := sha256.Sum256(body)
	etag := `"` + hex.EncodeToString(sum[:8]) + `"`
	w.Header().Set("ETag", etag)
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Vary", "Accept")
	if r.Header.Get("If-None-Match") == etag {
		s.count("not-modified")
		w.WriteHeader(http.StatusNotModified)
		return
	}
	_, _ = w.Write(body)
}

func (s *Server) serveFile(w http.ResponseWriter, r *http.Request, name string) {
	if base, ok := strings.CutSuffix(name, ".metadata"); ok {
		f, found := s.files[base]
		if !found || f.metadata == nil {
			http.NotFound(w, r)
			return
		}
		s.count("metadata")
		s.write(w, r, "application/octet-stream", f.metadata)
		return
	}
	f, ok := s.files[name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	if r.Header.Get("Range") != "" && !s.opts.NoRanges {
		s.count("range")
	} else {
		s.count("file")
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	if s.opts.NoRanges {
		r.Header.Del("Range")
	}
	http.ServeContent(w, r, name, modTime, bytes.NewReader(f.body))
}
