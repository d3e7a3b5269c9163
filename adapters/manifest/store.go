// Package manifest keeps OUTPUT_DIR/manifest.json, the local record of every
// outcome (docs/control-plane.md), fast enough for thousands of outcomes a
// second without ever leaving the file half-written.
//
// Record appends the entry to a journal (one write(2), so it survives a
// kill -9 the moment Record returns; Sync makes it survive a power loss,
// which the worker waits for before it settles the item), and a background
// flusher folds journaled entries into manifest.json by writing a temporary
// file and renaming it over the old one. The rewrite copies the old file's
// bytes (no re-encoding) and appends the new entries, and it runs at most
// every FlushInterval (at once for an outcome recorded at rest), and further
// apart as the copy's CPU cost grows, so the cost per entry stays small as
// the manifest grows. At open, journals left by a crash are folded in;
// entries are keyed by their intake claim, so a replayed journal never
// duplicates an entry.
//
// Several worker processes may share one OUTPUT_DIR: every rewrite happens
// under flock on .manifest.lock and appends to the file as it is on disk at
// that moment; each process journals to its own file, which it keeps
// flock'ed while alive, so a journal whose lock can be taken belongs to a
// dead process and is folded in by whoever notices (Open, Refresh).
package manifest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/refinery/refinery-worker/pipeline"
)

// Options configure a Store.
type Options struct {
	// Path of manifest.json. Required.
	Path string
	// FlushInterval is the least time between two rewrites of manifest.json
	// under load. Default (and any value ≤ 0) 200ms. Once the rewrites of
	// the last 2s took more than 1% of a core (a large manifest under load;
	// the creation of a rewrite's files is not counted, it does not grow),
	// the flusher waits two hundred times the CPU the last rewrite took (at
	// most 5s), so rewriting stays at ~0.5-1% of a core. An outcome recorded
	// at rest (no rewrite within that time) is flushed at once.
	FlushInterval time.Duration
	// Logger; default slog.Default().
	Logger *slog.Logger
}

// Store records outcomes in manifest.json.
type Store struct {
	opts Options
	log  *slog.Logger

	mu      sync.Mutex
	journal *os.File
	jseq    int
	jsize   int64    // bytes in journal
	jcut    bool     // journal ends in a cut line
	jid     string   // this process's journal name part
	opened  bool     // Refresh has read manifest.json once
	readOff int64    // how far Learn has read manifest.json
	pending [][]byte // encoded entries journaled, not yet in manifest.json
	claims  map[string]pipeline.Status
	// recent keeps whole entries of the claims most likely to be redelivered
	// after a crash (folded-in journals, the tail of manifest.json), so their
	// outcome can be reported again without a rebuild.
	recent map[string]json.RawMessage
	// learned holds entries other live workers journaled (Learn): recorded,
	// but not yet in manifest.json, so never used to drop a folded entry.
	learned  map[string]json.RawMessage
	count    int // entries in manifest.json
	flushErr error

	// For Sync: jwrites counts the entries appended to journals, jsynced
	// how many of them are known durable, rotatedAt what jwrites was when
	// the last flush rotated the journal (the entries up to it are in the
	// journals that flush syncs). oldSynced is closed when that flush has
	// synced the journal it rotated away from; oldErr holds the last failed
	// sync's error until manifest.json holds those entries.
	jwrites, jsynced, rotatedAt uint64
	oldSynced                   chan struct{}
	oldErr                      error
	// Tests only: syncHook replaces a journal's fsync, awaitFlush Sync's
	// wait for a flush's fsync of the journal it rotated away from.
	syncHook   func(*os.File) error
	awaitFlush func(synced <-chan struct{})

	kick    chan struct{}
	flushMu sync.Mutex // one rewrite at a time
	done    chan struct{}
	stopped chan struct{}
}

const journalPrefix = ".manifest.journal."

