package outbox

// LeaseNotes hears about the outcomes of builds leased from the
// control-plane's build queue.
type LeaseNotes interface {
	// NoteFailure keeps the failure summary and hint ids of a lease that
	// will be retried (its retry status is sent when the requeue settles).
	NoteFailure(claim, summary string, hintIDs []string)
	// Reported says that the final status of a lease is about to be queued:
	// nothing may report it building after that.
	Reported(claim string)
}

// SetLeases sets ReporterOptions.Leases (for wiring where the intake is
// opened after the reporter); call before the first Report.
func (r *Reporter) SetLeases(l LeaseNotes) { r.leases = l }

// LastRunID is the run id of the latest outcome reported ("" before any):
// the run the worker is working on, for the heartbeat.
func (r *Reporter) LastRunID() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.lastRun
}
