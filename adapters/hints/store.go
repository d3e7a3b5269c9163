package hints

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/refinery/refinery-worker/adapters/controlplane"
	"github.com/refinery/refinery-worker/pipeline"
)

// Source fetches the whole hint catalog.
type Source interface {
	Fetch(ctx context.Context) ([]Hint, error)
	String() string
}

// PageLimit is the page size asked of GET /api/hints (its maximum).
const PageLimit = 200

// maxPages bounds the pages one fetch reads (PageLimit·maxPages hints).
const maxPages = 1000

// ControlPlane fetches the catalog from GET /api/hints, every page.
type ControlPlane struct {
	Client *controlplane.Client
	// Query, when set, is sent as q (a server-side filter).
	Query string
}

func (s ControlPlane) String() string { return "control-plane /api/hints" }

// Fetch reads pages until one comes back short (or total is reached).
func (s ControlPlane) Fetch(ctx context.Context) ([]Hint, error) {
	var all []Hint
	for page := 0; page < maxPages; page++ {
		q := url.Values{"limit": {fmt.Sprint(PageLimit)}, "offset": {fmt.Sprint(len(all))}}
		if s.Query != "" {
			q.Set("q", s.Query)
		}
		b, err := s.Client.Send(ctx, controlplane.Request{Method: http.MethodGet, Path: "/api/hints?" + q.Encode()})
		if err != nil {
			return nil, fmt.Errorf("fetch hints at offset %d: %w", len(all), err)
		}
		var p Page
		if err := json.Unmarshal(b, &p); err != nil {
			return nil, fmt.Errorf("decode hints page at offset %d: %w", len(all), err)
		}
		all = append(all, p.Items...)
		if len(p.Items) < PageLimit || p.Total > 0 && len(all) >= p.Total {
			return all, nil
		}
	}
	return nil, fmt.Errorf("fetch hints: more than %d pages", maxPages)
}

// File reads the catalog from a file (HINTS_FILE), JSON or YAML.
type File struct{ Path string }

func (f File) String() string { return "file " + f.Path }

// Fetch reads and parses the file.
func (f File) Fetch(context.Context) ([]Hint, error) {
	b, err := os.ReadFile(f.Path)
	if err != nil {
		return nil, fmt.Errorf("read hints file: %w", err)
	}
	return ParseFile(f.Path, b)
}

// Store serves the last catalog loaded; a failed refresh keeps the last good
// one. It is a handlers.HintMatcher.
type Store struct {
	src  Source
	log  *slog.Logger
	cur  atomic.Pointer[Catalog]
	mu   sync.Mutex
	seen map[string]bool // skipped (id, pattern) already warned about
	// loaded reports the time of the last good load (zero: none yet).
	loaded atomic.Int64
}

// NewStore builds a store of src; Refresh (or Run) loads it.
func NewStore(src Source, log *slog.Logger) *Store {
	return &Store{src: src, log: log, seen: map[string]bool{}}
}

// FirstTime reports whether a bad (id, pattern) is new: each is warned
// about once per process, not on every refresh.
func (s *Store) FirstTime(id, pattern string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := id + "\x00" + pattern
	if s.seen[k] {
		return false
	}
	s.seen[k] = true
	return true
}

// Refresh fetches and compiles the catalog; on error the current one stays.
func (s *Store) Refresh(ctx context.Context) error {
	hs, err := s.src.Fetch(ctx)
	if err != nil {
		return fmt.Errorf("refresh hints from %s: %w", s.src, err)
	}
	c := Compile(hs, s.log, s)
	s.cur.Store(c)
	s.loaded.Store(time.Now().Unix())
	s.log.Info("hint catalog loaded", "source", s.src.String(), "hints", c.Len(), "skipped", len(c.Skipped))
	return nil
}

// Run refreshes every interval until ctx ends, logging failures (the last
// good catalog keeps serving).
func (s *Store) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := s.Refresh(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("hint catalog refresh failed; keeping the last good copy", "err", err)
			}
		}
	}
}

// Catalog is the current catalog (nil before the first good load).
func (s *Store) Catalog() *Catalog { return s.cur.Load() }

// Match is handlers.HintMatcher: the current catalog's matches.
func (s *Store) Match(_ context.Context, job pipeline.Job, log []string) []pipeline.HintMatch {
	return s.cur.Load().Match(JobOf(job), log)
}

// Recipes is the current catalog's recipes of a hint, per package manager
// (handlers.HintRecipes).
func (s *Store) Recipes(id string) (map[string][]string, bool) {
	h, ok := s.cur.Load().Hint(id)
	return h.Recipes, ok
}
