package pyindex

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/refinery/refinery-worker/pipeline/pep440"
)

// DefaultIndexURL is the public PyPI simple index.
const DefaultIndexURL = "https://pypi.org/simple/"

// Config configures a Client.
type Config struct {
	// IndexURL is the primary simple index (DefaultIndexURL when empty).
	IndexURL string
	// ExtraIndexURLs are searched too; files of all indexes are merged.
	ExtraIndexURLs []string
	// Username and Password are used for indexes whose URL carries no
	// credentials of its own.
	Username, Password string
	// CacheDir holds cached responses; "" disables the disk cache.
	CacheDir string
	// PythonVersion ("3.11" or "3.11.4") drops files whose requires-python
	// excludes it; "" keeps every file.
	PythonVersion string
	// HTTPClient defaults to a client keeping 16 idle connections per host.
	HTTPClient *http.Client
	// Timeout bounds each wait on an index (connecting, response headers,
	// each read of a body): DefaultTimeout when 0. It wraps the transport
	// of HTTPClient too.
	Timeout time.Duration
	// Logger defaults to slog.Default().
	Logger *slog.Logger
}

// Client reads projects and metadata from one or more indexes. It is safe
// for concurrent use; project pages and metadata are memoised for its
// lifetime.
type Client struct {
	indexes []index
	http    *http.Client
	cache   *diskCache
	python  *pep440.Version
	log     *slog.Logger

	projects *memo[*Project]
	metadata *memo[*Metadata]
}

// index is one configured index with its credentials split off.
type index struct {
	base       *url.URL
	user, pass string
}

// New validates cfg and returns a Client.
func New(cfg Config) (*Client, error) {
	c := &Client{
		http:     cfg.HTTPClient,
		log:      cfg.Logger,
		projects: newMemo[*Project](),
		metadata: newMemo[*Metadata](),
	}
	if c.http == nil {
		// The resolver prefetches in parallel: keep enough idle
		// connections per index that they are reused, not churned.
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = 16
		c.http = &http.Client{Transport: tr}
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	next := c.http.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	hc := *c.http
	hc.Transport = idleTimeout{next: next, d: timeout}
	c.http = &hc
	if c.log == nil {
		c.log = slog.Default()
	}
	primary := cfg.IndexURL
	if primary == "" {
		primary = DefaultIndexURL
	}
	for _, raw := range append([]string{primary}, cfg.ExtraIndexURLs...) {
		ix, err := parseIndex(raw, cfg.Username, cfg.Password)
		if err != nil {
			return nil, err
		}
		c.indexes = append(c.indexes, ix)
	}
	if cfg.PythonVersion != "" {
		v, err := pep440.Parse(cfg.PythonVersion)
		if err != nil {
			return nil, fmt.Errorf("python version for requires-python: %w", err)
		}
		c.python = &v
	}
	if cfg.CacheDir != "" {
		c.cache = &diskCache{dir: cfg.CacheDir}
	}
	return c, nil
}

func parseIndex(raw, user, pass string) (index, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return index{}, fmt.Errorf("index URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return index{}, fmt.Errorf("index URL %q: want an http(s) URL", u.Redacted())
	}
	ix := index{user: user, pass: pass}
	if u.User != nil {
		ix.user = u.User.Username()
		ix.pass, _ = u.User.Password()
		u.User = nil
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	ix.base = u
	return ix, nil
}

// credentialsFor returns the credentials of the index whose host serves u.
func (c *Client) credentialsFor(u *url.URL) (user, pass string, ok bool) {
	for _, ix := range c.indexes {
		if ix.base.Host == u.Host && ix.base.Scheme == u.Scheme && ix.user != "" {
			return ix.user, ix.pass, true
		}
	}
	return "", "", false
}

// StatusError is an unexpected HTTP status.
type StatusError struct {
	URL    string
	Status int
}

func (e *StatusError) Error() string { return fmt.Sprintf("GET %s: HTTP %d", e.URL, e.Status) }

// errNotFound marks a 404 from an index.
var errNotFound = errors.New("not found")

// newRequest builds a GET with credentials for the index host.
func (c *Client) newRequest(ctx context.Context, u *url.URL) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("request %s: %w", u.Redacted(), err)
	}
	if user, pass, ok := c.credentialsFor(u); ok {
		req.SetBasicAuth(user, pass)
	}
	req.Header.Set("User-Agent", "refinery-worker")
	return req, nil
}

// open starts a GET of u and returns the 200 response for streaming.
func (c *Client) open(ctx context.Context, u *url.URL) (*http.Response, error) {
	req, err := c.newRequest(ctx, u)
	if err != nil {
		return nil, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", u.Redacted(), err)
	}
	switch resp.StatusCode {
	case http.StatusOK:
		return resp, nil
	case http.StatusNotFound:
		resp.Body.Close()
		return nil, fmt.Errorf("get %s: %w", u.Redacted(), errNotFound)
	default:
		resp.Body.Close()
		return nil, &StatusError{URL: u.Redacted(), Status: resp.StatusCode}
	}
}

// get fetches u, through the validator cache when cacheable, and returns
// the body and its content type. A 404 is errNotFound.
func (c *Client) get(ctx context.Context, u *url.URL, accept string, cacheable bool) ([]byte, string, error) {
	req, err := c.newRequest(ctx, u)
	if err != nil {
		return nil, "", err
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	key := u.String() + "\x00" + accept
	var cached *cacheEntry
	if cacheable {
		cached = c.cache.load(key)
	}
	if cached != nil {
		if cached.ETag != "" {
			req.Header.Set("If-None-Match", cached.ETag)
		}
		if cached.LastModified != "" {
			req.Header.Set("If-Modified-Since", cached.LastModified)
		}
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, "", fmt.Errorf("get %s: %w", u.Redacted(), err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotModified && cached != nil:
		c.log.DebugContext(ctx, "index cache hit", "url", u.Redacted())
		return cached.Body, cached.ContentType, nil
	case resp.StatusCode == http.StatusNotFound:
		return nil, "", fmt.Errorf("get %s: %w", u.Redacted(), errNotFound)
	case resp.StatusCode != http.StatusOK:
		return nil, "", &StatusError{URL: u.Redacted(), Status: resp.StatusCode}
	}
	body, err := readLimited(resp.Body, maxPage)
	if err != nil {
		return nil, "", fmt.Errorf("read %s: %w", u.Redacted(), err)
	}
	entry := &cacheEntry{
		ETag:         resp.Header.Get("ETag"),
		LastModified: resp.Header.Get("Last-Modified"),
		ContentType:  resp.Header.Get("Content-Type"),
		Body:         body,
	}
	if cacheable && (entry.ETag != "" || entry.LastModified != "") {
		if err := c.cache.store(key, entry); err != nil {
			c.log.WarnContext(ctx, "index cache write failed", "url", u.Redacted(), "err", err)
		}
	}
	return body, entry.ContentType, nil
}

// SplitIndexURLs reads EXTRA_INDEX_URL, which may hold several URLs
// separated by whitespace or commas (pip's PIP_EXTRA_INDEX_URL uses
// whitespace).
func SplitIndexURLs(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' || r == '\r' })
}
