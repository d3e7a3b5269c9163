package manifest

import (
	"errors"
	"fmt"
	"os"
)

// Sync makes every entry Record has appended so far survive a power loss,
// not only a kill (Record's own promise): it waits for a running flush's
// sync of the journal it rotated away from, and fsyncs the current journal
// unless every entry went to the ones before.
// It returns at once when nothing was appended since the last Sync. A
// settler calls it before it settles items whose outcomes it recorded
// (pipeline.SettleAfterSync), so that an item never leaves its intake for
// good while its outcome is only in the page cache. It is safe for
// concurrent use with Record and the flusher.
func (s *Store) Sync() error {
	for {
		s.mu.Lock()
		target, cur, rotated, rotatedAt := s.jwrites, s.journal, s.oldSynced, s.rotatedAt
		if s.jsynced >= target {
			s.mu.Unlock()
			return nil
		}
		s.mu.Unlock()
		if rotated != nil {
			// The entries before cur: synced by the flush that rotated to cur.
			if s.awaitFlush != nil {
				s.awaitFlush(rotated)
			} else {
				<-rotated
			}
		}
		s.mu.Lock()
		err := s.oldErr
		s.mu.Unlock()
		if err != nil {
			return err
		}
		if target <= rotatedAt {
			// Every entry was appended before the rotation: the flush's
			// fsync covered them, and the journal now current has none.
			s.mu.Lock()
			s.jsynced = max(s.jsynced, target)
			s.mu.Unlock()
			return nil
		}
		if cur == nil {
			return errors.New("manifest journal not open")
		}
		if err := s.syncJournal(cur); errors.Is(err, os.ErrClosed) {
			s.mu.Lock()
			closed := s.journal == cur
			s.mu.Unlock()
			if closed {
				return errors.New("sync manifest journal: the store is closed")
			}
			continue // a flush rotated cur away, synced it and removed it: wait for that flush instead
		} else if err != nil {
			return fmt.Errorf("sync manifest journal %s: %w", cur.Name(), err)
		}
		s.mu.Lock()
		s.jsynced = max(s.jsynced, target)
		s.mu.Unlock()
		return nil
	}
}

// syncJournal fsyncs the journal f.
func (s *Store) syncJournal(f *os.File) error {
	if s.syncHook != nil {
		return s.syncHook(f)
	}
	return f.Sync()
}

// Sync makes the rejections appended so far survive a power loss (see
// Store.Sync); it returns at once when none was appended since the last.
func (r *Rejections) Sync() error {
	r.mu.Lock()
	target := r.appended
	done := r.synced >= target
	r.mu.Unlock()
	if done {
		return nil
	}
	if err := r.f.Sync(); err != nil {
		return fmt.Errorf("sync rejections %s: %w", r.f.Name(), err)
	}
	r.mu.Lock()
	r.synced = max(r.synced, target)
	r.mu.Unlock()
	return nil
}
