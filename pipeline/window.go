package pipeline

// IntakeWindow sizes a drain's window (DrainOptions.Window and Refill) by
// how its intake hands out items.
type IntakeWindow struct {
	// Batch is BATCH_SIZE, Concurrency BUILD_CONCURRENCY.
	Batch, Concurrency int
	// Streaming is an intake that several workers consume at once (Redis,
	// Kafka, the control-plane build queue).
	Streaming bool
	// Leased is the control-plane build queue: a lease is held only while
	// its build runs (or is about to).
	Leased bool
	// Watched is a file queue consumed as items arrive (serve).
	Watched bool
}

// Sizes are the drain's Window and Refill (0: the drainer's defaults).
func (iw IntakeWindow) Sizes() (window, refill int) {
	if iw.Streaming {
		// Enough that claiming and settling overlap the builds, few enough
		// that several workers share the work.
		window = max(16, 4*iw.Concurrency)
	}
	if iw.Leased {
		window = iw.Concurrency
	}
	if iw.Watched {
		// A window of claimed items ahead of the builds, refilled half at
		// a time (each claim rewrites the file).
		window = max(iw.Batch, 2*iw.Concurrency)
		refill = max(1, window/2)
	}
	return window, refill
}

// SettlingOutside says whether an item whose settlement is with the settler
// leaves the window (Tracker.Settling through SettleOnSubmit): on a streaming
// intake that is not leased (Redis, Kafka), whose settle is a cheap call
// that waits for the outcome's fsync. Not a file queue, whose in-flight
// file (rewritten at each claim and settle) would grow with such items, nor
// the control-plane's leases, held only while their builds run.
func (iw IntakeWindow) SettlingOutside() bool {
	return iw.Streaming && !iw.Leased
}

// SettleSpacing is the SettleEvery for an intake: a file queue's settle
// rewrites the in-flight file, so settlements share a write
// DefaultSettleEvery apart at most; a remote intake's is one cheap call,
// and spacing it would put a fixed wait in the path of every item (the
// group commit still batches what arrives during a call).
func SettleSpacing(fileQueue bool) SettlerOption {
	if fileQueue {
		return SettleEvery(DefaultSettleEvery)
	}
	return SettleEvery(0)
}
