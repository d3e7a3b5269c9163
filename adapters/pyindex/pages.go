package pyindex

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	"golang.org/x/net/html"
)

// jsonPage is the PEP 691 project page.
type jsonPage struct {
	Meta struct {
		APIVersion string `json:"api-version"`
	} `json:"meta"`
	Files []struct {
		Filename         string            `json:"filename"`
		URL              string            `json:"url"`
		Hashes           map[string]string `json:"hashes"`
		RequiresPython   *string           `json:"requires-python"`
		Yanked           json.RawMessage   `json:"yanked"`
		CoreMetadata     json.RawMessage   `json:"core-metadata"`
		DistInfoMetadata json.RawMessage   `json:"dist-info-metadata"`
	} `json:"files"`
}

func parseJSONPage(body []byte, page *url.URL) ([]rawFile, error) {
	var p jsonPage
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, fmt.Errorf("decode PEP 691 page: %w", err)
	}
	if major, _, _ := strings.Cut(p.Meta.APIVersion, "."); major != "" && major != "1" {
		return nil, fmt.Errorf("unsupported simple API version %q", p.Meta.APIVersion)
	}
	out := make([]rawFile, 0, len(p.Files))
	for _, f := range p.Files {
		u, err := page.Parse(f.URL)
		if err != nil {
			continue
		}
		r := rawFile{Filename: f.Filename, URL: u, Hashes: f.Hashes}
		if f.RequiresPython != nil {
			r.RequiresPython = *f.RequiresPython
		}
		r.Yanked, r.YankedReason = jsonYanked(f.Yanked)
		r.Metadata = jsonTruthy(f.CoreMetadata) || jsonTruthy(f.DistInfoMetadata)
		r.MetadataHashes = jsonHashes(f.CoreMetadata)
		if r.MetadataHashes == nil {
			r.MetadataHashes = jsonHashes(f.DistInfoMetadata)
		}
		out = append(out, r)
	}
	return out, nil
}

// jsonYanked reads "yanked": false | true | "reason".
func jsonYanked(raw json.RawMessage) (bool, string) {
	var b bool
	if json.Unmarshal(raw, &b) == nil {
		return b, ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return true, s
	}
	return false, ""
}

// jsonTruthy reads "core-metadata": true | false | {"sha256": ...}.
func jsonTruthy(raw json.RawMessage) bool {
	if len(raw) == 0 {
		return false
	}
	var b bool
	if json.Unmarshal(raw, &b) == nil {
		return b
	}
	var m map[string]string
	return json.Unmarshal(raw, &m) == nil
}

// jsonHashes reads the hashes of "core-metadata": {"sha256": ...}.
func jsonHashes(raw json.RawMessage) map[string]string {
	var m map[string]string
	if len(raw) == 0 || json.Unmarshal(raw, &m) != nil || len(m) == 0 {
		return nil
	}
	return m
}

func parseHTMLPage(body []byte, page *url.URL) ([]rawFile, error) {
	base := page
	var out []rawFile
	z := html.NewTokenizer(bytes.NewReader(body))
	var current *rawFile
	var text strings.Builder
	for {
		switch z.Next() {
		case html.ErrorToken:
			if current != nil {
				out = append(out, finishAnchor(current, text.String()))
			}
			return out, nil
		case html.StartTagToken, html.SelfClosingTagToken:
			tok := z.Token()
			switch tok.Data {
			case "base":
				if href, ok := attr(tok, "href"); ok {
					if u, err := page.Parse(href); err == nil {
						base = u
					}
				}
			case "a":
				if current != nil {
					out = append(out, finishAnchor(current, text.String()))
				}
				current = anchorFile(tok, base)
				text.Reset()
			}
		case html.TextToken:
			if current != nil {
				text.Write(z.Text())
			}
		case html.EndTagToken:
			if tok := z.Token(); tok.Data == "a" && current != nil {
				out = append(out, finishAnchor(current, text.String()))
				current = nil
			}
		}
	}
}

// anchorFile reads an anchor's href and PEP 503/592/658/714 data
// attributes; an anchor without a usable http(s) href gives nil (skipped).
func anchorFile(tok html.Token, base *url.URL) *rawFile {
	href, ok := attr(tok, "href")
	if !ok {
		return nil
	}
	u, err := base.Parse(href)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return nil
	}
	r := &rawFile{URL: u, Hashes: map[string]string{}}
	if frag := u.Fragment; frag != "" {
		if algo, hex, ok := strings.Cut(frag, "="); ok {
			r.Hashes[algo] = hex
		}
		clean := *u
		clean.Fragment = ""
		r.URL = &clean
	}
	r.RequiresPython, _ = attr(tok, "data-requires-python")
	if reason, ok := attr(tok, "data-yanked"); ok {
		r.Yanked, r.YankedReason = true, reason
	}
	for _, name := range []string{"data-core-metadata", "data-dist-info-metadata"} {
		if v, ok := attr(tok, name); ok && v != "false" {
			r.Metadata = true
			if algo, hex, ok := strings.Cut(v, "="); ok && r.MetadataHashes == nil {
				r.MetadataHashes = map[string]string{algo: hex}
			}
		}
	}
	return r
}

func finishAnchor(r *rawFile, text string) rawFile {
	r.Filename = strings.TrimSpace(text)
	if r.Filename == "" {
		r.Filename = lastSegment(r.URL.Path)
	}
	return *r
}

func lastSegment(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[i+1:]
	}
	return p
}

func attr(tok html.Token, name string) (string, bool) {
	for _, a := range tok.Attr {
		if a.Key == name {
			return a.Val, true
		}
	}
	return "", false
}
