package filequeue

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/refinery/refinery-worker/adapters/regfile"
)

// entry is one held item in the in-flight file.
type entry struct {
	Claim     string
	Owner     string
	ClaimedAt time.Time
	Item      json.RawMessage // compact
}

// parseEntries parses the in-flight file (missing fields are an error: the
// file is ours, and a wrong guess here could lose or duplicate work).
func parseEntries(data []byte) ([]entry, error) {
	elems, err := parseArray(data)
	if err != nil {
		return nil, err
	}
	out := make([]entry, len(elems))
	for i, e := range elems {
		if out[i], err = parseEntry(e); err != nil {
			return nil, fmt.Errorf("entry %d: %w", i, err)
		}
	}
	return out, nil
}

// parseEntry decodes one compact in-flight entry (faster than encoding/json,
// which was a good part of the cost of reading a file another process wrote).
func parseEntry(e []byte) (entry, error) {
	var out entry
	var at string
	var err error
	for m := range members(e) {
		key, val := e[m.key:m.val-1], e[m.val:m.end:m.end]
		switch {
		case keyIs(key, "claim"):
			out.Claim, err = jsonString(val)
		case keyIs(key, "owner"):
			out.Owner, err = jsonString(val)
		case keyIs(key, "claimed_at"):
			at, err = jsonString(val)
		case keyIs(key, "item"):
			out.Item = val
		}
		if err != nil {
			return out, fmt.Errorf("%s: %w", key, err)
		}
	}
	if out.Claim == "" || out.Owner == "" || at == "" || len(out.Item) == 0 {
		return out, errors.New("claim, owner, claimed_at or item missing")
	}
	if out.ClaimedAt, err = time.Parse(time.RFC3339, at); err != nil {
		return out, fmt.Errorf("claimed_at: %w", err)
	}
	return out, nil
}

// jsonString decodes a JSON string value.
func jsonString(v []byte) (string, error) {
	if len(v) >= 2 && v[0] == '"' && bytes.IndexByte(v, '\\') < 0 {
		return string(v[1 : len(v)-1]), nil
	}
	var s string
	err := json.Unmarshal(v, &s)
	return s, err
}

// encodeEntries renders the in-flight file: a JSON array, one entry a line,
// items byte for byte (encoding/json would escape <, > and & in them).
func encodeEntries(es []entry) []byte {
	if len(es) == 0 {
		return []byte("[]\n")
	}
	size := 4
	for _, e := range es {
		size += len(e.Item) + len(e.Claim) + len(e.Owner) + 100
	}
	b := make([]byte, 0, size)
	b = append(b, "[\n"...)
	for i, e := range es {
		if i > 0 {
			b = append(b, ",\n"...)
		}
		b = append(b, `{"claim":`...)
		b = appendString(b, e.Claim)
		b = append(b, `,"owner":`...)
		b = appendString(b, e.Owner)
		b = append(b, `,"claimed_at":"`...)
		b = e.ClaimedAt.UTC().AppendFormat(b, time.RFC3339Nano)
		b = append(b, `","item":`...)
		b = append(b, e.Item...)
		b = append(b, '}')
	}
	return append(b, "\n]\n"...)
}

// appendString appends s as a JSON string.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // a string always marshals
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// queueCache and flightCache keep the last contents read or written of each
// file with their parse. A file that reads back byte for byte identical is not
// parsed again (a draining worker is usually the only writer). Parsed items
// and entries are never modified in place, so they can be shared.
type queueCache struct {
	data  []byte
	items [][]byte
	// starts, when set, holds where each item's indented form starts in
	// data (data is then encodeQueue(items), written by this instance), so
	// that the next write can copy the items it keeps instead of encoding
	// them again (see spliceQueue).
	starts []int
	// at, when set, holds where each item starts in data (after its
	// indentation), whatever the file's layout (see sliceQueue).
	at []int
}

type flightCache struct {
	data    []byte
	entries []entry
}

