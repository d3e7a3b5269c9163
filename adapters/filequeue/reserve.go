package filequeue

// The reserve: a claim used to rewrite the whole remaining queue file, so at
// 50,000 queued items (17 MB) claiming cost grew with the queue. Instead, a
// claim that finds this instance's reserve short moves a batch from the head
// of the queue into <queue>.owners/<owner>.reserve in one queue rewrite, and
// the following claims hand items out of the reserve, only overwriting the
// reserve's fixed-width header. docs/filequeue.md states the invariants and
// the crash cases.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

const (
	// reserveShare: a batch is 1/reserveShare of the queue's length, so
	// that one rewrite of the queue serves that many items.
	reserveShare = 16
	// reserveMaxItems and reserveMaxBytes bound a batch (unless the claim
	// itself asks for more).
	reserveMaxItems = 4096
	reserveMaxBytes = 4 << 20
	// reserveSuffix names the reserve file of an owner in the owners dir.
	reserveSuffix = ".reserve"
	noMove        = "0000000000000000"
)

// Header operations: none, a move from the queue in progress, a restore to
// the queue in progress (see resolve).
const (
	opNone    = '-'
	opMove    = 'm'
	opRestore = 'r'
)

// reserveHeader is the first line of a reserve file. It has a fixed width so
// that it can be overwritten in place.
type reserveHeader struct {
	dispensed int    // entries before it were handed out (they are in-flight)
	end       int    // with op move/restore: where the entries still valid end
	op        byte   // opNone, opMove, opRestore
	moving    string // 16 hex: the queue temp file of the move/restore in progress
}

var headerLen = len(reserveHeader{op: opNone}.encode())

func (h reserveHeader) encode() []byte {
	mv := h.moving
	if mv == "" {
		mv = noMove
	}
	return fmt.Appendf(nil, `{"dispensed":"%010d","end":"%010d","op":"%c","moving":"%s"}`+"\n", h.dispensed, h.end, h.op, mv)
}

func parseHeader(b []byte) (reserveHeader, error) {
	var raw struct{ Dispensed, End, Op, Moving string }
	if len(b) < headerLen || b[headerLen-1] != '\n' {
		return reserveHeader{}, errors.New("short header")
	}
	if err := json.Unmarshal(b[:headerLen], &raw); err != nil {
		return reserveHeader{}, fmt.Errorf("header: %w", err)
	}
	d, err1 := strconv.Atoi(raw.Dispensed)
	e, err2 := strconv.Atoi(raw.End)
	if err := errors.Join(err1, err2); err != nil || len(raw.Op) != 1 || len(raw.Moving) != len(noMove) {
		return reserveHeader{}, fmt.Errorf("header %q: bad field", b[:headerLen-1])
	}
	return reserveHeader{dispensed: d, end: e, op: raw.Op[0], moving: raw.Moving}, nil
}

// encodeReserve renders a reserve file: the header, then one compact item a
// line.
func encodeReserve(h reserveHeader, items [][]byte) []byte {
	size := headerLen
	for _, it := range items {
		size += len(it) + 1
	}
	b := make([]byte, 0, size)
	b = append(b, h.encode()...)
	for _, it := range items {
		b = append(append(b, it...), '\n')
	}
	return b
}

func parseReserve(data []byte) (reserveHeader, [][]byte, error) {
	h, err := parseHeader(data)
	if err != nil {
		return h, nil, err
	}
	var items [][]byte
	rest := data[headerLen:]
	for len(rest) > 0 {
		line, tail, ok := bytes.Cut(rest, []byte("\n"))
		if !ok {
			return h, nil, errors.New("truncated entry")
		}
		if len(line) == 0 {
			return h, nil, errors.New("empty entry")
		}
		items = append(items, line[:len(line):len(line)])
		rest = tail
	}
	if h.dispensed > len(items) || h.end > len(items) {
		return h, nil, fmt.Errorf("header counts %d/%d beyond %d entries", h.dispensed, h.end, len(items))
	}
	return h, items, nil
}

// reserve is this instance's reserve, as last written. Only its owner changes
// it while the owner lives, so the copy in memory is authoritative.
type reserve struct {
	f     *os.File // open read-write; nil when there is no file
	h     reserveHeader
	items [][]byte
}

