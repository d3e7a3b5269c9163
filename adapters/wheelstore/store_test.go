package wheelstore_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/refinery/refinery-worker/adapters/wheelindex"
	"github.com/refinery/refinery-worker/adapters/wheelstore"
	"github.com/refinery/refinery-worker/internal/testkit/wheeltest"
	"github.com/refinery/refinery-worker/pipeline"
)

var quiet = slog.New(slog.DiscardHandler)

// s3Server is gofakes3 over real HTTP on loopback, behind a switch that
// makes it fail like a store in an outage: while down, a PUT has part of
// its body read and then its connection cut; other requests get a 503.
// corrupt makes the next PUT store altered bytes (its payload must hold
// "wheel bytes").
type s3Server struct {
	*httptest.Server
	down    atomic.Bool
	corrupt atomic.Bool
	puts    atomic.Int64
	reqs    atomic.Int64 // every request
}

func startS3(t *testing.T) *s3Server {
	t.Helper()
	s := &s3Server{}
	fake := gofakes3.New(s3mem.New()).Server()
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.reqs.Add(1)
		if r.Method == http.MethodPut && r.Header.Get("X-Amz-Copy-Source") == "" {
			s.puts.Add(1)
		}
		if s.down.Load() {
			if r.Method == http.MethodPut && r.ContentLength > 0 {
				_, _ = io.CopyN(io.Discard, r.Body, r.ContentLength/2)
				if hj, ok := w.(http.Hijacker); ok {
					if conn, _, err := hj.Hijack(); err == nil {
						conn.Close()
						return
					}
				}
			}
			http.Error(w, "store down", http.StatusServiceUnavailable)
			return
		}
		if r.Method == http.MethodPut && r.Header.Get("X-Amz-Copy-Source") == "" && s.corrupt.CompareAndSwap(true, false) {
			// The body may be aws-chunked: change a payload byte, not the framing.
			body, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(strings.NewReader(strings.Replace(string(body), "wheel bytes", "wheel byteS", 1)))
		}
		fake.ServeHTTP(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func newStore(t *testing.T, s *s3Server) *wheelstore.Store {
	t.Helper()
	st, err := wheelstore.NewStore(wheelstore.StoreConfig{URL: s.URL + "/wheels/refinery/prod", AccessKey: "k", SecretKey: "s"})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.EnsureBucket(context.Background()); err != nil {
		t.Fatal(err)
	}
	return st
}

func hexSum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func TestParseStoreURL(t *testing.T) {
	for _, tc := range []struct{ in, endpoint, bucket, prefix, err string }{
		{"http://127.0.0.1:9000/b", "127.0.0.1:9000", "b", "", ""},
		{"https://s3.example/b/p/q/", "s3.example", "b", "p/q/", ""},
		{"s3://b/p", "", "", "", "scheme must be http or https"},
		{"http://h:1/", "", "", "", "must name a bucket"},
		{"http://user:pw@h/b", "", "", "", "without credentials"},
	} {
		ep, _, b, p, err := wheelstore.ParseStoreURL(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: want error %q, got %v", tc.in, tc.err, err)
			}
			continue
		}
		if err != nil || ep != tc.endpoint || b != tc.bucket || p != tc.prefix {
			t.Errorf("%s: %q %q %q %v", tc.in, ep, b, p, err)
		}
	}
}

func TestUploadVerifiesBeforeExposing(t *testing.T) {
	s := startS3(t)
	st := newStore(t, s)
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "a.whl")
	data := []byte("wheel bytes")
	os.WriteFile(path, data, 0o644)
	s.corrupt.Store(true)
	err := st.Upload(ctx, path, "a/a.whl", hexSum(data), "application/zip")
	if err == nil || !strings.Contains(err.Error(), "the store holds sha256") {
		t.Fatalf("corrupted upload: %v", err)
	}
	if err := st.Check(ctx, "a/a.whl", hexSum(data)); err == nil {
		t.Fatal("a corrupted upload is visible under its final key")
	}
	if err := st.Upload(ctx, path, "a/a.whl", hexSum(data), "application/zip"); err != nil {
		t.Fatal(err)
	}
	if err := st.Check(ctx, "a/a.whl", hexSum(data)); err != nil {
		t.Fatal(err)
	}
	puts := s.puts.Load()
	if err := st.Upload(ctx, path, "a/a.whl", hexSum(data), "application/zip"); err != nil || s.puts.Load() != puts {
		t.Fatalf("second upload of stored bytes: %v, %d new puts", err, s.puts.Load()-puts)
	}
	keys, _ := st.Objects(ctx)
	if !slices.Equal(keys, []string{"refinery/prod/a/a.whl"}) {
		t.Fatalf("objects %v", keys)
	}
	resp, err := http.Get(st.URL("a/a.whl"))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(got) != string(data) || !strings.HasSuffix(st.URL("a/a.whl"), "/wheels/refinery/prod/a/a.whl") {
		t.Fatalf("GET %s: %d %q", st.URL("a/a.whl"), resp.StatusCode, got)
	}
}