// Open loads manifest.json (if any), folds in journals left by dead
// processes, and starts the flusher. A manifest.json that does not parse is
// an error: the store never overwrites what it cannot read.
func Open(opts Options) (*Store, error) {
	if opts.Path == "" {
		return nil, errors.New("open manifest: empty path")
	}
	if opts.FlushInterval <= 0 {
		opts.FlushInterval = 200 * time.Millisecond
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if err := os.MkdirAll(filepath.Dir(opts.Path), 0o755); err != nil {
		return nil, fmt.Errorf("open manifest %s: %w", opts.Path, err)
	}
	s := &Store{opts: opts, log: opts.Logger, claims: map[string]pipeline.Status{}, recent: map[string]json.RawMessage{},
		learned: map[string]json.RawMessage{},
		jid:     fmt.Sprintf("%d-%s", os.Getpid(), randHex(4)),
		kick:    make(chan struct{}, 1), done: make(chan struct{}), stopped: make(chan struct{})}
	removeLeftoverTemps(filepath.Dir(opts.Path), s.log)
	if err := s.rotate(); err != nil {
		return nil, err
	}
	if _, err := s.Refresh(); err != nil {
		s.journal.Close()
		os.Remove(s.journal.Name())
		return nil, err
	}
	go s.flusher()
	return s, nil
}

// Refresh re-reads manifest.json's claims and folds in the journals of dead
// processes. The drainer calls it before handling items recovered from a
// dead worker, so their recorded outcomes are recognised. It returns how
// many entries it folded in.
func (s *Store) Refresh() (int, error) {
	s.flushMu.Lock()
	defer s.flushMu.Unlock()
	unlock, err := s.lockFile()
	if err != nil {
		return 0, err
	}
	defer unlock()
	dead, err := s.deadJournals()
	if err != nil {
		return 0, err
	}
	if len(dead) == 0 && s.opened {
		return 0, nil // nothing new to fold in; claims are current
	}
	s.opened = true
	existing, err := s.readManifest()
	if err != nil {
		for _, j := range dead {
			j.Close()
		}
		return 0, err
	}
	defer func() {
		for _, j := range dead {
			j.Close()
		}
	}()
	var replay [][]byte
	s.mu.Lock()
	for i, e := range existing {
		if claim, st := entryClaim(e); claim != "" {
			s.claims[claim] = st
			if i >= len(existing)-recentTail {
				s.recent[claim] = e
			}
		}
	}
	for _, j := range dead {
		entries, err := readJournal(j.Name())
		if err != nil {
			s.mu.Unlock()
			return 0, err
		}
		for _, e := range entries {
			claim, status := entryClaim(e)
			if claim != "" {
				if _, dup := s.claims[claim]; dup {
					continue
				}
				s.claims[claim] = status
				s.recent[claim] = e
			}
			replay = append(replay, e)
		}
	}
	s.mu.Unlock()
	if len(replay) > 0 || !canonical(s.opts.Path) {
		if err := s.rewrite(existing, replay); err != nil {
			return 0, err
		}
		if len(replay) > 0 {
			s.log.Info("manifest: folded in journals of stopped workers", "path", s.opts.Path, "entries", len(replay))
		}
	}
	for _, j := range dead {
		if err := os.Remove(j.Name()); err != nil && !errors.Is(err, os.ErrNotExist) {
			return 0, fmt.Errorf("remove journal %s: %w", j.Name(), err)
		}
	}
	s.mu.Lock()
	s.count = len(existing) + len(replay)
	s.mu.Unlock()
	return len(replay), nil
}

// Record appends one outcome. When it returns, the entry survives a crash of
// the process; manifest.json shows it after the next flush (Flush forces one).
func (s *Store) Record(_ context.Context, o pipeline.Outcome) error {
	b, err := o.Entry.MarshalJSON() // not json.Marshal, which would re-scan and copy it
	if err != nil {
		return fmt.Errorf("encode manifest entry %s: %w", o.Entry.Name, err)
	}
	claim, _ := o.Entry.Metadata[pipeline.MetaClaim].(string)
	line := append(b, '\n')
	s.mu.Lock()
	if claim != "" {
		if _, dup := s.claims[claim]; dup {
			s.mu.Unlock()
			return nil // already recorded (a redelivery): keep one entry
		}
	}
	if s.jcut {
		// An earlier append was cut short and could not be undone: end that
		// line first, or this entry would be glued to it and unreadable.
		line = append([]byte{'\n'}, line...)
	}
	if n, err := s.journal.Write(line); err != nil {
		s.undoShortWriteLocked(n)
		s.mu.Unlock()
		return fmt.Errorf("append manifest journal: %w", err)
	}
	s.jsize += int64(len(line))
	s.jcut = false
	s.jwrites++
	if claim != "" {
		s.claims[claim] = o.Entry.Status
	}
	s.pending = append(s.pending, b)
	s.mu.Unlock()
	select {
	case s.kick <- struct{}{}:
	default:
	}
	return nil
}

// undoShortWriteLocked removes the n bytes of a journal append that failed
// part way (a full disk writes what fits), so that the next entry starts on
// a line of its own; when that fails too, the next append starts with a
// newline instead.
func (s *Store) undoShortWriteLocked(n int) {
	if n <= 0 {
		return
	}
	if err := s.journal.Truncate(s.jsize); err != nil {
		s.jsize += int64(n)
		s.jcut = true
		s.log.Warn("manifest journal: cannot remove a cut entry; the next one starts a new line", "err", err)
	}
}

// recentTail is how many of manifest.json's last entries Refresh keeps whole.
const recentTail = 4096

// Entry returns the recorded entry of a claim. For a claim recorded long ago
// (not among the recent ones) only the status is known; Metadata is nil then.
func (s *Store) Entry(claim string) (pipeline.ManifestEntry, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.claims[claim]
	if !ok {
		if raw, ok := s.learned[claim]; ok {
			var e pipeline.ManifestEntry
			if json.Unmarshal(raw, &e) == nil {
				return e, true
			}
		}
		return pipeline.ManifestEntry{}, false
	}
	if raw, ok := s.recent[claim]; ok {
		var e pipeline.ManifestEntry
		if json.Unmarshal(raw, &e) == nil {
			return e, true
		}
	}
	return pipeline.ManifestEntry{Status: st}, true
}

// Recorded reports whether an outcome for this claim is recorded.
func (s *Store) Recorded(claim string) (pipeline.Status, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.claims[claim]
	if !ok {
		if raw, found := s.learned[claim]; found {
			_, st = entryClaim(raw)
			return st, true
		}
	}
	return st, ok
}

// Len is the number of entries recorded (flushed or not).
func (s *Store) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.count + len(s.pending)
}

