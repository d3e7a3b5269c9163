package pipeline

import (
	"context"
	"log/slog"
)

// SettleObserver counts settled items (the metrics).
type SettleObserver interface {
	Settled(s Summary)
}

// Outcomes is what follows the end of an item's hold, once the intake's
// write of it is durable: its key is free for another build, its drain
// counts it, the observer counts it and the log has a line for it.
type Outcomes struct {
	Keys     *KeySet
	Tracker  *Tracker
	Observer SettleObserver
	Logger   *slog.Logger
}

// Settled is the Settler's onSettled.
func (o *Outcomes) Settled(s Summary) {
	o.Keys.Release(s.Key, s.CorrelationID)
	o.Tracker.Settled(s)
	o.Observer.Settled(s)
	if !o.Logger.Enabled(context.Background(), slog.LevelInfo) {
		return // the arguments below allocate; one call per item
	}
	o.Logger.Info("outcome", "status", s.Status, "name", s.Name, "version", s.Version, "claim", s.Claim,
		"correlation_id", s.CorrelationID, "requeued", s.Requeued, "detail", s.Detail)
}

// submitter takes settlements (the Settler).
type submitter interface {
	Submit(s Settlement, sum Summary)
}

// PublishRelease releases an intake item as soon as a durable transport has
// stored it (the transport keeps it from there); the drain counts it as
// published.
type PublishRelease struct {
	Settler submitter
}

// Release is the drainer's DrainOptions.Release.
func (r PublishRelease) Release(c Claimed) {
	r.Settler.Submit(Settlement{Claim: c.Claim, Kind: Release}, Summary{Claim: c.Claim, Status: StatusPublished})
}

// Journal is the outcome journal as recovery sees it.
type Journal interface {
	// Refresh reads what other processes appended.
	Refresh() (int, error)
	// Learn records the claims of items a rebalance moved to this worker.
	Learn() error
}

// RecoverRefresh brings the journal up to date before held items are
// recovered, so a redelivered item with a recorded outcome is recognised.
type RecoverRefresh struct {
	Journal Journal
	// Learn is set for a streaming intake, whose rebalances move items
	// between workers.
	Learn bool
}

// Refresh is the drainer's DrainOptions.BeforeRecovered.
func (r RecoverRefresh) Refresh() error {
	if _, err := r.Journal.Refresh(); err != nil {
		return err
	}
	if r.Learn {
		return r.Journal.Learn()
	}
	return nil
}
