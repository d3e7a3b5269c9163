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
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/refinery/refinery-worker/adapters/regfile"
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

// refillSize is how many items a refill moves when need are wanted from a
// queue of n: at least need, else 1/reserveShare of the queue, at most the
// batch bound.
func (q *Queue) refillSize(n, need int) int {
	return max(need, min(n/reserveShare, q.batchItems))
}

// takeDue splits items into the due ones of a batch, in queue order, and
// the rest: up to want items, and beyond need only while the batch stays
// within maxBytes.
func takeDue(items [][]byte, now time.Time, need, want, maxBytes int) (taken, kept [][]byte) {
	var at []int
	size := 0
	for i, it := range items {
		if len(at) >= want || len(at) >= need && size+len(it) > maxBytes {
			break
		}
		if due(it, now) {
			at = append(at, i)
			size += len(it) + 1
		}
	}
	if len(at) == 0 {
		return nil, items
	}
	taken = make([][]byte, 0, len(at))
	kept = make([][]byte, 0, len(items)-len(at))
	k := 0
	for i, it := range items {
		if k < len(at) && at[k] == i {
			taken = append(taken, it)
			k++
			continue
		}
		kept = append(kept, it)
	}
	return taken, kept
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
	taken, kept := takeDue(items, q.opts.Now(), need, q.refillSize(len(items), need), q.batchBytes)
	if len(taken) == 0 {
		return nil
	}
	old := q.res
	left := old.left()
	next := append(slices.Clone(left), taken...)
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
		f, err := regfile.OpenFile(p, os.O_RDWR, 0)
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
		f, err := regfile.Open(filepath.Join(q.ownersDir, de.Name()))
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
