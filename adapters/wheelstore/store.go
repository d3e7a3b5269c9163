// Package wheelstore copies the wheel index's files to an S3-compatible
// object store (ARTIFACT_STORE_URL) through a durable outbox, exposing an
// object under its final key only once its sha256 is verified.
package wheelstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// stagingPrefix holds uploads until their bytes are verified; the final key
// is only ever written by a server-side copy of a verified object.
const stagingPrefix = ".incoming/"

// StoreConfig is ARTIFACT_STORE_URL and its credentials.
type StoreConfig struct {
	// URL is http(s)://host[:port]/bucket[/prefix], path-style.
	URL                  string
	AccessKey, SecretKey string
	Region               string
}

// ParseStoreURL splits an ARTIFACT_STORE_URL into its parts.
func ParseStoreURL(raw string) (endpoint string, secure bool, bucket, prefix string, err error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", false, "", "", fmt.Errorf("not a URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", false, "", "", fmt.Errorf("scheme must be http or https, not %q", u.Scheme)
	}
	if u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", false, "", "", errors.New("want http(s)://host[:port]/bucket[/prefix] without credentials, query or fragment")
	}
	bucket, prefix, _ = strings.Cut(strings.Trim(u.Path, "/"), "/")
	if bucket == "" {
		return "", false, "", "", errors.New("the path must name a bucket")
	}
	if prefix != "" {
		prefix += "/"
	}
	return u.Host, u.Scheme == "https", bucket, prefix, nil
}

// Store puts index files into an S3 bucket under a prefix, keeping the
// index's layout: <prefix><project>/<file>.
type Store struct {
	client         *minio.Client
	bucket, prefix string
	base           string // public URL of the prefix, ending in /
}

// NewStore connects to the store (no request is made).
func NewStore(cfg StoreConfig) (*Store, error) {
	endpoint, secure, bucket, prefix, err := ParseStoreURL(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("ARTIFACT_STORE_URL: %w", err)
	}
	client, err := minio.New(endpoint, &minio.Options{Creds: credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure: secure, Region: cfg.Region, BucketLookup: minio.BucketLookupPath,
		// One request per call: the upload outbox is the retry (docs/retries.md);
		// minio-go's own ten tries would nest inside it.
		MaxRetries: 1})
	if err != nil {
		return nil, fmt.Errorf("artifact store %s: %w", endpoint, err)
	}
	scheme := "http"
	if secure {
		scheme = "https"
	}
	return &Store{client: client, bucket: bucket, prefix: prefix,
		base: scheme + "://" + endpoint + "/" + bucket + "/" + prefix}, nil
}

// URL is the public URL of an index file (rel is "<project>/<file>").
func (s *Store) URL(rel string) string {
	project, file, _ := strings.Cut(rel, "/")
	return s.base + project + "/" + url.PathEscape(file)
}

// Key is the object key of an index file.
func (s *Store) Key(rel string) string { return s.prefix + rel }

// EnsureBucket creates the bucket when it is missing.
func (s *Store) EnsureBucket(ctx context.Context) error {
	ok, err := s.client.BucketExists(ctx, s.bucket)
	if err != nil {
		return fmt.Errorf("artifact store: bucket %s: %w", s.bucket, err)
	}
	if ok {
		return nil
	}
	if err := s.client.MakeBucket(ctx, s.bucket, minio.MakeBucketOptions{}); err != nil {
		return fmt.Errorf("artifact store: make bucket %s: %w", s.bucket, err)
	}
	return nil
}

// permanent marks an upload that cannot succeed by retrying (the local
// file is gone or differs); the outbox dead-letters it.
type permanent struct{ error }

func (permanent) Retryable() bool { return false }
func (p permanent) Unwrap() error { return p.error }

// Upload stores the local file at path under rel, with sha256 want: a
// no-op when the final object already holds those bytes; otherwise a put
// to a staging key, a read-back whose sha256 must be want, a server-side
// copy to the final key and the removal of the staging object. A reader of
// the final key sees no object or the whole verified one.
func (s *Store) Upload(ctx context.Context, path, rel, want, ctype string) error {
	key := s.Key(rel)
	staging := s.prefix + stagingPrefix + want + "-" + strings.ReplaceAll(rel, "/", "_")
	if got, err := s.objectSHA(ctx, key); err == nil && got == want {
		return s.removeStaging(ctx, staging)
	}
	f, err := os.Open(path)
	if err != nil {
		return permanent{fmt.Errorf("upload %s: %w", rel, err)}
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return permanent{fmt.Errorf("upload %s: %w", rel, err)}
	}
	meta := map[string]string{"sha256": want}
	if _, err := s.client.PutObject(ctx, s.bucket, staging, f, info.Size(),
		minio.PutObjectOptions{ContentType: ctype, UserMetadata: meta, DisableMultipart: info.Size() < 64<<20}); err != nil {
		return fmt.Errorf("upload %s: put: %w", rel, err)
	}
	got, err := s.objectSHA(ctx, staging)
	if err != nil {
		return fmt.Errorf("upload %s: read back: %w", rel, err)
	}
	if got != want {
		return fmt.Errorf("upload %s: the store holds sha256 %s, want %s", rel, got, want)
	}
	if _, err := s.client.CopyObject(ctx, minio.CopyDestOptions{Bucket: s.bucket, Object: key, ReplaceMetadata: true,
		UserMetadata: meta, ContentType: ctype}, minio.CopySrcOptions{Bucket: s.bucket, Object: staging}); err != nil {
		return fmt.Errorf("upload %s: copy into place: %w", rel, err)
	}
	return s.removeStaging(ctx, staging)
}

func (s *Store) removeStaging(ctx context.Context, key string) error {
	if err := s.client.RemoveObject(ctx, s.bucket, key, minio.RemoveObjectOptions{}); err != nil {
		return fmt.Errorf("remove staging object %s: %w", key, err)
	}
	return nil
}

// objectSHA reads an object whole and returns its sha256.
func (s *Store) objectSHA(ctx context.Context, key string) (string, error) {
	obj, err := s.client.GetObject(ctx, s.bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return "", err
	}
	defer obj.Close()
	h := sha256.New()
	if _, err := io.Copy(h, obj); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Check reads the stored object of rel and compares its sha256 with want.
func (s *Store) Check(ctx context.Context, rel, want string) error {
	got, err := s.objectSHA(ctx, s.Key(rel))
	if err != nil {
		return fmt.Errorf("stored %s: %w", rel, err)
	}
	if got != want {
		return fmt.Errorf("stored %s: sha256 %s, listed %s", rel, got, want)
	}
	return nil
}

// Objects lists the keys under the prefix (staging objects included), for
// tests and verify.
func (s *Store) Objects(ctx context.Context) ([]string, error) {
	var keys []string
	for o := range s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: s.prefix, Recursive: true}) {
		if o.Err != nil {
			return nil, fmt.Errorf("list %s/%s: %w", s.bucket, s.prefix, o.Err)
		}
		keys = append(keys, o.Key)
	}
	return keys, nil
}