func (r *reserve) left() [][]byte { return r.items[min(r.h.dispensed, len(r.items)):] }

func (q *Queue) reservePath(owner string) string {
	return filepath.Join(q.ownersDir, sanitize(owner)+reserveSuffix)
}

// moveTemp names the queue temp file of the move or restore tagged hex. It
// does not match the leftover-temp prefix: only Recover's sweep removes one,
// under the queue lock, once no reserve file names it.
func (q *Queue) moveTemp(hex string) string {
	return filepath.Join(q.dir, "."+filepath.Base(q.path)+".move-"+hex)
}

func exists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}

// resolve returns the entries of a reserve file that are in no other place
// (neither queued nor in-flight), whatever step of a move or restore a crash
// interrupted, and the move temp file it names that still exists ("" if
// none). A move temp file exists exactly until its rename into the queue.
func (q *Queue) resolve(h reserveHeader, items [][]byte) ([][]byte, string) {
	d := min(h.dispensed, len(items))
	switch h.op {
	case opMove, opRestore:
		tmp := q.moveTemp(h.moving)
		if exists(tmp) { // the queue was not replaced: as before the move/restore
			return items[d:max(d, min(h.end, len(items)))], tmp
		}
		if h.op == opRestore { // the items reached the queue
			return nil, ""
		}
	}
	return items[d:], ""
}

// readReserve reads and resolves the reserve file at p.
func (q *Queue) readReserve(p string) (reserveHeader, [][]byte, string, error) {
	data, err := os.ReadFile(p)
	if err != nil {
		return reserveHeader{}, nil, "", fmt.Errorf("read reserve %s: %w", p, err)
	}
	h, items, err := parseReserve(data)
	if err != nil {
		return h, nil, "", fmt.Errorf("parse reserve %s: %w", p, err)
	}
	left, tmp := q.resolve(h, items)
	return h, left, tmp, nil
}

// reservedItems returns the items every reserve file holds undispensed
// (this instance's own included, read from disk), in owner order. Files
// that cannot be read are skipped: it serves counts only.
func (q *Queue) reservedItems() [][]byte {
	des, err := os.ReadDir(q.ownersDir)
	if err != nil {
		return nil
	}
	var out [][]byte
	for _, de := range des {
		if !strings.HasSuffix(de.Name(), reserveSuffix) {
			continue
		}
		_, left, _, err := q.readReserve(filepath.Join(q.ownersDir, de.Name()))
		if err == nil {
			out = append(out, left...)
		}
	}
	return out
}

// writeReserve replaces this instance's reserve file and reopens it.
func (q *Queue) writeReserve(h reserveHeader, items [][]byte, perm fs.FileMode) error {
	p := q.reservePath(q.owner)
	if _, err := q.replace(p, encodeReserve(h, items), false, perm); err != nil {
		return fmt.Errorf("reserve: %w", err)
	}
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("reserve: %w", err)
	}
	if q.res.f != nil {
		_ = q.res.f.Close()
	}
	q.res = reserve{f: f, h: h, items: items}
	return nil
}