// txn is one critical section under the queue lock. It loads each file at
// most once and remembers what it wrote.
type txn struct {
	ctx      context.Context
	q        *Queue
	locks    []*os.File // locked queue inodes: the one locked first, then each written
	perm     fs.FileMode
	items    [][]byte
	itemsOK  bool
	flight   []entry
	flightOK bool

	base     [][]byte  // the queue as first read
	baseSize int64     // the locked file's size and mtime just before that read
	baseMod  time.Time // (an in-place rewrite by the control-plane changes them)
}

// do runs fn under the queue lock.
func (q *Queue) do(ctx context.Context, fn func(*txn) error) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return ErrClosed
	}
	return q.doLocked(ctx, fn)
}

// doLocked is do for a caller holding q.mu.
func (q *Queue) doLocked(ctx context.Context, fn func(*txn) error) error {
	f, err := q.lockQueue(ctx)
	if err != nil {
		return err
	}
	t := &txn{ctx: ctx, q: q, locks: []*os.File{f}, perm: 0o644}
	defer t.release()
	if err := q.ensureOwner(); err != nil {
		return err
	}
	if fi, err := f.Stat(); err == nil {
		t.perm = fi.Mode().Perm()
	}
	if err := fn(t); err != nil {
		return err
	}
	return t.keepInPlaceWrites()
}

// keepInPlaceWrites handles the control-plane rewriting the queue file in
// place (it does not lock) after this transaction read it: that write went
// to the file this transaction has since replaced. Items it added are
// appended to the new queue; anything else it changed (a clear) is ignored,
// so nothing is lost. A rewrite that starts after this check is still lost:
// only a locking writer can close that window.
func (t *txn) keepInPlaceWrites() error {
	if len(t.locks) < 2 || t.baseMod.IsZero() {
		return nil // the queue was not replaced
	}
	fi, err := t.locks[0].Stat()
	if err != nil || fi.Size() == t.baseSize && fi.ModTime().Equal(t.baseMod) {
		return nil
	}
	old := t.locks[0]
	now, err := t.q.readQueue(t.ctx, func() ([]byte, error) { return t.q.readQueueFile(old) }, nil)
	if err != nil {
		t.q.log.Error("queue file rewritten in place during an update, and unreadable: its changes are lost", "err", err)
		return nil
	}
	seen := make(map[string]int, len(t.base))
	for _, it := range t.base {
		seen[string(it)]++
	}
	var extra [][]byte
	for _, it := range now {
		if seen[string(it)] > 0 {
			seen[string(it)]--
			continue
		}
		extra = append(extra, it)
	}
	if len(extra) == 0 {
		return nil
	}
	t.q.log.Warn("queue file rewritten in place during an update: keeping the items it added", "items", len(extra))
	next := make([][]byte, 0, len(t.items)+len(extra))
	return t.setQueue(append(append(next, t.items...), extra...))
}

// release drops every lock of the transaction.
func (t *txn) release() {
	for _, f := range t.locks {
		_ = f.Close() // closing the last descriptor releases the flock
	}
}

// queue returns the queue's items (compacted), read through the locked file.
func (t *txn) queue() ([][]byte, error) {
	if t.itemsOK {
		return t.items, nil
	}
	cur := t.locks[len(t.locks)-1]
	items, err := t.q.readQueue(t.ctx, func() ([]byte, error) {
		if fi, err := cur.Stat(); err == nil { // before the read: conservative
			t.baseSize, t.baseMod = fi.Size(), fi.ModTime()
		}
		return t.q.readQueueFile(cur)
	}, &t.q.queueCache)
	if err != nil {
		return nil, err
	}
	t.items, t.itemsOK, t.base = items, true, items
	return items, nil
}

