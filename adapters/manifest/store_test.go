package manifest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/refinery/refinery-worker/pipeline"
)

func outcome(claim, name string, st pipeline.Status) pipeline.Outcome {
	return pipeline.Outcome{Entry: pipeline.ManifestEntry{Name: name, Version: "1.0", Status: st,
		Metadata: map[string]any{pipeline.MetaClaim: claim}}}
}

func readEntries(t *testing.T, path string) []pipeline.ManifestEntry {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []pipeline.ManifestEntry
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("manifest.json does not parse: %v\n%s", err, b)
	}
	return out
}

func TestRecordFlushReopenKeepsEarlierEntries(t *testing.T) {
	path := filepath.Join(t.TempDir(), "manifest.json")
	// An earlier drain (or another tool) wrote a pretty-printed manifest.
	if err := os.WriteFile(path, []byte(`[
    {"name": "old", "version": "0.1", "status": "built", "wheel": "old-0.1-py3-none-any.whl"}
]`), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := Open(Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i := range 3 {
		if err := s.Record(ctx, outcome(fmt.Sprint("c", i), fmt.Sprint("pkg", i), pipeline.StatusSkipped)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Record(ctx, outcome("c1", "pkg1", pipeline.StatusSkipped)); err != nil {
		t.Fatal(err)
	}
	if st, ok := s.Recorded("c2"); !ok || st != pipeline.StatusSkipped {
		t.Fatalf("Recorded(c2) = %v %v", st, ok)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	got := readEntries(t, path)
	want := []string{"old", "pkg0", "pkg1", "pkg2"}
	if len(got) != len(want) {
		t.Fatalf("entries = %+v, want names %v", got, want)
	}
	for i, e := range got {
		if e.Name != want[i] {
			t.Errorf("entry %d = %s, want %s", i, e.Name, want[i])
		}
	}
	if got[0].Wheel != "old-0.1-py3-none-any.whl" {
		t.Errorf("earlier entry lost its fields: %+v", got[0])
	}
	// A second store appends after the first.
	s2, err := Open(Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s2.Recorded("c0"); !ok {
		t.Error("reopened store does not know claim c0")
	}
	if err := s2.Record(ctx, outcome("c9", "pkg9", pipeline.StatusBuilt)); err != nil {
		t.Fatal(err)
	}
	if err := s2.Close(); err != nil {
		t.Fatal(err)
	}
	if n := len(readEntries(t, path)); n != 5 {
		t.Fatalf("after second store: %d entries, want 5", n)
	}
}

// A process that dies leaves its journal; the next Open folds it in, once.
func TestJournalOfDeadProcessIsFoldedIn(t *testing.T) {
	path := filepath.Join(t.TempDir(), "manifest.json")
	s, err := Open(Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i := range 5 {
		if err := s.Record(ctx, outcome(fmt.Sprint("c", i), fmt.Sprint("pkg", i), pipeline.StatusFailed)); err != nil {
			t.Fatal(err)
		}
	}
	// "Die": stop the flusher without flushing, drop the journal's lock.
	close(s.done)
	<-s.stopped
	s.journal.Close()

	s2, err := Open(Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if _, ok := s2.Recorded(fmt.Sprint("c", i)); !ok {
			t.Errorf("claim c%d not recognised after recovery", i)
		}
	}
	if err := s2.Close(); err != nil {
		t.Fatal(err)
	}
	if n := len(readEntries(t, path)); n != 5 {
		t.Fatalf("%d entries after recovery, want 5", n)
	}
	left, _ := filepath.Glob(filepath.Join(filepath.Dir(path), journalPrefix+"*"))
	if len(left) != 0 {
		t.Errorf("journals left behind: %v", left)
	}
}

// Two stores (two worker processes) sharing OUTPUT_DIR lose nothing.
func TestConcurrentStoresShareManifest(t *testing.T) {
	path := filepath.Join(t.TempDir(), "manifest.json")
	const per = 300
	var wg sync.WaitGroup
	for w := range 2 {
		s, err := Open(Options{Path: path})
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range per {
				if err := s.Record(context.Background(), outcome(fmt.Sprintf("w%d-%d", w, i), "p", pipeline.StatusSkipped)); err != nil {
					t.Error(err)
				}
				if i%50 == 0 {
					if err := s.Flush(); err != nil {
						t.Error(err)
					}
				}
			}
			if err := s.Close(); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	got := readEntries(t, path)
	seen := map[string]int{}
	for _, e := range got {
		seen[e.Metadata[pipeline.MetaClaim].(string)]++
	}
	if len(got) != 2*per || len(seen) != 2*per {
		t.Fatalf("%d entries, %d distinct claims; want %d", len(got), len(seen), 2*per)
	}
}

func TestUnreadableManifestIsNotOverwritten(t *testing.T) {
	path := filepath.Join(t.TempDir(), "manifest.json")
	if err := os.WriteFile(path, []byte(`[{"name": "x"`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(Options{Path: path}); err == nil {
		t.Fatal("Open accepted a manifest that does not parse")
	}
	b, _ := os.ReadFile(path)
	if string(b) != `[{"name": "x"` {
		t.Fatalf("manifest was changed: %q", b)
	}
}

// An entry another worker journaled, learned while that worker lived, is
// still folded into manifest.json when the worker dies (Learn must not make
// it look like a duplicate then).
func TestLearnedEntryIsFoldedWhenItsWorkerDies(t *testing.T) {
	path := filepath.Join(t.TempDir(), "manifest.json")
	a, err := Open(Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Open(Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Record(context.Background(), outcome("x", "pkg-x", pipeline.StatusBuilt)); err != nil {
		t.Fatal(err)
	}
	if err := b.Learn(); err != nil {
		t.Fatal(err)
	}
	if e, ok := b.Entry("x"); !ok || e.Name != "pkg-x" {
		t.Fatalf("b does not know what a recorded: %+v %v", e, ok)
	}
	// a dies without flushing: its journal stays, unlocked.
	close(a.done)
	<-a.stopped
	a.journal.Close()
	if _, err := b.Refresh(); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	got := readEntries(t, path)
	if len(got) != 1 || got[0].Name != "pkg-x" {
		t.Fatalf("manifest = %+v, want the dead worker's entry", got)
	}
}
