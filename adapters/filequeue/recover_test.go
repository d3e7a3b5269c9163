package filequeue

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/refinery/refinery-worker/pipeline"
)

func TestCloseKeepsHoldsRecoverable(t *testing.T) {
	path := queuePath(t)
	writeFile(t, path, `[{"package":"a"},{"package":"b"}]`)
	q1 := testQueue(t, path)
	held := claimAll(t, q1, 2)
	if err := q1.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(q1.ownerPath(q1.Owner())); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("owner lock file left after Close: %v", err)
	}
	if _, err := q1.Claim(context.Background(), 1); !errors.Is(err, ErrClosed) {
		t.Errorf("claim after close: %v", err)
	}
	if es := readFlight(t, q1); len(es) != 2 {
		t.Fatalf("Close dropped holds: %+v", es)
	}
	q2 := testQueue(t, path)
	got, err := q2.Recover(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(raws(got), raws(held)) || got[0].Claim != held[0].Claim || !got[1].ClaimedAt.Equal(held[1].ClaimedAt) {
		t.Errorf("recovered %+v, want %+v", got, held)
	}
	settle(t, q2, pipeline.Settlement{Claim: got[0].Claim}, pipeline.Settlement{Claim: got[1].Claim})
	if es := readFlight(t, q2); len(es) != 0 {
		t.Errorf("in-flight after settling recovered claims: %+v", es)
	}
}

// A dead owner's Claim crashed before its queue write, and a live worker has
// since claimed the queued copy: the dead entry is a duplicate, dropped.
func TestRecoverDropsCopyHeldByLiveOwner(t *testing.T) {
	path := queuePath(t)
	const a, b = `{"package":"a"}`, `{"package":"b"}`
	writeFile(t, path, "[\n  "+a+",\n  "+b+"\n]")
	writeFile(t, path+".inflight.json", string(encodeEntries([]entry{
		{Claim: "dead-a", Owner: "dead-2", ClaimedAt: fixedNow.Add(-time.Second), Item: []byte(a)},
		{Claim: "dead-b", Owner: "dead-2", ClaimedAt: fixedNow.Add(time.Second), Item: []byte(b)},
	})))
	live := testQueue(t, path)
	cs := claimAll(t, live, 2) // a and b, claimed at fixedNow
	q := testQueue(t, path)
	got, err := q.Recover(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// a: held by live, claimed after the dead claim → dropped. b: the live
	// claim is older than the dead one, so it is not evidence → recovered.
	if len(got) != 1 || got[0].Claim != "dead-b" {
		t.Errorf("recovered %+v, want only dead-b", got)
	}
	es := readFlight(t, q)
	if len(es) != 3 || es[0].Claim != "dead-b" || es[0].Owner != q.Owner() || es[1].Claim != cs[0].Claim || es[2].Claim != cs[1].Claim {
		t.Errorf("in-flight: %+v", es)
	}
}

func TestRecoverSweepsStaleOwnerFiles(t *testing.T) {
	path := queuePath(t)
	q := testQueue(t, path)
	other := testQueue(t, path)
	stale := filepath.Join(q.ownersDir, "gone-1-abcd.lock")
	writeFile(t, stale, "")
	oldTmp := filepath.Join(q.dir, ".retry_queue.json.tmp-123")
	writeFile(t, oldTmp, "[")
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(oldTmp, old, old); err != nil {
		t.Fatal(err)
	}
	newTmp := filepath.Join(q.dir, ".retry_queue.json.tmp-456")
	writeFile(t, newTmp, "[")
	if _, err := q.Recover(context.Background()); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]bool{
		stale: false, oldTmp: false, newTmp: true,
		q.ownerPath(q.Owner()): true, other.ownerPath(other.Owner()): true,
	} {
		if _, err := os.Stat(p); (err == nil) != want {
			t.Errorf("%s exists = %v, want %v", filepath.Base(p), err == nil, want)
		}
	}
}

func TestInflightCorruptIsAnError(t *testing.T) {
	path := queuePath(t)
	writeFile(t, path, `[{"package":"a"}]`)
	writeFile(t, path+".inflight.json", `[{"claim":"c"`)
	q := testQueue(t, path)
	if _, err := q.Claim(context.Background(), 1); err == nil {
		t.Fatal("claim with a corrupt in-flight file succeeded")
	}
	if _, err := q.Recover(context.Background()); err == nil {
		t.Fatal("recover with a corrupt in-flight file succeeded")
	}
	if err := q.Ready(context.Background()); err == nil {
		t.Fatal("ready with a corrupt in-flight file")
	}
	if data, _ := os.ReadFile(path + ".inflight.json"); string(data) != `[{"claim":"c"` {
		t.Errorf("corrupt in-flight file rewritten: %s", data)
	}
}

func TestOwnerLockFileRecreated(t *testing.T) {
	path := queuePath(t)
	writeFile(t, path, `[{"package":"a"},{"package":"b"}]`)
	q := testQueue(t, path)
	held := claimAll(t, q, 1)
	if err := os.RemoveAll(q.ownersDir); err != nil { // a /tmp cleaner
		t.Fatal(err)
	}
	claimAll(t, q, 1) // any operation re-creates the lock file
	other := testQueue(t, path)
	if got, err := other.Recover(context.Background()); err != nil || len(got) != 0 {
		t.Fatalf("a live owner's holds were taken: %d, %v", len(got), err)
	}
	settle(t, q, pipeline.Settlement{Claim: held[0].Claim})
}
