package wheelindex

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"slices"
)

// APIVersion is the simple API version of the pages (PEP 691 and, for
// size, upload-time and versions, PEP 700).
const APIVersion = "1.1"

// Content types of the two page forms (PEP 691).
const (
	TypeJSON = "application/vnd.pypi.simple.v1+json"
	TypeHTML = "application/vnd.pypi.simple.v1+html"
)

// File names of the pages inside a project (or the root) directory.
const (
	PageHTML = "index.html"
	PageJSON = "index.json"
)

type meta struct {
	APIVersion string `json:"api-version"`
}

// ProjectPage is a project's JSON page (PEP 691). It is also the index's
// record of the project: publishing reads it, adds a file and writes both
// forms of the page again.
type ProjectPage struct {
	Meta     meta     `json:"meta"`
	Name     string   `json:"name"`
	Files    []File   `json:"files"`
	Versions []string `json:"versions"`
}

// File is one wheel of a project page.
type File struct {
	Filename       string            `json:"filename"`
	URL            string            `json:"url"`
	Hashes         map[string]string `json:"hashes"`
	RequiresPython string            `json:"requires-python,omitempty"`
	// CoreMetadata is the hash of the metadata file beside the wheel. The
	// JSON page leaves out the older key "dist-info-metadata": pip 23.0
	// (Debian bookworm's) crashes on its dict form, and with "core-metadata"
	// alone it just downloads the wheel. The HTML page carries both
	// attributes; there they are plain strings every pip reads.
	CoreMetadata map[string]string `json:"core-metadata,omitempty"`
	Size         int64             `json:"size"`
	UploadTime   string            `json:"upload-time,omitempty"`
}

// SHA256 is the file's listed sha256.
func (f File) SHA256() string { return f.Hashes["sha256"] }

// MetadataSHA256 is the listed sha256 of the file's core metadata.
func (f File) MetadataSHA256() string { return f.CoreMetadata["sha256"] }

// RootPage is the root JSON page.
type RootPage struct {
	Meta     meta          `json:"meta"`
	Projects []RootProject `json:"projects"`
}

// RootProject is one project of the root page.
type RootProject struct {
	Name string `json:"name"`
}

// add puts f on the page, keeping versions in first-seen order.
func (p *ProjectPage) add(f File, version string) {
	p.Files = append(p.Files, f)
	if !slices.Contains(p.Versions, version) {
		p.Versions = append(p.Versions, version)
	}
}

func (p *ProjectPage) file(name string) (File, bool) {
	for _, f := range p.Files {
		if f.Filename == name {
			return f, true
		}
	}
	return File{}, false
}

func renderJSON(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode page: %w", err)
	}
	return append(b, '\n'), nil
}

// renderProjectHTML is the PEP 503 form of p, with the PEP 629 version,
// PEP 658/714 metadata attributes and the escaped Requires-Python.
func renderProjectHTML(p *ProjectPage) []byte {
	var b bytes.Buffer
	name := html.EscapeString(p.Name)
	fmt.Fprintf(&b, "<!DOCTYPE html>\n<html>\n<head>\n<meta name=\"pypi:repository-version\" content=\"%s\">\n<title>Links for %s</title>\n</head>\n<body>\n<h1>Links for %s</h1>\n",
		APIVersion, name, name)
	for _, f := range p.Files {
		fmt.Fprintf(&b, "<a href=\"%s#sha256=%s\"", html.EscapeString(f.URL), f.SHA256())
		if f.RequiresPython != "" {
			fmt.Fprintf(&b, " data-requires-python=\"%s\"", html.EscapeString(f.RequiresPython))
		}
		if s := f.MetadataSHA256(); s != "" {
			fmt.Fprintf(&b, " data-dist-info-metadata=\"sha256=%s\" data-core-metadata=\"sha256=%s\"", s, s)
		}
		fmt.Fprintf(&b, ">%s</a><br>\n", html.EscapeString(f.Filename))
	}
	b.WriteString("</body>\n</html>\n")
	return b.Bytes()
}

func renderRootHTML(r *RootPage) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "<!DOCTYPE html>\n<html>\n<head>\n<meta name=\"pypi:repository-version\" content=\"%s\">\n<title>Simple index</title>\n</head>\n<body>\n",
		APIVersion)
	for _, p := range r.Projects {
		fmt.Fprintf(&b, "<a href=\"%s/\">%s</a><br>\n", Normalize(p.Name), html.EscapeString(p.Name))
	}
	b.WriteString("</body>\n</html>\n")
	return b.Bytes()
}
