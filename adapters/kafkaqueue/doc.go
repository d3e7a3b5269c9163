// Package kafkaqueue is the Kafka intake: it consumes the control-plane's
// retry queue, one JSON value per record with no key and no headers
// (docs/control-plane.md, queue items), and implements [pipeline.Intake].
//
// The client is franz-go (kgo): it is well kept, its in-process test cluster
// (kfake) ships with it, and it gives direct control of group commits, which
// an intake that commits only settled offsets needs. (watermill-kafka, used
// for the stage transport, commits as each message is acked in order, which
// cannot express "settled out of order".)
//
// # Offsets
//
// The instance joins consumer group KAFKA_GROUP and, for a group without a
// committed offset, starts at the oldest record. Offsets are committed only
// for settled records: per partition it tracks the claimed, unsettled
// offsets and commits the lowest of them (or one past the highest claimed,
// when none is unsettled). Settle commits synchronously, so a Settle that
// returns nil is durable. A crash therefore loses nothing; it can deliver a
// record again that was settled after an unsettled one of the same
// partition (a duplicate, recognised by its key downstream).
//
// # Claims
//
// A claim is "topic/partition/offset": stable across a redelivery of the same
// record. Values are handed out byte for byte when they are JSON, else as a
// JSON string of their bytes (the dequeue stage rejects them with a reason).
//
// # Settlements
//
//   - Release marks the record settled.
//   - Requeue produces the new item (a plain JSON value, no key) to the topic,
//     then marks the old record settled. If the produce fails, nothing is
//     marked and Settle returns the error.
//   - Return keeps the record unsettled (its offset is not committed) and hands
//     it out again, first, at this instance's next Claim. If the instance
//     closes first, the record is delivered again after a restart or a
//     rebalance, to whichever member then owns the partition.
//
// A record whose numeric not_before is in the future is held in memory by the
// instance that polled it (its offset stays uncommitted) and handed out by
// Claim once due. Holding blocks commits of its partition meanwhile; after a
// crash, records after it may be delivered again.
//
// # Rebalances
//
// A rebalance the group wants waits (kgo's BlockRebalanceOnPoll) until the
// records this instance claimed are settled, at most RebalanceGrace: a
// worker that releases items as soon as they are stored further on (a
// durable transport) thus hands nothing out twice when members come and go.
// When partitions are then revoked, the instance commits what is settled on
// them and forgets their records; a later Settle of such a claim is skipped
// (the new owner is delivered the record again). Recover returns nothing: Kafka
// redelivers a dead member's uncommitted records to the surviving members by
// itself, after its session times out.
//
// # Outages
//
// kgo reconnects with its own backoff. Claim returns poll errors (wrapped),
// Settle returns commit and produce errors, Ready pings a broker.
package kafkaqueue
