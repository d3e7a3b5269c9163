package filequeue

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/refinery/refinery-worker/pipeline"
)

// fixedNow is the clock of most tests.
var fixedNow = time.Unix(1_800_000_000, 0)

func testQueue(t testing.TB, path string, mod ...func(*Options)) *Queue {
	t.Helper()
	opts := Options{Path: path, Owner: "test", Now: func() time.Time { return fixedNow }, ParseBackoff: time.Millisecond}
	for _, m := range mod {
		m(&opts)
	}
	q, err := Open(opts)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { _ = q.Close() })
	return q
}

func writeFile(t testing.TB, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func queuePath(t testing.TB) string {
	return filepath.Join(t.TempDir(), "retry_queue.json")
}

// readItems parses the queue file as the control-plane would.
func readItems(t testing.TB, path string) []json.RawMessage {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var items []json.RawMessage
	if err := json.Unmarshal(data, &items); err != nil {
		t.Fatalf("queue file does not parse: %v\n%s", err, data)
	}
	return items
}

func readFlight(t testing.TB, q *Queue) []entry {
	t.Helper()
	data, err := os.ReadFile(q.flightPath)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	es, err := parseEntries(data)
	if err != nil {
		t.Fatalf("in-flight file: %v\n%s", err, data)
	}
	return es
}

func raws(cs []pipeline.Claimed) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = string(c.Raw)
	}
	return out
}

func compactStrings(t testing.TB, items []json.RawMessage) []string {
	t.Helper()
	out := make([]string, len(items))
	for i, it := range items {
		c, err := compactItem(it)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = string(c)
	}
	return out
}

func claimAll(t testing.TB, q *Queue, max int) []pipeline.Claimed {
	t.Helper()
	cs, err := q.Claim(context.Background(), max)
	if err != nil {
		t.Fatalf("claim: %v", err)
	}
	return cs
}

func settle(t testing.TB, q *Queue, ss ...pipeline.Settlement) {
	t.Helper()
	if err := q.Settle(context.Background(), ss); err != nil {
		t.Fatalf("settle: %v", err)
	}
}

// countHandler counts log records by message.
type countHandler struct {
	mu     sync.Mutex
	counts map[string]int
}

func (h *countHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *countHandler) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *countHandler) WithGroup(string) slog.Handler            { return h }
func (h *countHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.counts == nil {
		h.counts = map[string]int{}
	}
	h.counts[r.Message]++
	return nil
}

func (h *countHandler) count(prefix string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for m, c := range h.counts {
		if strings.HasPrefix(m, prefix) {
			n += c
		}
	}
	return n
}
