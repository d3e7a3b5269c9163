package pipeline

import (
	"context"
	"time"
)

// Claimed is one raw item an intake handed out and now holds for this worker.
type Claimed struct {
	// Claim identifies the hold; it is stable across a redelivery of the same
	// held item (a recovered lease keeps its claim), so an outcome already
	// recorded for it is recognised.
	Claim     string
	Raw       []byte
	ClaimedAt time.Time
}

// SettleKind says how a held item ends.
type SettleKind int

const (
	// Release removes the item: its outcome is recorded.
	Release SettleKind = iota
	// Requeue replaces the item with Settlement.Item (attempts+1, not_before).
	Requeue
	// Return puts the original item back at the head of the queue unchanged
	// (shutdown before the item finished: no attempt is counted).
	Return
	// Done asks nothing of the intake (the item was released when it was
	// stored in a durable transport); only the outcome is passed on.
	Done
)

// Settlement ends the hold on one claimed item.
type Settlement struct {
	Claim string
	Kind  SettleKind
	Item  []byte // the new item, for Requeue
}

// Intake is a source of queue items that holds what it hands out until the
// worker settles it (docs/architecture.md, invariant 1: no item is lost).
type Intake interface {
	// Claim takes up to max ready items (not_before passed), in queue order.
	// It returns at once with what there is, possibly nothing.
	Claim(ctx context.Context, max int) ([]Claimed, error)
	// Recover takes over the items held by workers that are gone, keeping
	// their claims, and returns them.
	Recover(ctx context.Context) ([]Claimed, error)
	// Settle applies settlements atomically with respect to other workers.
	Settle(ctx context.Context, s []Settlement) error
	// Ready says whether the intake can be read and written.
	Ready(ctx context.Context) error
	// Close gives up this worker's liveness; held items stay recoverable.
	Close() error
}
