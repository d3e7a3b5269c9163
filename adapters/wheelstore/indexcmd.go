package wheelstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
)

// ErrMismatch is Verify's answer when the index and its files (or the
// artifact store) disagree.
var ErrMismatch = errors.New("index verify found mismatches")

// Rebuild regenerates the index from its wheels, publishes what the
// manifest lists that the index lacks and, with an artifact store, uploads
// every wheel and waits for the uploads; it reports on out.
func (ix *Indexing) Rebuild(ctx context.Context, outputDir string, out io.Writer) error {
	rep, err := ix.index.Rebuild(ctx)
	if err != nil {
		return err
	}
	for _, s := range rep.Skipped {
		fmt.Fprintln(out, "skipped:", s)
	}
	added, problems, err := ix.index.PublishManifest(ctx, outputDir)
	if err != nil {
		return err
	}
	for _, p := range problems {
		fmt.Fprintln(out, "not published:", p)
	}
	st, err := ix.index.Stats()
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "index rebuilt: %d projects, %d wheels, %d bytes (%d published from the manifest)\n",
		st.Projects, st.Wheels, st.Bytes, added)
	if ix.uploads == nil {
		return nil
	}
	queued, err := ix.uploads.EnqueueAll(ctx, ix.index)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "uploading %d wheels to the artifact store\n", queued)
	ix.log = slog.New(slog.DiscardHandler) // the command reports on out
	ix.Run(ctx)
	if err := ix.uploads.WaitEmpty(ctx); err != nil {
		return fmt.Errorf("uploads not finished (they resume at the next start): %w", err)
	}
	fmt.Fprintln(out, "uploads done")
	return nil
}

// Verify checks every file of the index against its hash and, with an
// artifact store, the store's copies; mismatches are listed on out and
// make it return ErrMismatch.
func (ix *Indexing) Verify(ctx context.Context, out io.Writer) error {
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
		fmt.Fprintln(out, "MISMATCH:", p)
	}
	fmt.Fprintf(out, "checked %d projects, %d files: %d problems\n", rep.Projects, rep.Files, len(rep.Problems))
	if !rep.OK() {
		return ErrMismatch
	}
	return nil
}
