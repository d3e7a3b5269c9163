package outbox_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/refinery/refinery-worker/adapters/controlplane"
	"github.com/refinery/refinery-worker/adapters/controlplane/cpfake"
	"github.com/refinery/refinery-worker/adapters/outbox"
)

func TestTwoWorkersShareADirAndAdoptTheDead(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	a, b := openBox(t, dir, nil), openBox(t, dir, nil)
	if err := a.Add(ctx, outbox.Record{Key: "a1", Group: "g", Path: "/api/history", Body: []byte("{}")}); err != nil {
		t.Fatal(err)
	}
	if err := b.Add(ctx, outbox.Record{Key: "b1", Group: "g", Path: "/api/history", Body: []byte("{}")},
		outbox.Record{Key: "b2", Group: "g", Path: "/api/history", Body: []byte("{}")}); err != nil {
		t.Fatal(err)
	}
	// A third worker starting while both live adopts nothing.
	c := openBox(t, dir, nil)
	if c.Backlog() != 0 {
		t.Fatalf("live records adopted: %d", c.Backlog())
	}
	_ = a.Close()
	_ = b.Close()
	d := openBox(t, dir, nil)
	defer d.Close()
	if d.Backlog() != 3 {
		t.Fatalf("adopted %d records, want 3", d.Backlog())
	}
	_ = c.Close()
}

// failKey fails every delivery of one key while armed.
type failKey struct {
	next  outbox.Sender
	key   string
	armed atomic.Bool
	seen  atomic.Int64
}

func (f *failKey) Send(ctx context.Context, req controlplane.Request) ([]byte, error) {
	if f.armed.Load() && req.IdempotencyKey == f.key {
		f.seen.Add(1)
		return nil, &controlplane.HTTPError{Status: 503, Body: "down"}
	}
	return f.next.Send(ctx, req)
}

func TestPartlyDeliveredBatchAfterRestart(t *testing.T) {
	fake := cpfake.New(cpfake.Options{})
	ts, err := cpfake.Listen(fake, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ts.Close()
	dir := t.TempDir()
	s := &failKey{next: newClient(t, ts.URL), key: "k2"}
	s.armed.Store(true)
	box := openBox(t, dir, s)
	var recs []outbox.Record
	for i := 1; i <= 3; i++ {
		recs = append(recs, outbox.Record{Key: fmt.Sprint("k", i), Group: "g", Path: "/api/history",
			Body: fmt.Appendf(nil, `{"name":"a","version":"1","status":"built","detail":"%d"}`, i)})
	}
	if err := box.Add(context.Background(), recs...); err != nil {
		t.Fatal(err)
	}
	stop := run(box)
	waitFor(t, "k2 to fail", 10*time.Second, func() bool { return s.seen.Load() >= 2 })
	stop()
	_ = box.Close()
	if box.Backlog() != 2 {
		t.Fatalf("backlog = %d, want 2", box.Backlog())
	}
	s.armed.Store(false)
	box = openBox(t, dir, s)
	defer box.Close()
	if box.Backlog() != 3 {
		t.Fatalf("after restart backlog = %d, want the whole batch (3)", box.Backlog())
	}
	stop = run(box)
	defer stop()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := box.WaitEmpty(ctx); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range fake.Events() {
		got = append(got, e.Detail)
	}
	if strings.Join(got, ",") != "1,2,3" || fake.Duplicates() != 1 {
		t.Fatalf("events %v, duplicates %d; want 1,2,3 and 1", got, fake.Duplicates())
	}
}

func TestRunAdoptsRecordsOfAStoppedWorker(t *testing.T) {
	fake := cpfake.New(cpfake.Options{})
	ts, err := cpfake.Listen(fake, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ts.Close()
	dir := t.TempDir()
	live, err := outbox.Open(outbox.Options{Dir: dir, Sender: newClient(t, ts.URL), AdoptInterval: 5 * time.Millisecond, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	stop := run(live)
	defer stop()
	// Another worker (a finished drain) leaves a report behind.
	other := openBox(t, dir, nil)
	if err := other.Add(context.Background(), outbox.Record{Key: "x", Group: "g", Path: "/api/history",
		Body: []byte(`{"name":"a","version":"1","status":"built"}`)}); err != nil {
		t.Fatal(err)
	}
	_ = other.Close()
	waitFor(t, "the live worker to deliver the stopped one's report", 10*time.Second, func() bool { return len(fake.Events()) == 1 })
}

func TestCorruptBatchIsSetAside(t *testing.T) {
	dir := t.TempDir()
	box := openBox(t, dir, nil)
	if err := box.Add(context.Background(), outbox.Record{Key: "x", Group: "g", Path: "/api/history", Body: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	_ = box.Close()
	files, _ := filepath.Glob(filepath.Join(dir, "instances", "*", "pending", "*.rec"))
	if len(files) != 1 {
		t.Fatalf("batch files: %v", files)
	}
	if err := os.WriteFile(files[0], []byte("{not a header\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	box = openBox(t, dir, nil) // must start
	defer box.Close()
	if box.Backlog() != 0 {
		t.Fatalf("backlog %d", box.Backlog())
	}
	if moved, _ := filepath.Glob(filepath.Join(dir, "corrupt", "*.rec")); len(moved) != 1 {
		t.Fatalf("corrupt batch not kept aside: %v", moved)
	}
}