// writeHeader overwrites the header of an open reserve file and fsyncs it.
func writeHeader(f *os.File, h reserveHeader) error {
	if _, err := f.WriteAt(h.encode(), 0); err != nil {
		return fmt.Errorf("reserve header %s: %w", f.Name(), err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("reserve header %s: %w", f.Name(), err)
	}
	return nil
}

// dropReserve removes this instance's reserve file once its items are
// elsewhere (a file left behind resolves to nothing: see resolve).
func (q *Queue) dropReserve() {
	if q.res.f == nil {
		return
	}
	_ = q.res.f.Close()
	if err := os.Remove(q.reservePath(q.owner)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		q.log.Warn("remove reserve", "err", err)
	}
	q.res = reserve{}
}

// refill moves a batch of due items from the head of the queue to the end of
// this instance's reserve: at least need, else 1/reserveShare of the queue,
// at most reserveMaxItems and reserveMaxBytes. Order of the writes: the new
// queue to its move temp file (fsync), the reserve (op move, naming that
// temp), then the temp renamed over the queue.
func (t *txn) refill(need int) error {
	q := t.q
	items, err := t.queue()
	if err != nil {
		return err
	}
	want := max(need, min(len(items)/reserveShare, q.batchItems))
	now := q.opts.Now()
	var taken []int
	size := 0
	for i, it := range items {
		if len(taken) >= want || len(taken) >= need && size+len(it) > q.batchBytes {
			break
		}
		if due(it, now) {
			taken = append(taken, i)
			size += len(it) + 1
		}
	}
	if len(taken) == 0 {
		return nil
	}
	old := q.res
	left := old.left()
	next := slices.Grow(slices.Clone(left), len(taken))
	kept := make([][]byte, 0, len(items)-len(taken))
	k := 0
	for i, it := range items {
		if k < len(taken) && taken[k] == i {
			next = append(next, it)
			k++
			continue
		}
		kept = append(kept, it)
	}
	hex := randHex(8)
	pending := reserveHeader{end: len(left), op: opMove, moving: hex}
	return t.setQueueWith(kept, hex,
		func() error { return q.writeReserve(pending, next, t.perm) },
		func() error { // the queue was not replaced: the reserve as it was
			return q.writeReserve(reserveHeader{op: opNone}, left, t.perm)
		})
}

// dispense hands out up to n items from the reserve: the in-flight file is
// written first, then the header's counter (so a crash between holds an item
// both in-flight and reserved; Recover puts it back in the queue and drops
// the hold as a duplicate).
func (t *txn) dispense(n int, flight []entry) ([]entry, error) {
	q := t.q
	left := q.res.left()
	n = min(n, len(left))
	if n == 0 {
		return nil, nil
	}
	now := q.opts.Now()
	newFlight := slices.Grow(slices.Clip(flight), n)
	for _, it := range left[:n] {
		newFlight = append(newFlight, entry{Claim: randHex(16), Owner: q.owner, ClaimedAt: now, Item: bytes.Clone(it)})
	}
	if err := t.setInflight(newFlight); err != nil {
		return nil, err
	}
	before := q.res.h
	h := reserveHeader{dispensed: min(before.dispensed, len(q.res.items)) + n, op: opNone}
	q.step("inflight")
	if err := writeHeader(q.res.f, h); err != nil {
		// The caller gets no claims: put the header and the holds back. If
		// the header cannot be restored, its state on disk is unknown: keep
		// the holds (never handed out, they stay until this owner is gone,
		// and Recover then de-duplicates them against the reserve).
		if rerr := writeHeader(q.res.f, before); rerr != nil {
			q.log.Error("restore reserve header after a failed write; holding the items until exit", "err", rerr)
			q.res.h = h
			return nil, err
		}
		if rerr := t.setInflight(flight); rerr != nil {
			q.log.Error("undo in-flight write after a failed reserve write", "err", rerr)
		}
		return nil, err
	}
	q.res.h = h
	q.step("counter")
	return newFlight[len(flight):], nil
}

// restoreOwn writes queue = head + this instance's undispensed reserve + rest
// and empties the reserve. Order: the queue to its move temp (fsync), the
// reserve's header (op restore, naming the temp), the rename, the reserve's
// removal.
func (t *txn) restoreOwn(head, rest [][]byte) error {
	q := t.q
	left := q.res.left()
	if len(left) == 0 {
		if len(head) == 0 {
			return nil
		}
		return t.setQueue(slices.Concat(head, rest))
	}
	before := q.res.h
	hex := randHex(8)
	h := reserveHeader{dispensed: before.dispensed, end: len(q.res.items), op: opRestore, moving: hex}
	if err := t.setQueueWith(slices.Concat(head, left, rest), hex,
		func() error { return writeHeader(q.res.f, h) },
		func() error { return writeHeader(q.res.f, before) }); err != nil {
		return err
	}
	q.dropReserve()
	return nil
}

// restoreDead puts the undispensed items of dead owners' reserves back at the
// head of the queue (owners in name order, each in its order), then removes
// those reserve files and the move temps they named. It runs before takeOver,
// which then drops the holds a crash left duplicated in those reserves.
//
// Owners it probes are added to alive; the lock files of dead ones come back
// open and locked, for Recover to remove.
func (t *txn) restoreDead(alive map[string]bool) ([]*os.File, error) {
	q := t.q
	des, err := os.ReadDir(q.ownersDir)
	if err != nil {
		return nil, fmt.Errorf("list owners %s: %w", q.ownersDir, err)
	}
	var locks []*os.File
	type dead struct {
		path, tmp string
		f         *os.File
		h         reserveHeader
		end       int // h.dispensed + the entries resolve found valid
	}
	var deads []dead
	defer func() {
		for _, d := range deads {
			_ = d.f.Close()
		}
	}()
	var back [][]byte
	hex := randHex(8)
	for _, de := range des {
		owner, ok := strings.CutSuffix(de.Name(), reserveSuffix)
		if !ok || owner == q.owner {
			continue
		}
		isAlive, known := alive[owner]
		if !known {
			lf, isDead, err := q.probeOwner(owner)
			if err != nil {
				return locks, err
			}
			if lf != nil {
				locks = append(locks, lf)
			}
			isAlive = !isDead
			alive[owner] = isAlive
		}
		if isAlive {
			continue
		}
		p := filepath.Join(q.ownersDir, de.Name())
		h, left, tmp, err := q.readReserve(p)
		if err != nil { // left in place for an operator: one bad file must not stop Recover
			q.log.Error("cannot return a dead owner's reserve to the queue", "dead_owner", owner, "err", err)
			continue
		}
		f, err := os.OpenFile(p, os.O_RDWR, 0)
		if err != nil {
			return locks, fmt.Errorf("reserve %s: %w", p, err)
		}
		deads = append(deads, dead{path: p, tmp: tmp, f: f, h: h, end: h.dispensed + len(left)})
		if len(left) > 0 {
			q.log.Info("returned the reserve of a dead owner to the queue", "dead_owner", owner, "items", len(left))
		}
		back = append(back, left...)
	}
	if len(back) > 0 {
		items, err := t.queue()
		if err != nil {
			return locks, err
		}
		// The header of each dead reserve names the restore in progress:
		// dispensed stays, end bounds what resolve found valid.
		err = t.setQueueWith(slices.Concat(back, items), hex,
			func() error {
				for _, d := range deads {
					if err := writeHeader(d.f, reserveHeader{dispensed: d.h.dispensed, end: d.end, op: opRestore, moving: hex}); err != nil {
						return err
					}
				}
				return nil
			},
			func() error {
				var errs []error
				for _, d := range deads {
					errs = append(errs, writeHeader(d.f, d.h))
				}
				return errors.Join(errs...)
			})
		if err != nil {
			return locks, err
		}
		q.step("restored-dead")
	}
	for _, d := range deads {
		if err := os.Remove(d.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			q.log.Warn("remove dead owner's reserve", "path", d.path, "err", err)
		}
		if d.tmp != "" {
			_ = os.Remove(d.tmp)
		}
	}
	return locks, nil
}

// sweepMoveTemps removes move temp files that no reserve file names (a
// writer died before writing its reserve). Under the queue lock, no move is
// in progress.
func (q *Queue) sweepMoveTemps() {
	prefix := "." + filepath.Base(q.path) + ".move-"
	des, err := os.ReadDir(q.dir)
	if err != nil {
		return
	}
	var temps []string
	for _, de := range des {
		if hex, ok := strings.CutPrefix(de.Name(), prefix); ok {
			temps = append(temps, hex)
		}
	}
	if len(temps) == 0 {
		return
	}
	named := map[string]bool{}
	rs, _ := os.ReadDir(q.ownersDir)
	for _, de := range rs {
		if !strings.HasSuffix(de.Name(), reserveSuffix) {
			continue
		}
		f, err := os.Open(filepath.Join(q.ownersDir, de.Name()))
		if err != nil {
			continue
		}
		b := make([]byte, headerLen)
		_, rerr := f.ReadAt(b, 0)
		_ = f.Close()
		if h, err := parseHeader(b); rerr == nil && err == nil && h.op != opNone {
			named[h.moving] = true
		}
	}
	for _, hex := range temps {
		if !named[hex] {
			_ = os.Remove(q.moveTemp(hex))
		}
	}
}

// step calls the test hook, if any, after a write step.
func (q *Queue) step(name string) {
	if q.stepHook != nil {
		q.stepHook(name)
	}
}
