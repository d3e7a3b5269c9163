package manifest

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/refinery/refinery-worker/pipeline"
)

// syncLog records the journals fsynced, in order.
type syncLog struct {
	mu    sync.Mutex
	names []string
}

func (l *syncLog) add(name string) {
	l.mu.Lock()
	l.names = append(l.names, filepath.Base(name))
	l.mu.Unlock()
}

func (l *syncLog) get() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.names)
}

// When Sync returns, the journal the entry was appended to has been fsynced
// (by Sync or by the flush that rotated it away); a second Sync with nothing
// new appended fsyncs nothing.
func TestSyncReturnsOnceTheEntrysJournalIsSynced(t *testing.T) {
	s, err := Open(Options{Path: filepath.Join(t.TempDir(), "manifest.json"), FlushInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var log syncLog
	s.syncHook = func(f *os.File) error {
		err := f.Sync()
		log.add(f.Name())
		return err
	}
	first := filepath.Base(s.journal.Name())
	if err := s.Record(context.Background(), outcome("c1", "a", pipeline.StatusBuilt)); err != nil {
		t.Fatal(err)
	}
	if err := s.Sync(); err != nil {
		t.Fatal(err)
	}
	if got := log.get(); !slices.Contains(got, first) {
		t.Fatalf("journals synced when Sync returned: %q, want %s (it holds the entry)", got, first)
	}
	if err := s.Flush(); err != nil { // let the flusher's own flush end
		t.Fatal(err)
	}
	before := log.get()
	if err := s.Sync(); err != nil {
		t.Fatal(err)
	}
	if got := log.get(); len(got) != len(before) {
		t.Errorf("Sync with nothing appended fsynced %q", got[len(before):])
	}
}

// A Sync that starts while a flush is syncing the journal it rotated away
// from (the one holding the entry) waits for that fsync; it does not settle
// for an fsync of the new, empty journal, nor add one.
func TestSyncWaitsForTheFlushOfTheRotatedJournal(t *testing.T) {
	s, err := Open(Options{Path: filepath.Join(t.TempDir(), "manifest.json"), FlushInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	first := s.journal.Name()
	entered, release := make(chan struct{}), make(chan struct{})
	var releaseOnce sync.Once
	unblock := func() { releaseOnce.Do(func() { close(release) }) }
	defer unblock() // before Close, which waits for the flusher
	waiting := make(chan struct{}, 8)
	var log syncLog
	s.syncHook = func(f *os.File) error {
		if f.Name() == first {
			close(entered)
			<-release
		}
		log.add(f.Name())
		return f.Sync()
	}
	s.awaitFlush = func(synced <-chan struct{}) {
		select {
		case waiting <- struct{}{}:
		default:
		}
		<-synced
	}
	// At rest the flusher flushes at once: it rotates to a new journal and
	// blocks in the fsync of the first.
	if err := s.Record(context.Background(), outcome("c1", "a", pipeline.StatusBuilt)); err != nil {
		t.Fatal(err)
	}
	<-entered
	res := make(chan error, 1)
	go func() { res <- s.Sync() }()
	select {
	case <-waiting:
	case err := <-res:
		t.Fatalf("Sync returned (%v) while the journal holding the entry was not yet synced", err)
	}
	unblock()
	if err := <-res; err != nil {
		t.Fatalf("Sync after the flush's fsync = %v", err)
	}
	// The entry went to the first journal: the new one needs no fsync.
	if got, want := log.get(), []string{filepath.Base(first)}; !slices.Equal(got, want) {
		t.Errorf("journals synced %q, want %q", got, want)
	}
}

// Sync on a closed store is an error, not a silent success.
func TestSyncAfterCloseFails(t *testing.T) {
	s, err := Open(Options{Path: filepath.Join(t.TempDir(), "manifest.json")})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	s.jwrites++ // as if an entry had been appended and not synced
	s.mu.Unlock()
	if err := s.Sync(); err == nil {
		t.Fatal("Sync after Close = nil, want an error")
	}
}

// Rejections.Sync fsyncs what was appended and fails once the file is closed.
func TestRejectionsSync(t *testing.T) {
	r, err := OpenRejections(filepath.Join(t.TempDir(), "rejected.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Sync(); err != nil {
		t.Fatalf("Sync with nothing appended = %v", err)
	}
	if err := r.RecordRejection(context.Background(), &pipeline.Work{Claim: "c1", Raw: []byte("{")}); err != nil {
		t.Fatal(err)
	}
	if err := r.Sync(); err != nil {
		t.Fatalf("Sync = %v", err)
	}
	if err := r.RecordRejection(context.Background(), &pipeline.Work{Claim: "c2", Raw: []byte("{")}); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := r.Sync(); err == nil {
		t.Fatal("Sync of an unsynced rejection after Close = nil, want an error")
	}
}
