package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/refinery/refinery-worker/adapters/wheelindex"
	"github.com/refinery/refinery-worker/adapters/wheelstore"
)

// indexing is the worker's wheel index: publishing built wheels, their
// uploads to the artifact store, and what /status and /metrics show of it.
type indexing struct {
	index     *wheelindex.Index
	uploads   *wheelstore.Uploads // nil without ARTIFACT_STORE_URL
	publisher *wheelindex.Publisher
	stop      context.CancelFunc
	done      chan struct{}
}

func indexDir(cfg Config) string { return filepath.Join(cfg.OutputDir, "simple") }

// openIndexing opens OUTPUT_DIR/simple and, with ARTIFACT_STORE_URL, the
// upload outbox under CACHE_DIR/artifact-outbox.
func openIndexing(cfg Config, log *slog.Logger) (*indexing, error) {
	idx, err := wheelindex.Open(wheelindex.Options{Dir: indexDir(cfg), Logger: log})
	if err != nil {
		return nil, err
	}
	ix := &indexing{index: idx, publisher: &wheelindex.Publisher{Index: idx, OutputDir: cfg.OutputDir, PublicURL: cfg.PublicURL}}
	if cfg.ArtifactStoreURL != "" {
		store, err := wheelstore.NewStore(wheelstore.StoreConfig{URL: cfg.ArtifactStoreURL, AccessKey: cfg.ArtifactStoreAccessKey,
			SecretKey: cfg.ArtifactStoreSecretKey, Region: cfg.ArtifactStoreRegion})
		if err != nil {
			return nil, err
		}
		if ix.uploads, err = wheelstore.OpenUploads(filepath.Join(cfg.CacheDir, "artifact-outbox"), store, idx.Dir(), log); err != nil {
			return nil, err
		}
		ix.publisher.Uploads = ix.uploads
	}
	return ix, nil
}

// run uploads in the background until close (the bucket is created when
// missing; an unreachable store only delays uploads).
func (ix *indexing) run(ctx context.Context, log *slog.Logger) {
	if ix.uploads == nil {
		return
	}
	ctx, ix.stop = context.WithCancel(context.WithoutCancel(ctx))
	ix.done = make(chan struct{})
	go func() {
		defer close(ix.done)
		if err := ix.uploads.Store().EnsureBucket(ctx); err != nil {
			log.Warn("artifact store: bucket check failed; uploads retry until it answers", "err", err)
		}
		if err := ix.uploads.Run(ctx); err != nil {
			log.Error("artifact uploads stopped", "err", err)
		}
	}()
}

// close gives the uploads a few seconds to finish, then stops them; those
// not done stay in the outbox for the next start (or another worker).
func (ix *indexing) close() error {
	if ix.uploads == nil {
		return nil
	}
	if ix.stop != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = ix.uploads.WaitEmpty(ctx) // not reaching empty is not an error
		cancel()
		ix.stop()
		<-ix.done
	}
	return ix.uploads.Close()
}

// indexStatus is the index part of /status.
type indexStatus struct {
	wheelindex.Stats
	UploadBacklog *int   `json:"upload_backlog,omitempty"`
	UploadDead    *int   `json:"upload_dead_letters,omitempty"`
	Error         string `json:"error,omitempty"`
}

func (ix *indexing) status() *indexStatus {
	st, err := ix.index.Stats()
	s := &indexStatus{Stats: st}
	if err != nil {
		s.Error = err.Error()
	}
	if ix.uploads != nil {
		b, d := ix.uploads.Backlog(), ix.uploads.DeadLetters()
		s.UploadBacklog, s.UploadDead = &b, &d
	}
	return s
}

func (ix *indexing) collectors() []prometheus.Collector {
	counter := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: "refinery", Name: name, Help: help}, f)
	}
	cs := []prometheus.Collector{
		counter("index_wheels_published_total", "Wheels this process added to the wheel index.",
			func() float64 { p, _ := ix.index.Counters(); return float64(p) }),
		counter("index_publish_failures_total", "Built wheels this process failed to publish (see publish_error in the manifest).",
			func() float64 { _, f := ix.index.Counters(); return float64(f) }),
	}
	if u := ix.uploads; u != nil {
		cs = append(cs,
			counter("index_upload_failures_total", "Failed attempts to upload to the artifact store (each is retried).",
				func() float64 { return float64(u.Failures()) }),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "refinery", Name: "index_upload_backlog",
				Help: "Published wheels waiting for their upload to the artifact store."}, func() float64 { return float64(u.Backlog()) }),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "refinery", Name: "index_upload_dead_letters",
				Help: "Uploads given up because the local file vanished or changed."}, func() float64 { return float64(u.DeadLetters()) }))
	}
	return cs
}

// indexCommand is `refinery-worker index rebuild|verify`.
func indexCommand(ctx context.Context, cfg Config, log *slog.Logger, args []string, stdout io.Writer) error {
	if len(args) != 1 || (args[0] != "rebuild" && args[0] != "verify") {
		return &usageError{msg: "usage: refinery-worker index rebuild|verify"}
	}
	ix, err := openIndexing(cfg, log)
	if err != nil {
		return err
	}
	defer ix.close()
	if args[0] == "rebuild" {
		return rebuildIndex(ctx, cfg, ix, stdout)
	}
	return verifyIndex(ctx, ix, stdout)
}

func rebuildIndex(ctx context.Context, cfg Config, ix *indexing, stdout io.Writer) error {
	rep, err := ix.index.Rebuild(ctx)
	if err != nil {
		return err
	}
	for _, s := range rep.Skipped {
		fmt.Fprintln(stdout, "skipped:", s)
	}
	added, problems, err := ix.index.PublishManifest(ctx, cfg.OutputDir)
	if err != nil {
		return err
	}
	for _, p := range problems {
		fmt.Fprintln(stdout, "not published:", p)
	}
	st, err := ix.index.Stats()
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "index rebuilt: %d projects, %d wheels, %d bytes (%d published from the manifest)\n",
		st.Projects, st.Wheels, st.Bytes, added)
	if ix.uploads == nil {
		return nil
	}
	queued, err := ix.uploads.EnqueueAll(ctx, ix.index)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "uploading %d wheels to the artifact store\n", queued)
	ix.run(ctx, slog.New(slog.DiscardHandler))
	if err := ix.uploads.WaitEmpty(ctx); err != nil {
		return fmt.Errorf("uploads not finished (they resume at the next start): %w", err)
	}
	fmt.Fprintln(stdout, "uploads done")
	return nil
}

func verifyIndex(ctx context.Context, ix *indexing, stdout io.Writer) error {
	rep, err := ix.index.Verify(ctx)
	if err != nil {
		return err
	}
	if ix.uploads != nil {
		problems, err := ix.uploads.Store().VerifyIndex(ctx, ix.index)
		if err != nil {
			return err
		}
		rep.Problems = append(rep.Problems, problems...)
	}
	for _, p := range rep.Problems {
		fmt.Fprintln(stdout, "MISMATCH:", p)
	}
	fmt.Fprintf(stdout, "checked %d projects, %d files: %d problems\n", rep.Projects, rep.Files, len(rep.Problems))
	if !rep.OK() {
		return errors.New("index verify found mismatches")
	}
	return nil
}
