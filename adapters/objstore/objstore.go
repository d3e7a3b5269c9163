// Package objstore reads (and writes) objects in an S3-compatible object
// store (OBJECT_STORE_* settings) with minio-go, which speaks S3 to AWS,
// MinIO, Ceph RGW and the like.
package objstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// DefaultMaxObject bounds what Get reads into memory.
const DefaultMaxObject = 64 << 20

// ErrNotFound is wrapped when the bucket or object does not exist.
var ErrNotFound = errors.New("object not found")

// Config is the OBJECT_STORE_* configuration.
type Config struct {
	// Endpoint is host[:port] (a URL's scheme is accepted and decides SSL).
	Endpoint  string
	Bucket    string // default bucket for calls that name none
	AccessKey string
	SecretKey string
	UseSSL    bool
	// Region is optional; set it for stores that insist.
	Region string
	// MaxObject bounds Get (DefaultMaxObject when 0).
	MaxObject int64
}

// Store is an S3 bucket client.
type Store struct {
	client *minio.Client
	bucket string
	max    int64
}

// New returns a Store for cfg.
func New(cfg Config) (*Store, error) {
	endpoint, useSSL := cfg.Endpoint, cfg.UseSSL
	if rest, ok := strings.CutPrefix(endpoint, "https://"); ok {
		endpoint, useSSL = rest, true
	} else if rest, ok := strings.CutPrefix(endpoint, "http://"); ok {
		endpoint, useSSL = rest, false
	}
	endpoint = strings.TrimRight(endpoint, "/")
	if endpoint == "" {
		return nil, errors.New("object store: endpoint is required")
	}
	client, err := minio.New(endpoint, &minio.Options{
		Creds:  credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure: useSSL,
		Region: cfg.Region,
		// One request per call: the plan poller's next round is the retry
		// (docs/retries.md); minio-go's own ten tries would nest inside it.
		MaxRetries: 1,
	})
	if err != nil {
		return nil, fmt.Errorf("object store %s: %w", endpoint, err)
	}
	max := cfg.MaxObject
	if max <= 0 {
		max = DefaultMaxObject
	}
	return &Store{client: client, bucket: cfg.Bucket, max: max}, nil
}

func (s *Store) bucketOr(bucket string) (string, error) {
	if bucket == "" {
		bucket = s.bucket
	}
	if bucket == "" {
		return "", errors.New("object store: no bucket given and none configured")
	}
	return bucket, nil
}

// Get reads a whole object (bucket "" means the configured bucket).
func (s *Store) Get(ctx context.Context, bucket, key string) ([]byte, error) {
	bucket, err := s.bucketOr(bucket)
	if err != nil {
		return nil, err
	}
	obj, err := s.client.GetObject(ctx, bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return nil, s.wrap("get", bucket, key, err)
	}
	defer obj.Close()
	b, err := io.ReadAll(io.LimitReader(obj, s.max+1))
	if err != nil {
		return nil, s.wrap("read", bucket, key, err)
	}
	if int64(len(b)) > s.max {
		return nil, fmt.Errorf("object store: %s/%s is larger than %d bytes", bucket, key, s.max)
	}
	return b, nil
}

// Put writes an object (bucket "" means the configured bucket).
func (s *Store) Put(ctx context.Context, bucket, key string, data []byte, contentType string) error {
	bucket, err := s.bucketOr(bucket)
	if err != nil {
		return err
	}
	_, err = s.client.PutObject(ctx, bucket, key, bytes.NewReader(data), int64(len(data)),
		minio.PutObjectOptions{ContentType: contentType})
	if err != nil {
		return s.wrap("put", bucket, key, err)
	}
	return nil
}

// EnsureBucket creates the bucket when it does not exist.
func (s *Store) EnsureBucket(ctx context.Context, bucket string) error {
	bucket, err := s.bucketOr(bucket)
	if err != nil {
		return err
	}
	ok, err := s.client.BucketExists(ctx, bucket)
	if err != nil {
		return s.wrap("stat bucket", bucket, "", err)
	}
	if ok {
		return nil
	}
	if err := s.client.MakeBucket(ctx, bucket, minio.MakeBucketOptions{}); err != nil {
		return s.wrap("make bucket", bucket, "", err)
	}
	return nil
}

func (s *Store) wrap(op, bucket, key string, err error) error {
	switch minio.ToErrorResponse(err).Code {
	case "NoSuchKey", "NoSuchBucket", "NotFound":
		return fmt.Errorf("object store: %s %s/%s: %w: %w", op, bucket, key, ErrNotFound, err)
	}
	return fmt.Errorf("object store: %s %s/%s: %w", op, bucket, key, err)
}
