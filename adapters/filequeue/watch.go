package filequeue

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Poll intervals of a [Watcher]: with file notifications a slow safety poll
// (a missed event, an item whose not_before passed); without them, a poll
// fast enough that a new item is picked up within 100 ms.
const (
	PollWithNotify    = time.Second
	PollWithoutNotify = 100 * time.Millisecond
)

// Watcher tells a claimer that found the queue empty when to look again: when
// the queue file changes (fsnotify on its directory: the file is replaced by
// rename, so its inode changes) or, at the latest, after a bounded poll
// interval. A change between two waits is remembered, so a claim that read
// the file just before an enqueue does not miss it.
type Watcher struct {
	name   string // the queue file's base name
	poll   time.Duration
	wake   chan struct{}
	fsw    *fsnotify.Watcher // nil: polling only
	done   chan struct{}
	closed sync.Once
}

// Watch starts watching the queue file. When file notifications are not
// available (inotify limits, a file system without them) it falls back to
// polling every [PollWithoutNotify] and says so in the log.
func (q *Queue) Watch(log *slog.Logger) *Watcher {
	if log == nil {
		log = q.log
	}
	w := &Watcher{name: filepath.Base(q.path), poll: PollWithNotify, wake: make(chan struct{}, 1), done: make(chan struct{})}
	fsw, err := newDirWatcher(q.dir)
	if err != nil {
		log.Warn("queue file notifications unavailable; polling", "interval", PollWithoutNotify.String(), "err", err)
		w.poll = PollWithoutNotify
		return w
	}
	w.fsw = fsw
	go w.run(log)
	return w
}

func newDirWatcher(dir string) (*fsnotify.Watcher, error) {
	fsw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("new watcher: %w", err)
	}
	if err := fsw.Add(dir); err != nil {
		_ = fsw.Close()
		return nil, fmt.Errorf("watch %s: %w", dir, err)
	}
	return fsw, nil
}

// PollInterval is the longest a Wait lasts without a change.
func (w *Watcher) PollInterval() time.Duration { return w.poll }

func (w *Watcher) run(log *slog.Logger) {
	for {
		select {
		case ev, ok := <-w.fsw.Events:
			if !ok {
				return
			}
			if filepath.Base(ev.Name) == w.name && ev.Op&(fsnotify.Create|fsnotify.Write|fsnotify.Rename) != 0 {
				w.signal()
			}
		case err, ok := <-w.fsw.Errors:
			if !ok {
				return
			}
			// An overflow drops events: look again rather than miss one.
			log.Warn("queue file watch", "err", err)
			w.signal()
		}
	}
}

func (w *Watcher) signal() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Wait returns when the queue file changed since the last Wait, when the
// poll interval has passed, or when ctx ends or the watcher is closed.
func (w *Watcher) Wait(ctx context.Context) {
	t := time.NewTimer(w.poll)
	defer t.Stop()
	select {
	case <-w.wake:
	case <-t.C:
	case <-ctx.Done():
	case <-w.done:
	}
}

// Close stops watching; a Wait in progress returns.
func (w *Watcher) Close() error {
	var err error
	w.closed.Do(func() {
		close(w.done)
		if w.fsw != nil {
			if cerr := w.fsw.Close(); cerr != nil {
				err = fmt.Errorf("close queue watcher: %w", cerr)
			}
		}
	})
	return err
}
