package wheelindex

import (
	"context"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/refinery/refinery-worker/pipeline"
)

// Uploader copies published files to durable storage elsewhere (the object
// store, through an outbox) and knows their URL there.
type Uploader interface {
	// Enqueue makes the upload of p's wheel and metadata file durable; the
	// upload itself happens later.
	Enqueue(ctx context.Context, p Published) error
	// URL is where p's wheel will be fetched from.
	URL(p Published) string
}

// Publisher publishes the wheels of built outcomes: into the index, then to
// the Uploader when there is one. It implements handlers.WheelPublisher.
type Publisher struct {
	Index *Index
	// OutputDir is where builds leave their wheels (OUTPUT_DIR).
	OutputDir string
	// PublicURL is the worker's base URL as clients reach it (PUBLIC_URL);
	// without an Uploader, wheel URLs point into its /simple/.
	PublicURL string
	// Uploads is optional (ARTIFACT_STORE_URL).
	Uploads Uploader
}

// PublishWheel publishes OUTPUT_DIR/<w.File> and returns its URL ("" when
// there is neither a store nor a PUBLIC_URL).
func (p *Publisher) PublishWheel(ctx context.Context, w pipeline.Wheel) (string, error) {
	if w.File == "" || w.File != filepath.Base(w.File) {
		return "", fmt.Errorf("publish: wheel file %q is not a plain file name", w.File)
	}
	pub, err := p.Index.Publish(ctx, filepath.Join(p.OutputDir, w.File), w.SHA256)
	if err != nil {
		return "", err
	}
	if p.Uploads != nil {
		if err := p.Uploads.Enqueue(ctx, pub); err != nil {
			return "", fmt.Errorf("queue upload of %s: %w", w.File, err)
		}
		return p.Uploads.URL(pub), nil
	}
	return IndexURL(p.PublicURL, pub), nil
}

// IndexURL is the URL of a published wheel in the worker's own index, ""
// without a base URL.
func IndexURL(base string, p Published) string {
	if base == "" {
		return ""
	}
	return strings.TrimRight(base, "/") + "/simple/" + p.Project + "/" + url.PathEscape(p.File.Filename)
}
