package pyindex

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
)

// rangeBlock is the unit fetched by range requests; the tail block usually
// holds a wheel's whole central directory and its METADATA.
const rangeBlock = 64 * 1024

// httpReaderAt reads a remote file with HTTP range requests, fetching and
// keeping what it fetched. When the server ignores ranges, the first
// response carries the whole file, which is spooled to a temporary file
// (its announced hashes checked) and served from there. Close removes it.
type httpReaderAt struct {
	ctx   context.Context
	c     *Client
	u     *url.URL
	size  int64
	spans []span
	whole *os.File
	// Requests counts HTTP requests made (for tests and logs).
	Requests int
}

// openRange probes u with a suffix range request for the last block;
// hashes are checked when the whole file comes back.
func (c *Client) openRange(ctx context.Context, u *url.URL, hashes map[string]string) (*httpReaderAt, error) {
	r := &httpReaderAt{ctx: ctx, c: c, u: u}
	resp, err := r.do(fmt.Sprintf("bytes=-%d", rangeBlock))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		if r.whole, r.size, err = spool(resp.Body, hashes); err != nil {
			return nil, fmt.Errorf("download %s: %w", u.Redacted(), err)
		}
		return r, nil
	}
	body, err := readLimited(resp.Body, rangeBlock)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", u.Redacted(), err)
	}
	switch resp.StatusCode {
	case http.StatusPartialContent:
		start, total, err := parseContentRange(resp.Header.Get("Content-Range"))
		if err != nil {
			return nil, fmt.Errorf("range response of %s: %w", u.Redacted(), err)
		}
		r.size = total
		r.spans = append(r.spans, span{start: start, data: body})
		return r, nil
	case http.StatusRequestedRangeNotSatisfiable:
		return nil, fmt.Errorf("range request to %s: HTTP 416", u.Redacted())
	default:
		return nil, &StatusError{URL: u.Redacted(), Status: resp.StatusCode}
	}
}

// Size is the remote file's length.
func (r *httpReaderAt) Size() int64 { return r.size }

// Close removes the spooled file, if any.
func (r *httpReaderAt) Close() {
	if r.whole != nil {
		removeSpool(r.whole)
	}
}

// RangesSupported reports whether the server answered with a partial body.
func (r *httpReaderAt) RangesSupported() bool { return r.whole == nil }

func (r *httpReaderAt) do(rangeHeader string) (*http.Response, error) {
	req, err := r.c.newRequest(r.ctx, r.u)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Range", rangeHeader)
	r.Requests++
	resp, err := r.c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", r.u.Redacted(), err)
	}
	return resp, nil
}

// span is a fetched byte range of the remote file.
type span struct {
	start int64
	data  []byte
}

// fetch returns a span holding pos, fetching the aligned block around it
// when no fetched span does.
func (r *httpReaderAt) fetch(pos int64) (span, error) {
	for _, s := range r.spans {
		if pos >= s.start && pos < s.start+int64(len(s.data)) {
			return s, nil
		}
	}
	blk := pos / rangeBlock * rangeBlock
	end := min(blk+rangeBlock, r.size) - 1
	resp, err := r.do(fmt.Sprintf("bytes=%d-%d", blk, end))
	if err != nil {
		return span{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusPartialContent {
		return span{}, &StatusError{URL: r.u.Redacted(), Status: resp.StatusCode}
	}
	body, err := readLimited(resp.Body, rangeBlock)
	if err != nil {
		return span{}, fmt.Errorf("read %s: %w", r.u.Redacted(), err)
	}
	if int64(len(body)) != end-blk+1 {
		return span{}, fmt.Errorf("range %d-%d of %s: got %d bytes", blk, end, r.u.Redacted(), len(body))
	}
	s := span{start: blk, data: body}
	r.spans = append(r.spans, s)
	return s, nil
}

// ReadAt implements io.ReaderAt.
func (r *httpReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if r.whole != nil {
		return r.whole.ReadAt(p, off)
	}
	n := 0
	for n < len(p) {
		pos := off + int64(n)
		if pos >= r.size {
			return n, io.EOF
		}
		s, err := r.fetch(pos)
		if err != nil {
			return n, err
		}
		n += copy(p[n:], s.data[pos-s.start:])
	}
	return n, nil
}

// parseContentRange reads "bytes START-END/TOTAL".
func parseContentRange(h string) (start, total int64, err error) {
	rest, ok := strings.CutPrefix(h, "bytes ")
	if !ok {
		return 0, 0, fmt.Errorf("bad Content-Range %q", h)
	}
	span, tot, ok := strings.Cut(rest, "/")
	if !ok {
		return 0, 0, fmt.Errorf("bad Content-Range %q", h)
	}
	s, _, ok := strings.Cut(span, "-")
	if !ok {
		return 0, 0, fmt.Errorf("bad Content-Range %q", h)
	}
	if start, err = strconv.ParseInt(s, 10, 64); err != nil {
		return 0, 0, fmt.Errorf("bad Content-Range %q: %w", h, err)
	}
	if total, err = strconv.ParseInt(tot, 10, 64); err != nil {
		return 0, 0, fmt.Errorf("bad Content-Range %q: %w", h, err)
	}
	return start, total, nil
}
