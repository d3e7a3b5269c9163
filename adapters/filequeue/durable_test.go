package filequeue

import (
	"context"
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
	writeFile(t, path, `[{"package":"a","version":"1"},{"package":"b","version":"1"}]`)
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
	writeFile(t, path, `[{"package":"a","version":"1"},{"package":"b","version":"1"}]`)
	q := testQueue(t, path)
	seen := map[string]bool{}
	q.dirSynced = func(dir string) { seen[dir] = true }
	cs, err := q.Claim(ctx, 2)
	if err != nil || len(cs) != 2 {
		t.Fatalf("claim: %v, %d claimed", err, len(cs))
	}
	settle(t, q, pipeline.Settlement{Claim: cs[0].Claim, Kind: pipeline.Release},
		pipeline.Settlement{Claim: cs[1].Claim, Kind: pipeline.Requeue, Item: []byte(`{"package":"b","version":"1"}`)})
	for _, dir := range []string{filepath.Dir(path), filepath.Dir(q.reservePath(q.owner))} {
		if !seen[dir] {
			t.Errorf("%s was never fsynced (synced: %v)", dir, seen)
		}
	}
}
