package main

import (
	"context"
	"io"
	"log/slog"

	"github.com/refinery/refinery-worker/adapters/wheelstore"
	"github.com/refinery/refinery-worker/internal/cli"
)

// openIndexing maps the configuration onto the worker's wheel index.
func openIndexing(cfg Config, log *slog.Logger) (*wheelstore.Indexing, error) {
	return wheelstore.OpenIndexing(wheelstore.IndexingOptions{OutputDir: cfg.OutputDir, CacheDir: cfg.CacheDir,
		PublicURL: cfg.PublicURL, Logger: log, Store: wheelstore.StoreConfig{URL: cfg.ArtifactStoreURL,
			AccessKey: cfg.ArtifactStoreAccessKey, SecretKey: cfg.ArtifactStoreSecretKey, Region: cfg.ArtifactStoreRegion}})
}

// indexCommand is `refinery-worker index rebuild|verify`.
func indexCommand(ctx context.Context, cfg Config, log *slog.Logger, args []string, stdout io.Writer) error {
	if len(args) != 1 || (args[0] != "rebuild" && args[0] != "verify") {
		return cli.Usagef("usage: refinery-worker index rebuild|verify")
	}
	ix, err := openIndexing(cfg, log)
	if err != nil {
		return err
	}
	defer ix.Close()
	if args[0] == "rebuild" {
		return ix.Rebuild(ctx, cfg.OutputDir, stdout)
	}
	return ix.Verify(ctx, stdout)
}
