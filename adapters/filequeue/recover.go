package filequeue

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/refinery/refinery-worker/adapters/regfile"
	"github.com/refinery/refinery-worker/pipeline"
)

// staleTemp is the age after which a leftover temporary file of a crashed
// writer is removed by Recover.
const staleTemp = 10 * time.Minute

// Recover takes over the items held by owners that are gone (their owner lock
// file is missing or can be locked) and returns them with their original
// claims and claim times, after putting their reserves (items taken from the
// queue but not handed out) back at the head of the queue. A held entry that a crash left duplicated in the
// queue is dropped instead (see the package documentation). It also removes
// the lock files of dead owners and stale temporary files. Call it at start,
// and whenever a peer may have died.
func (q *Queue) Recover(ctx context.Context) ([]pipeline.Claimed, error) {
	var out []pipeline.Claimed
	err := q.do(ctx, func(t *txn) error {
		flight, err := t.inflight()
		if err != nil {
			return err
		}
		alive := map[string]bool{q.owner: true}
		var dead []*os.File // locked lock files of dead owners, removed at the end
		defer func() {
			for _, f := range dead {
				_ = f.Close()
			}
		}()
		for _, e := range flight {
			if _, known := alive[e.Owner]; known {
				continue
			}
			f, isDead, err := q.probeOwner(e.Owner)
			if err != nil {
				return err
			}
			alive[e.Owner] = !isDead
			if f != nil {
				dead = append(dead, f)
			}
		}
		// Dead owners' reserves go back to the queue first, so that takeOver
		// sees their items as queued (reserve.go).
		locks, err := t.restoreDead(alive)
		dead = append(dead, locks...)
		if err != nil {
			return err
		}
		if anyDead(alive) {
			if out, err = q.takeOver(t, flight, alive); err != nil {
				return err
			}
		}
		for _, f := range dead {
			if err := os.Remove(f.Name()); err != nil && !errors.Is(err, fs.ErrNotExist) {
				q.log.Warn("remove dead owner lock", "path", f.Name(), "err", err)
			}
		}
		q.sweep(alive)
		q.sweepMoveTemps()
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("recover: %w", err)
	}
	return out, nil
}

func anyDead(alive map[string]bool) bool {
	for _, a := range alive {
		if !a {
			return true
		}
	}
	return false
}

// probeOwner tells whether owner is dead: its lock file is missing, or it can
// be locked. For a dead owner with a lock file, the file is returned open and
// locked, so that it can be removed safely.
func (q *Queue) probeOwner(owner string) (*os.File, bool, error) {
	p := q.ownerPath(owner)
	f, err := regfile.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, true, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("probe owner %s: %w", p, err)
	}
	err = flock(f, syscall.LOCK_EX|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		_ = f.Close()
		return nil, false, nil
	}
	if err != nil {
		_ = f.Close()
		return nil, false, fmt.Errorf("probe owner %s: %w", p, err)
	}
	return f, true, nil
}

// takeOver re-owns the entries of dead owners, or drops those a crash left
// duplicated in the queue, and writes the in-flight file once.
func (q *Queue) takeOver(t *txn, flight []entry, alive map[string]bool) ([]pipeline.Claimed, error) {
	items, err := t.queue()
	if err != nil {
		return nil, err
	}
	queued := make(map[string]int, len(items))
	marks := make(map[string]bool)
	for _, it := range items {
		queued[string(it)]++
		if !bytes.Contains(it, []byte(requeuedFromKey)) {
			continue
		}
		if v, ok := field(it, requeuedFromKey); ok {
			var claim string
			if json.Unmarshal(v, &claim) == nil {
				marks[claim] = true
			}
		}
	}
	// Identical items held by live owners: a copy a live worker claimed after
	// the dead one's Claim crashed before its queue write.
	liveHeld := make(map[string][]time.Time)
	for _, e := range flight {
		if alive[e.Owner] {
			liveHeld[string(e.Item)] = append(liveHeld[string(e.Item)], e.ClaimedAt)
		}
	}
	var out []pipeline.Claimed
	kept := make([]entry, 0, len(flight))
	dropped := 0
	for _, e := range flight {
		if alive[e.Owner] {
			kept = append(kept, e)
			continue
		}
		key := string(e.Item)
		if marks[e.Claim] || queued[key] > 0 || takeLater(liveHeld, key, e.ClaimedAt) {
			if !marks[e.Claim] && queued[key] > 0 {
				queued[key]--
			}
			dropped++
			q.log.Info("dropped held entry of dead owner: already back in the queue", "claim", e.Claim, "dead_owner", e.Owner)
			continue
		}
		q.log.Info("recovered held entry of dead owner", "claim", e.Claim, "dead_owner", e.Owner)
		e.Owner = q.owner
		kept = append(kept, e)
		out = append(out, pipeline.Claimed{Claim: e.Claim, Raw: bytes.Clone(e.Item), ClaimedAt: e.ClaimedAt})
	}
	if len(out) == 0 && dropped == 0 {
		return nil, nil
	}
	if err := t.setInflight(kept); err != nil {
		return nil, err
	}
	return out, nil
}

// takeLater consumes one time in held[key] not before at.
func takeLater(held map[string][]time.Time, key string, at time.Time) bool {
	ts := held[key]
	for i, t := range ts {
		if !t.Before(at) {
			held[key] = append(ts[:i:i], ts[i+1:]...)
			return true
		}
	}
	return false
}

// sweep removes lock files of dead owners that hold nothing, and temporary
// files crashed writers left behind. Failures are only logged.
func (q *Queue) sweep(owners map[string]bool) {
	des, err := os.ReadDir(q.ownersDir)
	if err != nil {
		q.log.Warn("list owners", "dir", q.ownersDir, "err", err)
		return
	}
	for _, de := range des {
		owner, ok := strings.CutSuffix(de.Name(), ".lock")
		if !ok || owner == q.owner {
			continue
		}
		if _, held := owners[owner]; held {
			continue // handled by Recover itself
		}
		f, isDead, err := q.probeOwner(owner)
		if err != nil || f == nil || !isDead {
			continue
		}
		if same, _ := samePath(f, f.Name()); same {
			_ = os.Remove(f.Name())
		}
		_ = f.Close()
	}
	q.removeLeftoverTemps()
}
