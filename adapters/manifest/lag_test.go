package manifest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/refinery/refinery-worker/pipeline"
)

// manifestWatch tells when manifest.json comes to hold a number of entries,
// watching its directory for the rename of a rewrite. One watch serves many
// waits, so that setting a watch up and tearing it down (milliseconds on
// some machines) stays out of what a wait measures.
type manifestWatch struct {
	tb   testing.TB
	path string
	fsw  *fsnotify.Watcher
}

func watchManifest(tb testing.TB, path string) *manifestWatch {
	tb.Helper()
	fsw, err := fsnotify.NewWatcher()
	if err != nil {
		tb.Skipf("no file notifications: %v", err)
	}
	tb.Cleanup(func() { _ = fsw.Close() })
	if err := fsw.Add(filepath.Dir(path)); err != nil {
		tb.Fatal(err)
	}
	return &manifestWatch{tb: tb, path: path, fsw: fsw}
}

// until waits until manifest.json holds at least n entries and returns when
// the read that first found them began, failing after within.
func (w *manifestWatch) until(n int, within time.Duration) time.Time {
	w.tb.Helper()
	deadline := time.After(within)
	for {
		seen := time.Now()
		if count(w.path) >= n {
			return seen
		}
		w.nextRewrite(deadline, n)
	}
}

// nextRewrite waits for an event on manifest.json itself (the rename of a
// rewrite onto it), passing over those of the journal and temporary files.
func (w *manifestWatch) nextRewrite(deadline <-chan time.Time, n int) {
	w.tb.Helper()
	for {
		select {
		case ev := <-w.fsw.Events:
			if filepath.Clean(ev.Name) == filepath.Clean(w.path) {
				return
			}
		case err := <-w.fsw.Errors:
			w.tb.Fatalf("watch: %v", err)
		case <-deadline:
			w.tb.Fatalf("manifest.json has %d entries, want %d", count(w.path), n)
		}
	}
}

// count is the number of entries in manifest.json (0 when it is missing):
// the lines that open an object in the layout the store writes ("[", then
// one entry per line indented by two spaces). It does not parse the file: a
// parse of a large manifest would hold the wait up and take a core from the
// flusher it measures.
func count(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	return bytes.Count(b, []byte("\n  {"))
}

// count agrees with the entries manifest.json holds, from none to several.
// (Until this test it counted lines and was one over, so a wait for n
// entries ended at n-1: BenchmarkIdleManifestLag measured no flush.)
func TestCountIsTheNumberOfEntries(t *testing.T) {
	path := filepath.Join(t.TempDir(), "manifest.json")
	if got := count(path); got != 0 {
		t.Fatalf("no manifest.json: count = %d, want 0", got)
	}
	s, err := Open(Options{Path: path, FlushInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for want := 1; want <= 3; want++ {
		if err := s.Record(context.Background(), outcome(fmt.Sprint("c", want), fmt.Sprint("p", want), pipeline.StatusBuilt)); err != nil {
			t.Fatal(err)
		}
		if err := s.Flush(); err != nil {
			t.Fatal(err)
		}
		if got, parsed := count(path), len(readEntries(t, path)); got != want || parsed != want {
			t.Errorf("after %d outcomes: count = %d, entries parsed = %d", want, got, parsed)
		}
	}
}

// An outcome recorded at rest is flushed at once, not after FlushInterval:
// with an interval of an hour, it still shows up.
func TestOutcomeAtRestIsFlushedAtOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "manifest.json")
	s, err := Open(Options{Path: path, FlushInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Record(context.Background(), outcome("c1", "a", pipeline.StatusBuilt)); err != nil {
		t.Fatal(err)
	}
	watchManifest(t, path).until(1, time.Minute)
	if got := readEntries(t, path); len(got) != 1 || got[0].Name != "a" {
		t.Errorf("manifest = %+v, want the one entry", got)
	}
}

// BenchmarkIdleManifestLag is the time from Record of an outcome at rest to
// manifest.json showing it (target ≤ 20 ms), with a manifest of 1,000
// entries already written: lag-ms is the median over b.N outcomes,
// lag-max-ms the longest. Run it with TMPDIR on the disk manifest.json
// would live on: the lag is mostly the journal's and the rewrite's fsyncs.
func BenchmarkIdleManifestLag(b *testing.B) {
	path := filepath.Join(b.TempDir(), "manifest.json")
	s, err := Open(Options{Path: path})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	for i := range 1000 {
		if err := s.Record(context.Background(), outcome(fmt.Sprint("pre", i), fmt.Sprint("p", i), pipeline.StatusBuilt)); err != nil {
			b.Fatal(err)
		}
	}
	if err := s.Flush(); err != nil {
		b.Fatal(err)
	}
	// At rest: the 1,000 rewrites above spent the flusher's CPU budget, which
	// holds outcomes back (coalescing) until they age out of its window.
	time.Sleep(flushBudgetWindow)
	w := watchManifest(b, path)
	lags := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		time.Sleep(250 * time.Millisecond) // at rest: past FlushInterval since the last flush
		b.StartTimer()
		start := time.Now()
		if err := s.Record(context.Background(), outcome(fmt.Sprint("c", i), "a", pipeline.StatusBuilt)); err != nil {
			b.Fatal(err)
		}
		lags = append(lags, w.until(1001+i, time.Minute).Sub(start))
	}
	slices.Sort(lags)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(lags[len(lags)/2]), "lag-ms")
	b.ReportMetric(ms(lags[len(lags)-1]), "lag-max-ms")
}
