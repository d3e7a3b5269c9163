package filequeue

import (
	"bytes"
	"errors"
	"os"
	"slices"
)

// claimDirect claims up to max due items straight from a short queue, when
// this instance's reserve is empty and a refill would move no more than max
// items into it (a queue shorter than reserveShare × max): moving them into
// the reserve only to hand them out at once costs four fsyncs more (the move
// temp's directory entry, the reserve and its directory, the reserve's
// counter) than writing the holds and then the queue. That is every claim of
// a worker at rest, where an item's wait for its build is these fsyncs.
//
// Order: the in-flight file with the new holds, then the queue without their
// items (their temps are written and fsynced at the same time; the renames
// go in this order). A crash between the two leaves each item held by a dead owner and
// still queued; Recover drops such a hold as a duplicate of the queued item
// (doc.go), as it does after a crash between a reserve's dispense and its
// counter. If the queue cannot be written, the holds are undone; if that
// fails too, they stay unhanded-out until this owner is gone, and Recover
// then drops them the same way.
//
// ok is false when the queue is too long for it (the caller refills the
// reserve).
func (t *txn) claimDirect(max int) (es []entry, ok bool, err error) {
	q := t.q
	items, err := t.queue()
	if err != nil {
		return nil, true, err
	}
	if q.refillSize(len(items), max) > max {
		return nil, false, nil
	}
	now := q.opts.Now()
	taken, kept := takeDue(items, now, max, max, q.batchBytes)
	if len(taken) == 0 {
		return nil, true, nil
	}
	flight, err := t.inflight()
	if err != nil {
		return nil, true, err
	}
	newFlight := slices.Grow(slices.Clip(flight), len(taken))
	for _, it := range taken {
		newFlight = append(newFlight, entry{Claim: randHex(16), Owner: q.owner, ClaimedAt: now, Item: bytes.Clone(it)})
	}
	// Both temps are written and fsynced side by side (no reader sees a temp
	// before its rename): at rest a claim waits for one temp fsync, not two.
	// The renames keep the order.
	fdata, qw := encodeEntries(newFlight), t.encodeQueue(kept)
	ff, qf, err := t.writeTemps(fdata, qw.data)
	if err != nil {
		return nil, true, err
	}
	if _, err := q.commit(ff, q.flightPath, false); err != nil {
		discard(qf)
		return nil, true, err
	}
	t.inflightSet(newFlight, fdata)
	q.step("direct-inflight")
	f, err := q.commit(qf, q.path, true)
	if err != nil {
		if uerr := t.setInflight(flight); uerr != nil {
			q.log.Error("undo in-flight write after a failed queue write; holding the items until exit", "err", uerr)
		}
		return nil, true, err
	}
	t.queueSet(f, qw)
	q.step("direct-queue")
	return newFlight[len(flight):], true, nil
}

// writeTemps writes the in-flight file's temp (fdata) and the queue's (qdata,
// flock'ed as writeTemp does with lock) at the same time. On error neither
// temp is left.
func (t *txn) writeTemps(fdata, qdata []byte) (ff, qf *os.File, err error) {
	var qerr error
	wrote := make(chan struct{})
	go func() {
		defer close(wrote)
		qf, qerr = t.q.writeTemp(t.q.path, qdata, true, t.perm)
	}()
	ff, err = t.q.writeTemp(t.q.flightPath, fdata, false, t.perm)
	<-wrote
	if err == nil && qerr == nil {
		return ff, qf, nil
	}
	discard(ff)
	discard(qf)
	return nil, nil, errors.Join(err, qerr)
}
