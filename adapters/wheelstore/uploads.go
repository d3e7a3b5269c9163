package wheelstore

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync/atomic"

	"github.com/refinery/refinery-worker/adapters/controlplane"
	"github.com/refinery/refinery-worker/adapters/outbox"
	"github.com/refinery/refinery-worker/adapters/wheelindex"
)

// Uploads copies published files to a Store through a durable outbox: a
// publish adds one record (fsynced) naming the wheel and its metadata file;
// Run uploads them, retrying through outages, and the records of a worker
// that died are taken over by the next one (or by another worker sharing
// CACHE_DIR). The files are read from the index, where they stay.
type Uploads struct {
	box      *outbox.Outbox
	store    *Store
	indexDir string
	failures atomic.Int64
}

// upload is the body of an upload record.
type upload struct {
	Path        string `json:"path"` // "<project>/<wheel>" below the index root
	SHA256      string `json:"sha256"`
	MetadataSHA string `json:"metadata_sha256"`
}

// OpenUploads opens (or takes over) the upload outbox in dir.
func OpenUploads(dir string, store *Store, indexDir string, log *slog.Logger) (*Uploads, error) {
	u := &Uploads{store: store, indexDir: indexDir}
	box, err := outbox.Open(outbox.Options{Dir: dir, Sender: u, Logger: log})
	if err != nil {
		return nil, fmt.Errorf("upload outbox: %w", err)
	}
	u.box = box
	return u, nil
}

// Enqueue makes the upload of p durable.
func (u *Uploads) Enqueue(ctx context.Context, p wheelindex.Published) error {
	body, err := json.Marshal(upload{Path: p.Path, SHA256: p.File.SHA256(), MetadataSHA: p.File.MetadataSHA256()})
	if err != nil {
		return err
	}
	return u.box.Add(ctx, outbox.Record{Key: "upload:" + p.Path + "@" + p.File.SHA256(), Group: p.Path, Kind: "upload",
		Method: "PUT", Path: p.Path, Body: body})
}

// URL is the stored wheel's URL.
func (u *Uploads) URL(p wheelindex.Published) string { return u.store.URL(p.Path) }

// Send uploads one record's files: the metadata file first, then the wheel,
// so a stored wheel always has its metadata beside it.
func (u *Uploads) Send(ctx context.Context, req controlplane.Request) ([]byte, error) {
	var up upload
	if err := json.Unmarshal(req.Body, &up); err != nil {
		return nil, permanent{fmt.Errorf("upload record %s: %w", req.Path, err)}
	}
	local := filepath.Join(u.indexDir, filepath.FromSlash(up.Path))
	err := u.store.Upload(ctx, local+wheelindex.MetadataSuffix, up.Path+wheelindex.MetadataSuffix, up.MetadataSHA, "text/plain; charset=utf-8")
	if err == nil {
		err = u.store.Upload(ctx, local, up.Path, up.SHA256, "application/zip")
	}
	if err != nil {
		u.failures.Add(1)
		return nil, err
	}
	return nil, nil
}

// Run uploads until ctx ends.
func (u *Uploads) Run(ctx context.Context) error { return u.box.Run(ctx) }

// WaitEmpty blocks until every queued upload is done or ctx ends.
func (u *Uploads) WaitEmpty(ctx context.Context) error { return u.box.WaitEmpty(ctx) }

// Backlog is the number of uploads waiting.
func (u *Uploads) Backlog() int { return u.box.Backlog() }

// DeadLetters counts uploads given up (the local file vanished or changed).
func (u *Uploads) DeadLetters() int { return u.box.DeadLetters() }

// Failures counts failed upload attempts of this run (each is retried).
func (u *Uploads) Failures() int64 { return u.failures.Load() }

// Close releases the outbox (pending uploads stay on disk). Stop Run first.
func (u *Uploads) Close() error { return u.box.Close() }

// Store is the destination.
func (u *Uploads) Store() *Store { return u.store }

// EnqueueAll queues the upload of every file the index lists (stored
// objects with the right bytes are not sent again) and returns how many.
func (u *Uploads) EnqueueAll(ctx context.Context, x *wheelindex.Index) (int, error) {
	n := 0
	err := x.Walk(func(p wheelindex.Published) error {
		n++
		return u.Enqueue(ctx, p)
	})
	return n, err
}

// VerifyIndex reads every stored wheel and metadata file the index lists
// and returns each missing object or sha256 mismatch.
func (s *Store) VerifyIndex(ctx context.Context, x *wheelindex.Index) ([]string, error) {
	var problems []string
	err := x.Walk(func(p wheelindex.Published) error {
		for _, c := range [][2]string{{p.Path, p.File.SHA256()}, {p.MetadataPath(), p.File.MetadataSHA256()}} {
			if err := s.Check(ctx, c[0], c[1]); err != nil {
				problems = append(problems, err.Error())
			}
		}
		return ctx.Err()
	})
	return problems, err
}
