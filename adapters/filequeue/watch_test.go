package filequeue

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// A change to the queue file by another instance (an enqueue) or by a writer
// replacing it wakes a Wait; a change to another file of the directory
// (the in-flight file) does not.
func TestWatcherWakesOnQueueChange(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(t *testing.T, path string)
		wakes  bool
	}{
		{"enqueue by another instance", func(t *testing.T, path string) {
			other := testQueue(t, path, func(o *Options) { o.Owner = "other" })
			if err := other.Enqueue(context.Background(), [][]byte{[]byte(`{"package":"a","version":"1"}`)}); err != nil {
				t.Fatal(err)
			}
		}, true},
		{"file replaced by rename", func(t *testing.T, path string) {
			tmp := filepath.Join(filepath.Dir(path), "new.json")
			writeFile(t, tmp, `[{"package":"b","version":"1"}]`)
			if err := os.Rename(tmp, path); err != nil {
				t.Fatal(err)
			}
		}, true},
		{"other file of the directory", func(t *testing.T, path string) {
			writeFile(t, path+".inflight.json", `[]`)
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := queuePath(t)
			q := testQueue(t, path)
			w := q.Watch(nil)
			t.Cleanup(func() { _ = w.Close() })
			if w.fsw == nil {
				t.Skip("no file notifications here; the poll fallback applies")
			}
			w.poll = time.Hour // only a change (or the context) ends a Wait
			tc.change(t, path)
			wait := 2 * time.Second
			if tc.wakes {
				wait = time.Minute // bounds a hang; a wake comes at once
			}
			ctx, cancel := context.WithTimeout(context.Background(), wait)
			defer cancel()
			w.Wait(ctx)
			if woke := ctx.Err() == nil; woke != tc.wakes {
				t.Errorf("woke = %v, want %v", woke, tc.wakes)
			}
		})
	}
}

// Close ends a Wait in progress.
func TestWatcherCloseEndsWait(t *testing.T) {
	q := testQueue(t, queuePath(t))
	w := q.Watch(nil)
	w.poll = time.Hour
	done := make(chan struct{})
	go func() { w.Wait(context.Background()); close(done) }()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	<-done
	if err := w.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}