// An upload to a store that is down makes each of its requests once (the
// read of the final key, then the put that fails): the upload outbox
// retries it later, so the S3 client must not retry inside.
func TestUploadToADownStoreIsOneRequest(t *testing.T) {
	s := startS3(t)
	st := newStore(t, s)
	path := filepath.Join(t.TempDir(), "a.whl")
	data := []byte("wheel bytes")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	s.down.Store(true)
	before := s.reqs.Load()
	if err := st.Upload(context.Background(), path, "a/a.whl", hexSum(data), "application/zip"); err == nil {
		t.Fatal("upload to a down store succeeded")
	}
	if n := s.reqs.Load() - before; n != 2 {
		t.Fatalf("%d requests for one failed upload, want 2 (the read of the final key, the put)", n)
	}
}

// TestUploadsSurviveOutageAndRestart: wheels are published while the store
// goes down mid-uploads and the worker stops and starts again; at the end
// every wheel and metadata file is stored exactly once with its hash, no
// staging object is left, and no final key ever showed other bytes.
func TestUploadsSurviveOutageAndRestart(t *testing.T) {
	s := startS3(t)
	st := newStore(t, s)
	out := t.TempDir()
	x, err := wheelindex.Open(wheelindex.Options{Dir: filepath.Join(out, "simple"), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	boxDir := filepath.Join(out, "cache", "artifact-outbox")
	up, err := wheelstore.OpenUploads(boxDir, st, x.Dir(), quiet)
	if err != nil {
		t.Fatal(err)
	}
	pub := &wheelindex.Publisher{Index: x, OutputDir: out, Uploads: up}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = up.Run(ctx) }()

	// A reader checks every final key it can see against the expected bytes.
	want := map[string]string{} // key -> sha256
	var wantMu sync.Mutex
	var bad atomic.Value
	stopWatch := make(chan struct{})
	watchDone := make(chan struct{})
	go func() {
		defer close(watchDone)
		for {
			select {
			case <-stopWatch:
				return
			case <-time.After(5 * time.Millisecond):
			}
			keys, err := st.Objects(context.Background())
			if err != nil {
				continue // the store is down
			}
			for _, k := range keys {
				rel, ok := strings.CutPrefix(k, "refinery/prod/")
				if !ok || strings.HasPrefix(rel, ".incoming/") {
					continue
				}
				wantMu.Lock()
				sha := want[rel]
				wantMu.Unlock()
				// A read the outage breaks is no finding; other bytes are.
				if err := st.Check(context.Background(), rel, sha); err != nil && strings.Contains(err.Error(), ", listed ") {
					bad.Store(err.Error())
				}
			}
		}
	}()

	const n = 24
	var urls []string
	publish := func(i int) {
		path, err := wheeltest.Write(out, wheeltest.Spec{Name: fmt.Sprintf("pkg%d", i%6), Version: fmt.Sprintf("1.%d", i)})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(path)
		wantMu.Lock()
		rel := fmt.Sprintf("pkg%d/%s", i%6, filepath.Base(path))
		want[rel] = hexSum(b)
		md, _ := wheelindex.ReadCoreMetadata(path)
		want[rel+".metadata"] = hexSum(md.Raw)
		wantMu.Unlock()
		url, err := pub.PublishWheel(context.Background(), pipeline.Wheel{File: filepath.Base(path), SHA256: hexSum(b)})
		if err != nil {
			t.Fatal(err)
		}
		urls = append(urls, url)
	}
	for i := 0; i < n/3; i++ {
		publish(i)
	}
	// The store goes down while uploads are in flight, more wheels are published.
	s.down.Store(true)
	for i := n / 3; i < 2*n/3; i++ {
		publish(i)
	}
	// Wait for failures to be seen, then stop the worker during the outage.
	for deadline := time.Now().Add(time.Minute); up.Failures() < 3; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no upload failed during the outage")
		}
	}
	cancel()
	<-done
	if err := up.Close(); err != nil {
		t.Fatal(err)
	}
	if up.Backlog() == 0 {
		t.Fatal("the outage left nothing to upload: the test did not test it")
	}
	// A new worker starts; the store comes back; the rest is published.
	up2, err := wheelstore.OpenUploads(boxDir, st, x.Dir(), quiet)
	if err != nil {
		t.Fatal(err)
	}
	pub.Uploads = up2
	ctx2, cancel2 := context.WithCancel(context.Background())
	done2 := make(chan struct{})
	go func() { defer close(done2); _ = up2.Run(ctx2) }()
	s.down.Store(false)
	for i := 2 * n / 3; i < n; i++ {
		publish(i)
	}
	wctx, wcancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer wcancel()
	if err := up2.WaitEmpty(wctx); err != nil {
		t.Fatal(err)
	}
	cancel2()
	<-done2
	up2.Close()
	close(stopWatch)
	<-watchDone
	if v := bad.Load(); v != nil {
		t.Fatalf("a final key showed wrong bytes: %v", v)
	}
	keys, err := st.Objects(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2*n {
		t.Fatalf("%d objects stored, want %d (wheel + metadata each): %v", len(keys), 2*n, keys)
	}
	for _, k := range keys {
		rel := strings.TrimPrefix(k, "refinery/prod/")
		if err := st.Check(context.Background(), rel, want[rel]); err != nil {
			t.Error(err)
		}
	}
	if up2.DeadLetters() != 0 {
		t.Fatalf("%d uploads dead-lettered", up2.DeadLetters())
	}
	if !strings.HasPrefix(urls[0], s.URL+"/wheels/refinery/prod/pkg0/pkg0-1.0-py3-none-any.whl") {
		t.Fatalf("wheel URL %s", urls[0])
	}
}