// Flush folds every recorded entry into manifest.json now.
func (s *Store) Flush() error {
	_, err := s.flush()
	return err
}

// flush is Flush; it also returns the CPU that replace measured (from the
// temporary file's creation to its rename), which the flusher's budget is
// kept in.
func (s *Store) flush() (time.Duration, error) {
	s.flushMu.Lock()
	defer s.flushMu.Unlock()
	s.mu.Lock()
	batch := s.pending
	s.pending = nil
	old := s.journal
	if err := s.rotateLocked(); err != nil {
		s.pending = append(batch, s.pending...)
		s.mu.Unlock()
		return 0, err
	}
	synced := make(chan struct{})
	s.oldSynced, s.rotatedAt = synced, s.jwrites
	s.mu.Unlock()
	if len(batch) == 0 {
		close(synced)
		return 0, s.dropJournal(old)
	}
	if err := s.syncJournal(old); err != nil {
		s.log.Warn("sync manifest journal", "err", err)
		s.mu.Lock()
		s.oldErr = fmt.Errorf("sync manifest journal %s: %w", old.Name(), err)
		s.mu.Unlock()
	}
	close(synced)
	var copyCPU time.Duration
	unlock, err := s.lockFile()
	if err == nil {
		copyCPU, err = s.appendEntries(batch)
		unlock()
	}
	if err != nil {
		// Keep the journal: a restart folds it in. Retry on the next flush.
		s.mu.Lock()
		s.pending = append(batch, s.pending...)
		s.flushErr = err
		s.mu.Unlock()
		_ = old.Close()
		return 0, err
	}
	s.mu.Lock()
	s.count += len(batch)
	s.flushErr = nil
	s.oldErr = nil // every entry journaled before this flush is in manifest.json, on disk
	s.mu.Unlock()
	return copyCPU, s.dropJournal(old)
}

// lockFile takes flock on .manifest.lock next to manifest.json.
// deadJournals opens and locks every journal whose owner is gone.
// Err is the last flush error (nil once a flush succeeds), for /ready.
func (s *Store) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.flushErr
}

// Ready is Err as a /ready check.
func (s *Store) Ready(context.Context) error { return s.Err() }

// Close flushes and stops the flusher.
func (s *Store) Close() error {
	close(s.done)
	<-s.stopped
	err := s.Flush()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.journal != nil {
		if err == nil && len(s.pending) == 0 {
			_ = os.Remove(s.journal.Name())
		}
		_ = s.journal.Close()
	}
	if err != nil && len(s.pending) > 0 {
		// Nothing is lost: the entries are in the journal, and the next
		// Open folds them into manifest.json.
		s.log.Warn("manifest.json not brought up to date at close; entries kept in the journal for the next start",
			"path", s.opts.Path, "entries", len(s.pending), "err", err)
		return nil
	}
	return err
}
