package controlplane

import (
	"context"
	"encoding/json"
	"strconv"
	"time"

	"github.com/refinery/refinery-worker/pipeline"
)

// LeaseField is the queue item field the build-queue intake adds to each item
// it leased (its value is a Lease). Reporters send POST /api/builds/status
// only for items carrying it: a status for a build the control-plane did not
// lease corrupts its build table.
const LeaseField = "x_refinery_lease"

// Lease is the value of LeaseField.
type Lease struct {
	// Attempts is the row's attempts after the pop (the pop increments it).
	Attempts int      `json:"attempts"`
	HintIDs  []string `json:"hint_ids,omitempty"`
	LeasedAt int64    `json:"leased_at"`
}

// LeaseOf returns the lease of a queue item, if it has one.
func LeaseOf(it pipeline.Item) (Lease, bool) {
	raw, ok := it.Extra[LeaseField]
	if !ok {
		return Lease{}, false
	}
	var l Lease
	_ = json.Unmarshal(raw, &l)
	return l, true
}

// wait records a lease whose build has not started yet.
func (in *Intake) wait(claim string, it pipeline.Item, leasedAt time.Time) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if !in.building[claim] {
		in.waiting[claim] = waitingLease{item: it, leasedAt: leasedAt}
	}
}

// markBuilding reports "building" for a lease once: when its build starts,
// or earlier when the keeper renews a lease that waits too long (renew: only
// while it still waits). The status is queued under the lock, so it is
// queued before any final status of the lease (Reported and Settle take the
// lock first).
func (in *Intake) markBuilding(ctx context.Context, claim string, it pipeline.Item, lease Lease, recipes []string, renew bool) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if _, waiting := in.waiting[claim]; (renew && !waiting) || in.building[claim] {
		return
	}
	if renew {
		in.log.Info("controlplane intake: lease waited half its timeout for a build slot; reporting it building",
			"package", it.Package, "claim", claim)
	}
	delete(in.waiting, claim)
	if len(recipes) == 0 {
		recipes = it.Recipes
	}
	st := BuildStatus{Package: it.Package, Version: it.Version, Status: "building", Attempts: lease.Attempts, Recipes: recipes}
	if err := in.opts.Statuses.ReportBuildStatus(ctx, claim, "building-"+claim+"-"+strconv.Itoa(lease.Attempts), st); err != nil {
		in.log.Warn("controlplane intake: cannot queue the building status", "package", it.Package, "err", err)
		return
	}
	in.building[claim] = true
}

// Reported marks a lease whose final status is being queued (outbox
// Reporter): it is never reported building after that.
func (in *Intake) Reported(claim string) {
	in.mu.Lock()
	defer in.mu.Unlock()
	delete(in.waiting, claim)
	in.building[claim] = true
}

// NoteFailure keeps the failure summary and hint ids of a leased build that
// will be retried, for the retry status Settle sends (outbox Reporter's
// OnRetry).
func (in *Intake) NoteFailure(claim, summary string, hintIDs []string) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.failures[claim] = failureNote{summary: summary, hints: hintIDs}
}

// forget drops what the intake keeps in memory about a settled lease and
// returns its failure note.
func (in *Intake) forget(claim string) failureNote {
	in.mu.Lock()
	defer in.mu.Unlock()
	note := in.failures[claim]
	delete(in.failures, claim)
	delete(in.waiting, claim)
	delete(in.building, claim)
	return note
}

// keep renews, every tenth of the lease timeout, the leases whose build has
// waited half of it without starting, until ctx ends.
func (in *Intake) keep(ctx context.Context) {
	defer close(in.done)
	half := in.opts.LeaseTimeout / 2
	t := time.NewTicker(max(in.opts.LeaseTimeout/10, 10*time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := time.Now()
		type due struct {
			claim string
			item  pipeline.Item
		}
		var todo []due
		in.mu.Lock()
		for claim, wl := range in.waiting {
			if now.Sub(wl.leasedAt) >= half {
				todo = append(todo, due{claim, wl.item})
			}
		}
		in.mu.Unlock()
		for _, d := range todo {
			lease, _ := LeaseOf(d.item)
			in.markBuilding(ctx, d.claim, d.item, lease, nil, true)
		}
	}
}
