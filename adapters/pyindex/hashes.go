package pyindex

import (
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"slices"
	"strings"
)

// ErrHashMismatch is wrapped when a downloaded body does not match the
// hash its index page announced.
var ErrHashMismatch = errors.New("hash mismatch")

var hashers = map[string]func() hash.Hash{"sha256": sha256.New, "sha384": sha512.New384, "sha512": sha512.New}

// verifyHashes checks body against every announced hash of a strong
// algorithm; weaker or unknown algorithms (md5) are ignored.
func verifyHashes(hashes map[string]string, body []byte) error {
	for algo, want := range hashes {
		newHash, ok := hashers[strings.ToLower(algo)]
		if !ok {
			continue
		}
		h := newHash()
		h.Write(body)
		if got := hex.EncodeToString(h.Sum(nil)); !strings.EqualFold(got, want) {
			return fmt.Errorf("%w: %s is %s, the index says %s", ErrHashMismatch, algo, got, want)
		}
	}
	return nil
}

// VerifyFile downloads f and checks that its content matches one of
// allowed ("sha256:<hex>", as pip's --hash), whatever the index announced.
func (c *Client) VerifyFile(ctx context.Context, f File, allowed []string) error {
	resp, err := c.open(ctx, f.URL)
	if err != nil {
		return fmt.Errorf("verify %s: %w", f.Filename, err)
	}
	defer resp.Body.Close()
	sums := map[string]hash.Hash{}
	var writers []io.Writer
	for _, a := range allowed {
		algo, _, _ := strings.Cut(a, ":")
		if newHash, ok := hashers[algo]; ok && sums[algo] == nil {
			sums[algo] = newHash()
			writers = append(writers, sums[algo])
		}
	}
	if _, err := io.Copy(io.MultiWriter(writers...), io.LimitReader(resp.Body, maxDownload)); err != nil {
		return fmt.Errorf("verify %s: %w", f.Filename, err)
	}
	var got []string
	for algo, h := range sums {
		sum := algo + ":" + hex.EncodeToString(h.Sum(nil))
		if slices.Contains(allowed, sum) {
			return nil
		}
		got = append(got, sum)
	}
	slices.Sort(got)
	return fmt.Errorf("%w: %s is %s, which no --hash allows", ErrHashMismatch, f.Filename, strings.Join(got, ", "))
}

// FileMatchesHashes reports whether the index announces for f one of
// allowed ("algo:hex").
func FileMatchesHashes(f File, allowed []string) bool {
	for algo, sum := range f.Hashes {
		if slices.Contains(allowed, strings.ToLower(algo)+":"+strings.ToLower(sum)) {
			return true
		}
	}
	return false
}
