package pyindex

import (
	"archive/tar"
	"archive/zip"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
)

// maxMetadata bounds a METADATA or PKG-INFO file.
const maxMetadata = 8 << 20

// Metadata returns the dependency metadata of one file, trying the PEP 658
// file, then the file itself (wheel METADATA or sdist PKG-INFO). A file
// whose dependencies cannot be known yields Known == false, not an error.
func (c *Client) Metadata(ctx context.Context, f File) (*Metadata, error) {
	return c.metadata.do(ctx, f.URL.String(), func() (*Metadata, error) {
		m, err := c.fetchMetadata(ctx, f)
		if err != nil {
			return nil, fmt.Errorf("metadata of %s: %w", f.Filename, err)
		}
		return m, nil
	})
}

func (c *Client) fetchMetadata(ctx context.Context, f File) (*Metadata, error) {
	if f.MetadataAvailable {
		mu := *f.URL
		mu.Path += ".metadata"
		mu.RawPath = ""
		body, _, err := c.get(ctx, &mu, "", true)
		switch {
		case err == nil:
			if err := verifyHashes(f.MetadataHashes, body); err != nil {
				return nil, fmt.Errorf("PEP 658 metadata of %s: %w", f.Filename, err)
			}
			h, perr := parseCoreMetadata(body)
			if perr == nil {
				return metadataFrom(h, SourcePEP658)
			}
			c.log.WarnContext(ctx, "bad PEP 658 metadata; reading the file instead", "file", f.Filename, "err", perr)
		case errors.Is(err, errNotFound):
			c.log.DebugContext(ctx, "PEP 658 metadata announced but missing", "file", f.Filename)
		default:
			return nil, err
		}
	}
	switch f.Kind {
	case Wheel:
		body, err := c.immutable(ctx, "wheel-metadata", f.URL, func() ([]byte, error) { return c.wheelMetadata(ctx, f) })
		if err != nil {
			return nil, err
		}
		h, err := parseCoreMetadata(body)
		if err != nil {
			return nil, err
		}
		return metadataFrom(h, SourceWheel)
	case Sdist:
		body, err := c.immutable(ctx, "sdist-pkg-info", f.URL, func() ([]byte, error) { return c.sdistPkgInfo(ctx, f) })
		if err != nil {
			return nil, err
		}
		if body == nil {
			return &Metadata{Source: SourceUnknown}, nil
		}
		h, err := parseCoreMetadata(body)
		if err != nil {
			return &Metadata{Source: SourceUnknown}, nil
		}
		return metadataFrom(h, SourceSdist)
	}
	return &Metadata{Source: SourceUnknown}, nil
}

// immutable caches what fetch extracts from a distribution file: files on
// an index never change under one URL, so no revalidation is needed.
func (c *Client) immutable(ctx context.Context, kind string, u *url.URL, fetch func() ([]byte, error)) ([]byte, error) {
	key := kind + "\x00" + u.String()
	if e := c.cache.load(key); e != nil {
		return e.Body, nil
	}
	body, err := fetch()
	if err != nil {
		return nil, err
	}
	if err := c.cache.store(key, &cacheEntry{Body: body}); err != nil {
		c.log.WarnContext(ctx, "index cache write failed", "url", u.Redacted(), "err", err)
	}
	return body, nil
}

// wheelMetadata reads *.dist-info/METADATA out of a wheel, with range
// requests when the server supports them.
func (c *Client) wheelMetadata(ctx context.Context, f File) ([]byte, error) {
	ra, err := c.openRange(ctx, f.URL, f.Hashes)
	if err != nil {
		return nil, fmt.Errorf("wheel %s: %w", f.Filename, err)
	}
	defer ra.Close()
	zr, err := zip.NewReader(ra, ra.Size())
	if err != nil {
		return nil, fmt.Errorf("open wheel %s: %w", f.Filename, err)
	}
	for _, zf := range zr.File {
		dir, base, ok := strings.Cut(zf.Name, "/")
		if ok && base == "METADATA" && strings.HasSuffix(dir, ".dist-info") {
			rc, err := zf.Open()
			if err != nil {
				return nil, fmt.Errorf("open %s in %s: %w", zf.Name, f.Filename, err)
			}
			defer rc.Close()
			body, err := readLimited(rc, maxMetadata)
			if err != nil {
				return nil, fmt.Errorf("read %s in %s: %w", zf.Name, f.Filename, err)
			}
			c.log.DebugContext(ctx, "wheel metadata read", "file", f.Filename, "ranges", ra.RangesSupported(), "requests", ra.Requests)
			return body, nil
		}
	}
	return nil, fmt.Errorf("wheel %s has no .dist-info/METADATA", f.Filename)
}

// sdistPkgInfo downloads an sdist and returns its top-level PKG-INFO, or
// nil when it has none or is of a format this client does not read. A
// tar.gz is read as it streams (then drained to check its hash); a zip
// needs random access and is spooled to a temporary file.
func (c *Client) sdistPkgInfo(ctx context.Context, f File) ([]byte, error) {
	name := strings.ToLower(f.Filename)
	isZip := strings.HasSuffix(name, ".zip")
	if !isZip && !strings.HasSuffix(name, ".tar.gz") && !strings.HasSuffix(name, ".tgz") {
		return nil, nil
	}
	resp, err := c.open(ctx, f.URL)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if isZip {
		return zipPkgInfo(resp.Body, f)
	}
	hr := newHashingReader(resp.Body, f.Hashes)
	info, err := tarPkgInfo(hr, f)
	if err != nil {
		return nil, err
	}
	if _, err := io.Copy(io.Discard, hr); err != nil {
		return nil, fmt.Errorf("read sdist %s: %w", f.Filename, err)
	}
	if err := hr.verify(); err != nil {
		return nil, fmt.Errorf("sdist %s: %w", f.Filename, err)
	}
	return info, nil
}

func tarPkgInfo(r io.Reader, f File) ([]byte, error) {
	gz, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("open sdist %s: %w", f.Filename, err)
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read sdist %s: %w", f.Filename, err)
		}
		if isTopLevelPkgInfo(h.Name) {
			return readLimited(tr, maxMetadata)
		}
	}
}

func zipPkgInfo(body io.Reader, f File) ([]byte, error) {
	file, size, err := spool(body, f.Hashes)
	if err != nil {
		return nil, fmt.Errorf("sdist %s: %w", f.Filename, err)
	}
	defer removeSpool(file)
	zr, err := zip.NewReader(file, size)
	if err != nil {
		return nil, fmt.Errorf("open sdist %s: %w", f.Filename, err)
	}
	for _, zf := range zr.File {
		if isTopLevelPkgInfo(zf.Name) {
			rc, err := zf.Open()
			if err != nil {
				return nil, fmt.Errorf("open PKG-INFO in %s: %w", f.Filename, err)
			}
			defer rc.Close()
			return readLimited(rc, maxMetadata)
		}
	}
	return nil, nil
}

func isTopLevelPkgInfo(name string) bool {
	name = strings.TrimPrefix(name, "./")
	dir, base, ok := strings.Cut(name, "/")
	return ok && dir != "" && base == "PKG-INFO"
}
