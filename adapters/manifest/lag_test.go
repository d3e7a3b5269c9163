package manifest

import (
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

// waitManifest waits until manifest.json holds n entries (watching its
// directory for the rename of a rewrite), failing after within.
func waitManifest(tb testing.TB, path string, n int, within time.Duration) {
	tb.Helper()
	fsw, err := fsnotify.NewWatcher()
	if err != nil {
		tb.Skipf("no file notifications: %v", err)
	}
	defer fsw.Close()
	if err := fsw.Add(filepath.Dir(path)); err != nil {
		tb.Fatal(err)
	}
	deadline := time.After(within)
	for {
		if count(path) >= n {
			return
		}
		select {
		case <-fsw.Events:
		case err := <-fsw.Errors:
			tb.Fatalf("watch: %v", err)
		case <-deadline:
			tb.Fatalf("manifest.json has %d entries after %s, want %d", count(path), within, n)
		}
	}
}

// count is the number of entries in manifest.json (0 when unreadable).
func count(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	n := 0
	for _, c := range b {
		if c == '\n' {
			n++
		}
	}
	// One entry per line between the brackets: "[\n", entries, "]\n".
	return max(0, n-1)
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
	waitManifest(t, path, 1, time.Minute)
	if got := readEntries(t, path); len(got) != 1 || got[0].Name != "a" {
		t.Errorf("manifest = %+v, want the one entry", got)
	}
}

// BenchmarkIdleManifestLag is the time from Record of an outcome at rest to
// manifest.json showing it (target ≤ 20 ms), with a manifest of 1,000
// entries already written: lag-ms is the median over b.N outcomes,
// lag-max-ms the longest.
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
		waitManifest(b, path, 1001+i, time.Minute)
		lags = append(lags, time.Since(start))
	}
	slices.Sort(lags)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(lags[len(lags)/2]), "lag-ms")
	b.ReportMetric(ms(lags[len(lags)-1]), "lag-max-ms")
}
