package wheelstore

import (
	"context"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/refinery/refinery-worker/adapters/wheelindex"
)

// IndexingOptions configure the worker's wheel index.
type IndexingOptions struct {
	// OutputDir holds the index (OUTPUT_DIR/simple) and the built wheels.
	OutputDir string
	// CacheDir holds the upload outbox (CACHE_DIR/artifact-outbox).
	CacheDir string
	// PublicURL is PUBLIC_URL, the base of the URLs the index hands out.
	PublicURL string
	// Store is the artifact store (ARTIFACT_STORE_*); an empty URL means
	// none: wheels are published to the local index only.
	Store  StoreConfig
	Logger *slog.Logger
}

// Indexing is the worker's wheel index: publishing built wheels, their
// uploads to the artifact store, and what /status and /metrics show of it.
type Indexing struct {
	index     *wheelindex.Index
	uploads   *Uploads // nil without an artifact store
	publisher *wheelindex.Publisher
	log       *slog.Logger
	stop      context.CancelFunc
	done      chan struct{}
}

// closeWait is how long Close gives the uploads to finish.
const closeWait = 5 * time.Second

// OpenIndexing opens OUTPUT_DIR/simple and, with an artifact store, the
// upload outbox under CACHE_DIR/artifact-outbox.
func OpenIndexing(o IndexingOptions) (*Indexing, error) {
	idx, err := wheelindex.Open(wheelindex.Options{Dir: filepath.Join(o.OutputDir, "simple"), Logger: o.Logger})
	if err != nil {
		return nil, err
	}
	ix := &Indexing{index: idx, log: o.Logger,
		publisher: &wheelindex.Publisher{Index: idx, OutputDir: o.OutputDir, PublicURL: o.PublicURL}}
	if o.Store.URL != "" {
		store, err := NewStore(o.Store)
		if err != nil {
			return nil, err
		}
		if ix.uploads, err = OpenUploads(filepath.Join(o.CacheDir, "artifact-outbox"), store, idx.Dir(), o.Logger); err != nil {
			return nil, err
		}
		ix.publisher.Uploads = ix.uploads
	}
	return ix, nil
}

// Dir is the index directory (served as /simple/ with INDEX_SERVE).
func (ix *Indexing) Dir() string { return ix.index.Dir() }

// Publisher publishes built wheels into the index (the report stage's).
func (ix *Indexing) Publisher() *wheelindex.Publisher { return ix.publisher }

// Run starts the uploads in the background until Close (the bucket is
// created when missing; an unreachable store only delays uploads).
func (ix *Indexing) Run(ctx context.Context) {
	if ix.uploads == nil {
		return
	}
	ctx, ix.stop = context.WithCancel(context.WithoutCancel(ctx))
	ix.done = make(chan struct{})
	go ix.upload(ctx)
}

func (ix *Indexing) upload(ctx context.Context) {
	defer close(ix.done)
	if err := ix.uploads.Store().EnsureBucket(ctx); err != nil {
		ix.log.Warn("artifact store: bucket check failed; uploads retry until it answers", "err", err)
	}
	if err := ix.uploads.Run(ctx); err != nil {
		ix.log.Error("artifact uploads stopped", "err", err)
	}
}

// Close gives the uploads a few seconds to finish, then stops them; those
// not done stay in the outbox for the next start (or another worker).
func (ix *Indexing) Close() error {
	if ix.uploads == nil {
		return nil
	}
	if ix.stop != nil {
		ctx, cancel := context.WithTimeout(context.Background(), closeWait)
		_ = ix.uploads.WaitEmpty(ctx) // not reaching empty is not an error
		cancel()
		ix.stop()
		<-ix.done
	}
	return ix.uploads.Close()
}

// IndexStatus is the index part of /status.
type IndexStatus struct {
	wheelindex.Stats
	UploadBacklog *int   `json:"upload_backlog,omitempty"`
	UploadDead    *int   `json:"upload_dead_letters,omitempty"`
	Error         string `json:"error,omitempty"`
}

// Status is the index part of /status.
func (ix *Indexing) Status() *IndexStatus {
	st, err := ix.index.Stats()
	s := &IndexStatus{Stats: st}
	if err != nil {
		s.Error = err.Error()
	}
	if ix.uploads != nil {
		b, d := ix.uploads.Backlog(), ix.uploads.DeadLetters()
		s.UploadBacklog, s.UploadDead = &b, &d
	}
	return s
}

// Collectors are the index's metrics.
func (ix *Indexing) Collectors() []prometheus.Collector {
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
			gauge("index_upload_backlog", "Published wheels waiting for their upload to the artifact store.",
				func() float64 { return float64(u.Backlog()) }),
			gauge("index_upload_dead_letters", "Uploads given up because the local file vanished or changed.",
				func() float64 { return float64(u.DeadLetters()) }))
	}
	return cs
}

func counter(name, help string, f func() float64) prometheus.Collector {
	return prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: "refinery", Name: name, Help: help}, f)
}

func gauge(name, help string, f func() float64) prometheus.Collector {
	return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "refinery", Name: name, Help: help}, f)
}

// IndexStatus is Status for handlers.StatusSources.
func (ix *Indexing) IndexStatus() any { return ix.Status() }
