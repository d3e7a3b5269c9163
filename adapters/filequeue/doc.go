// Package filequeue is the file intake: it drains the control-plane's file
// queue (docs/control-plane.md, queue items) and implements [pipeline.Intake].
//
// # Files
//
// Next to QUEUE_FILE (say q.json) the package keeps:
//
//   - q.json: the control-plane's queue, one JSON array, 2-space indented,
//     head first. Items are arbitrary JSON values; they are handed out as they
//     are (compacted: insignificant whitespace removed, every token kept byte
//     for byte), hostile ones included. A missing file is an empty queue.
//   - q.json.inflight.json: the held items, a JSON array of
//     {"claim","owner","claimed_at","item"}, one entry per line.
//   - q.json.owners/<owner>.lock: one file per live [Queue], flock'ed for the
//     life of the instance. The kernel drops that lock when the process dies
//     (even by SIGKILL), which is how [Queue.Recover] tells a dead owner.
//   - q.json.owners/<owner>.reserve: items the instance moved from the head
//     of the queue in a batch (1/16 of the queue, at most 4,096 items / 4
//     MiB) and hands out claim by claim, so that a claim does not rewrite the
//     queue file. Return, Close and Recover (of a dead owner) put what is
//     left of it back at the head of the queue; Depth and the MaxBytes bound
//     of Enqueue count it. Its format, the write order and why a crash at
//     any step loses and duplicates nothing: docs/filequeue.md.
//
// # Locking
//
// Every change happens under flock(LOCK_EX) on the queue file itself, as the
// contract asks. Writes replace files by rename, so after locking, the locker
// checks that the path still names the inode it locked, and retries if not.
// A writer locks the new inode before renaming it into place and keeps every
// lock until its whole change (queue and in-flight file) is written: a second
// process can therefore never slip in between the two writes of one change.
// Waiting for the lock polls with a short backoff and honours the context and
// [Options.LockTimeout].
//
// The reference control-plane does not lock and rewrites the file in place:
// a read that does not parse is retried ([Options.ParseRetries]); a queue that
// stays unparseable is an error naming the file, and is never rewritten. A
// control-plane write that races one of ours can still lose one side's change
// (its read-modify-write is not under our lock); nothing here can prevent that.
//
// # Crash windows
//
// Claim writes the in-flight file first, then the reserve's counter (a
// refill of the reserve from the queue is decided by one temp file's rename:
// docs/filequeue.md), or, from a short queue with the reserve empty, the
// in-flight file first, then the queue (direct.go); Settle (requeue, return)
// writes the queue first, then the in-flight file. A crash between the two
// writes leaves an item both queued (or reserved: Recover first puts a dead
// owner's reserve back in the queue) and held; Recover drops such a held
// entry when the queue holds an identical item (same compact bytes), an item
// marked "x_refinery_requeued_from": <claim>, or another live owner holds an
// identical item claimed later. Otherwise it re-owns the entry under the same
// claim and hands it out again. So a crash duplicates at worst, never loses.
// The price: if a dead owner held an item that the queue also holds as an
// exact, independent copy, the held copy is dropped (the queued one remains).
//
// # Liveness
//
// An owner is dead when its lock file is missing or can be locked. Close
// removes the lock file and keeps the instance's held items in the in-flight
// file: any other instance's Recover takes them over. Every operation checks
// that the instance's own lock file still exists (a /tmp cleaner may remove
// it) and re-creates it if not. Nothing is recovered until some instance calls
// Recover: a worker calls it at start and then from time to time (every
// drain). A hung but living process keeps its items and its reserve.
//
// # Retries
//
// Settle is safe to retry with the same batch: claims settled lately by the
// instance are skipped, and a requeue that already reached the queue is not
// appended twice. Claims that can never apply come back in a [*SettleError].
//
// flock is advisory and local: every writer must take it (the reference
// control-plane does not, see above), and the files must not live on NFS.
package filequeue
