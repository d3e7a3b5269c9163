package handlers

import (
	"context"
	"log/slog"

	"github.com/refinery/refinery-worker/pipeline"
)

// Manifest metadata keys written for published wheels.
const (
	// MetaWheelURL is where the (first) wheel can be fetched: the object
	// store, else the worker's own index when PUBLIC_URL is set.
	MetaWheelURL = "wheel_url"
	// MetaWheelURLs lists the URL of every wheel of the build, in order.
	MetaWheelURLs = "wheel_urls"
	// MetaPublishError says why a built wheel is not in the index.
	MetaPublishError = "publish_error"
)

// WheelPublisher puts one built wheel into the wheel index (and queues its
// upload); it returns the wheel's URL, or "" when it has none.
type WheelPublisher interface {
	PublishWheel(ctx context.Context, w pipeline.Wheel) (url string, err error)
}

// PublishBuilt runs before the report stage: the wheels of a built outcome
// are published, and their URLs (or the publish error) go into the outcome's
// metadata, so the manifest and the control-plane report carry them. A
// failed publish does not change the outcome: the wheel was built, and
// `refinery-worker index rebuild` or the next build publishes it.
func PublishBuilt(p WheelPublisher, report pipeline.Stage, log *slog.Logger) pipeline.Stage {
	return func(ctx context.Context, w *pipeline.Work) (string, error) {
		res := w.Result
		redelivered := w.Outcome != nil && w.Outcome.Redelivered
		if res != nil && res.Status == pipeline.StatusBuilt && len(res.Wheels) > 0 && !redelivered {
			publish(ctx, p, res, log)
		}
		return report(ctx, w)
	}
}

func publish(ctx context.Context, p WheelPublisher, res *pipeline.Result, log *slog.Logger) {
	if res.Metadata == nil {
		res.Metadata = map[string]any{}
	}
	urls := make([]string, len(res.Wheels)) // "" where a wheel has no URL
	some := false
	for i, wh := range res.Wheels {
		url, err := p.PublishWheel(ctx, wh)
		if err != nil {
			log.Error("publish wheel", "wheel", wh.File, "err", err)
			res.Metadata[MetaPublishError] = err.Error()
			continue
		}
		urls[i], some = url, some || url != ""
	}
	if urls[0] != "" {
		res.Metadata[MetaWheelURL] = urls[0] // the manifest entry's wheel is the first
	}
	if some {
		res.Metadata[MetaWheelURLs] = urls
	}
}
