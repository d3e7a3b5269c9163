package filequeue

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/refinery/refinery-worker/pipeline"
)

// A reserve change is durable in the order the crash recovery relies on,
// also across a power loss (where fsyncs, not the page cache, decide): the
// reserve naming the move temp is renamed into place in the owners dir, and
// that directory is fsynced, before the temp is renamed over the queue.
// Without the owners dir's fsync the queue's rename could reach the disk
// first, and the items it moved out would be in neither file.
func TestReserveRenameIsDurableBeforeTheQueueRename(t *testing.T) {
	ctx := context.Background()
	path := queuePath(t)
	numberedQueue(t, path, 100) // long enough to be claimed through the reserve
	q := testQueue(t, path)
	var synced, beforeQueueRename []string
	steps := 0
	q.dirSynced = func(dir string) { synced = append(synced, dir) }
	q.stepHook = func(step string) {
		switch step {
		case "temp": // the move temp is written; the reserve is next
			synced = nil
		case "before": // the reserve is written; the queue's rename is next
			beforeQueueRename = slices.Clone(synced)
			steps++
		}
	}
	cs, err := q.Claim(ctx, 1)
	if err != nil || len(cs) != 1 {
		t.Fatalf("claim: %v, %d claimed", err, len(cs))
	}
	if steps == 0 {
		t.Fatal("the claim wrote no reserve: nothing was checked")
	}
	owners := filepath.Dir(q.reservePath(q.owner))
	if !slices.Contains(beforeQueueRename, owners) {
		t.Errorf("directories fsynced between the reserve's write and the queue's rename: %q; want the owners dir %s",
			beforeQueueRename, owners)
	}
	settle(t, q, pipeline.Settlement{Claim: cs[0].Claim, Kind: pipeline.Release})
}

// Every rename the queue makes is followed by an fsync of the directory it
// happened in (the queue's, the in-flight file's, the reserve's).
func TestEveryRenamedFilesDirIsSynced(t *testing.T) {
	ctx := context.Background()
	path := queuePath(t)
	numberedQueue(t, path, 100)
	q := testQueue(t, path)
	seen := map[string]bool{}
	q.dirSynced = func(dir string) { seen[dir] = true }
	cs, err := q.Claim(ctx, 2)
	if err != nil || len(cs) != 2 {
		t.Fatalf("claim: %v, %d claimed", err, len(cs))
	}
	settle(t, q, pipeline.Settlement{Claim: cs[0].Claim, Kind: pipeline.Release},
		pipeline.Settlement{Claim: cs[1].Claim, Kind: pipeline.Requeue, Item: []byte(`{"package":"p-1"}`)})
	for _, dir := range []string{filepath.Dir(path), filepath.Dir(q.reservePath(q.owner))} {
		if !seen[dir] {
			t.Errorf("%s was never fsynced (synced: %v)", dir, seen)
		}
	}
}

// A claim from a short queue with an empty reserve skips the reserve: two
// directory fsyncs (the in-flight file's rename, the queue's) instead of
// four, no reserve file, and the items in queue order, due ones only.
func TestShortQueueClaimSkipsTheReserve(t *testing.T) {
	ctx := context.Background()
	path := queuePath(t)
	writeFile(t, path, `[{"package":"later","not_before":4102444800},{"package":"a"},{"package":"b"},{"package":"c"}]`)
	q := testQueue(t, path)
	dirSyncs := 0
	var queueTempAtFirstSync []string // the queue's temp, written beside the in-flight one
	q.dirSynced = func(dir string) {
		if dirSyncs++; dirSyncs == 1 {
			queueTempAtFirstSync, _ = filepath.Glob(filepath.Join(dir, tempPrefix(path)+"*"))
		}
	}
	cs, err := q.Claim(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(queueTempAtFirstSync) != 1 {
		t.Errorf("queue temps when the in-flight rename was synced: %q, want one (both temps are written before either rename)", queueTempAtFirstSync)
	}
	if got := raws(cs); !slices.Equal(got, []string{`{"package":"a"}`, `{"package":"b"}`}) {
		t.Errorf("claimed %v, want a and b", got)
	}
	if dirSyncs != 2 {
		t.Errorf("%d directory fsyncs for a claim from a short queue, want 2 (in-flight, queue)", dirSyncs)
	}
	if _, err := os.Stat(q.reservePath(q.owner)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a reserve file exists after a direct claim: %v", err)
	}
	if got := compactStrings(t, readItems(t, path)); !slices.Equal(got, []string{`{"package":"later","not_before":4102444800}`, `{"package":"c"}`}) {
		t.Errorf("queue after the claim: %v", got)
	}
	if got := len(readFlight(t, q)); got != 2 {
		t.Errorf("in-flight holds %d entries, want 2", got)
	}
}
