// Package redisqueue is the Redis intake: it consumes the control-plane's
// retry queue, a Redis list filled with `RPUSH key <compact JSON>`
// (docs/control-plane.md, queue items), and implements [pipeline.Intake].
//
// # Keys
//
// For the list at K (REDIS_KEY, default refinery:queue) the package uses:
//
//   - K: the control-plane's list, head first. Never rewritten, only popped
//     from the head (LMOVE/BLMOVE), and pushed to: at the tail for a requeue
//     that is due, at the head for a Return.
//   - K:proc:<owner>: the processing list of one worker instance; items move
//     into it atomically with BLMOVE/LMOVE (the reliable-queue pattern), so an
//     item is always in K, in a processing list, or in K:delayed.
//   - K:held:<owner>: hash claim → item bytes, the claims the owner holds.
//   - K:claims: hash claim → owner, so that any instance can settle any claim
//     (on a durable transport the requeue stage may run on another worker).
//   - K:seq: counter the claim ids ("r<n>") are drawn from.
//   - K:alive:<owner>: liveness key, refreshed every TTL/3 while the instance
//     is open; it expires TTL after the process dies.
//   - K:owners: set of the owners that may hold items.
//   - K:delayed: sorted set of requeued items whose not_before (Unix seconds)
//     is in the future, scored by not_before; members are "<claim>|<item>"
//     so that identical items never collapse. Due members go to the tail of K
//     at the next Claim of any instance. The control-plane's LLEN does not
//     count them (see [Queue.Depth]).
//
// Every change of more than one key runs as one Lua script, so it is atomic
// with respect to other workers. Keys are derived from K: use a standalone
// Redis (or keep them in one slot with a hash tag in REDIS_KEY, e.g.
// "{refinery}:queue").
//
// # Claims
//
// Claim first runs a script that promotes due delayed items and moves up to
// max items into the processing list, registering a claim for each. When the
// list is empty it waits with BLMOVE for at most [Options.Block] and
// registers what arrived. A crash between BLMOVE and that registration leaves
// an item in the processing list without a claim; recovery gives it a new one.
//
// Items are handed out byte for byte when they are valid JSON. An item that
// is not JSON is handed out as a JSON string holding its bytes (the dequeue
// stage rejects it with a reason; the Work carrying it must be JSON); Return
// puts the original bytes back. An item whose numeric not_before is in the
// future (pushed by someone else) is moved to K:delayed instead of being
// handed out. Nothing is dropped.
//
// # Liveness and recovery
//
// Recover looks at every owner in K:owners whose liveness key is gone and, in
// one script, takes its processing list and claims over: the items keep their
// claims (items without one get a new claim), move to the caller's processing
// list in order, and are returned. Whichever instance runs Recover first gets
// them; the others find nothing. Close deletes the liveness key at once, so
// peers recover a closed instance's items without waiting for the TTL.
//
// A worker that loses Redis for longer than the TTL may find its items taken
// over by a peer: both may then process an item (a duplicate, recognised by
// its key downstream); a settlement of a claim now held by the peer still
// applies (claims are settled wherever they are), and is idempotent: a claim
// that is no longer known is skipped.
//
// # Outages
//
// Every method returns the Redis error, wrapped. go-redis reconnects on the
// next command; callers retry with their own backoff (the drainer fails the
// drain, the settler backs off). The liveness refresher logs failures and
// tries again on its next tick; it never loops tightly.
package redisqueue