// inflight returns the in-flight entries (none when the file is missing).
func (t *txn) inflight() ([]entry, error) {
	if t.flightOK {
		return t.flight, nil
	}
	data, err := regfile.ReadFile(t.q.flightPath)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		data = []byte("[]")
	case err != nil:
		return nil, fmt.Errorf("read in-flight %s: %w", t.q.flightPath, err)
	}
	c := &t.q.flightCache
	if c.data != nil && bytes.Equal(data, c.data) {
		t.flight, t.flightOK = c.entries, true
		return c.entries, nil
	}
	es, err := parseEntries(data)
	if err != nil {
		return nil, fmt.Errorf("parse in-flight %s: %w", t.q.flightPath, err)
	}
	t.flight, t.flightOK = es, true
	*c = flightCache{data: data, entries: es}
	return es, nil
}

// setQueue replaces the queue file with items. The new file is locked before
// it is renamed into place, and stays locked until the transaction ends.
func (t *txn) setQueue(items [][]byte) error {
	return t.setQueueWith(items, "", nil, nil)
}

// setQueueWith is setQueue for a move between the queue and a reserve
// (reserve.go): the new queue is written to the move temp file tagged hex,
// then before runs (it writes the reserve side, naming that temp), then the
// temp is renamed over the queue. If before fails, the temp is removed. If
// the rename fails, undo runs; the temp is removed only if undo succeeded
// (while it exists, the reserve resolves as if the move never started).
func (t *txn) setQueueWith(items [][]byte, hex string, before, undo func() error) error {
	w := t.encodeQueue(items)
	var f *os.File
	var err error
	if before == nil {
		f, err = t.q.replace(t.q.path, w.data, true, t.perm)
	} else {
		f, err = t.q.replaceVia(t.q.moveTemp(hex), w.data, t.perm, before, undo)
	}
	if err != nil {
		return err
	}
	t.queueSet(f, w)
	return nil
}

// queueWrite is a new queue: its items, its bytes and where the items sit
// in them (see queueCache).
type queueWrite struct {
	items  [][]byte
	data   []byte
	starts []int
	at     []int
}

// encodeQueue renders items as the queue file, reusing the bytes of the last
// one read or written where it can.
func (t *txn) encodeQueue(items [][]byte) queueWrite {
	data, starts, at, ok := sliceQueue(&t.q.queueCache, items)
	if !ok {
		data, starts = spliceQueue(&t.q.queueCache, items)
		at = nil
	}
	return queueWrite{items: items, data: data, starts: starts, at: at}
}

// queueSet records that the queue file is now w, renamed into place from the
// locked file f.
func (t *txn) queueSet(f *os.File, w queueWrite) {
	t.locks = append(t.locks, f)
	t.items, t.itemsOK = w.items, true
	if t.q.afterQueueWrite != nil {
		t.q.afterQueueWrite()
	}
	t.q.queueCache = queueCache{data: w.data, items: w.items, starts: w.starts, at: w.at}
}

// setInflight replaces the in-flight file with es.
func (t *txn) setInflight(es []entry) error {
	return t.setInflightAfter(es, nil)
}

// setInflightAfter is setInflight with the rename held until before (when
// not nil) returned nil: the temp file is written and fsynced meanwhile. If
// before fails, the temp is removed, the file is left as it was and before's
// error is returned.
func (t *txn) setInflightAfter(es []entry, before func() error) error {
	data := encodeEntries(es)
	f, err := t.q.writeTemp(t.q.flightPath, data, false, t.perm)
	if err == nil {
		t.q.step("inflight-temp")
	}
	if err == nil && before != nil {
		if err = before(); err != nil {
			discard(f)
		}
	}
	if err == nil {
		_, err = t.q.commit(f, t.q.flightPath, false)
	}
	if err != nil {
		return err
	}
	t.inflightSet(es, data)
	return nil
}

// inflightSet records that the in-flight file is now es, encoded as data.
func (t *txn) inflightSet(es []entry, data []byte) {
	t.flight, t.flightOK = es, true
	t.q.flightCache = flightCache{data: data, entries: es}
}
