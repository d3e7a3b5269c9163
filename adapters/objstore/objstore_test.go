package objstore_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/refinery/refinery-worker/adapters/objstore"
)

// startS3 runs gofakes3, an in-process S3 server, on a loopback port.
func startS3(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(gofakes3.New(s3mem.New()).Server())
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestPutGet(t *testing.T) {
	ctx := context.Background()
	store, err := objstore.New(objstore.Config{Endpoint: startS3(t), Bucket: "inputs", AccessKey: "k", SecretKey: "s", MaxObject: 16})
	if err != nil {
		t.Fatal(err)
	}
	if err := store.EnsureBucket(ctx, ""); err != nil {
		t.Fatal(err)
	}
	if err := store.EnsureBucket(ctx, "inputs"); err != nil {
		t.Fatalf("second EnsureBucket: %v", err)
	}
	if err := store.Put(ctx, "", "u/1/requirements.txt", []byte("six==1.16.0\n"), "text/plain"); err != nil {
		t.Fatal(err)
	}
	got, err := store.Get(ctx, "inputs", "u/1/requirements.txt")
	if err != nil || string(got) != "six==1.16.0\n" {
		t.Fatalf("Get = %q, %v", got, err)
	}
	if _, err := store.Get(ctx, "", "missing"); !errors.Is(err, objstore.ErrNotFound) {
		t.Errorf("missing object: err = %v", err)
	}
	if err := store.Put(ctx, "", "big", make([]byte, 17), ""); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Get(ctx, "", "big"); err == nil {
		t.Error("object over MaxObject accepted")
	}
}

func TestConfigErrors(t *testing.T) {
	if _, err := objstore.New(objstore.Config{}); err == nil {
		t.Error("empty endpoint accepted")
	}
	store, err := objstore.New(objstore.Config{Endpoint: "127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Get(context.Background(), "", "k"); err == nil {
		t.Error("no bucket accepted")
	}
}
