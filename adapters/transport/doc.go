// Package transport builds the durable transports between the pipeline's
// stages: Redis Streams (watermill-redisstream) and Kafka (watermill-kafka/v3),
// each as a [pipeline.Transport] whose topics are Prefix + logical name.
//
// # Redis Streams
//
// Each stage's stream is read in consumer group Group (groups are per stream
// in Redis, so every stage has its own); new groups start at the stream's
// first entry. Each worker is one consumer (Consumer, unique per process).
// Every subscriber and the publisher get their own client, because
// watermill-redisstream closes the client it is given.
//
// redisstream re-claims, for another consumer, an entry pending longer than
// its MaxIdleTime. Here MaxIdleTime is ClaimIdle (CLAIM_IDLE) and a
// keep-alive resets, every ClaimIdle/4, the idle time of the entries this
// process received and has not acked (a go-redis hook on each subscriber's
// client records the ids of XREADGROUP and XCLAIM replies and drops acked
// ones; one Lua script per stream, all streams in one pipelined round trip,
// re-claims those still pending for this consumer with XCLAIM ... JUSTID,
// which neither re-delivers nor counts a delivery). An entry the server handed out but whose reply never arrived
// (a connection cut mid-read) is therefore not kept alive and is claimed
// after ClaimIdle: the Redis outage test lost one such entry when every
// pending entry of the consumer was kept alive. So:
//   - while a worker lives, no entry it holds is claimed by another, however
//     long its stage runs;
//   - when it dies, its entries are claimed after ClaimIdle by a live
//     worker's redisstream claim loop and processed there.
//
// A [Hold] keeps the entries of one topic pending past the stage's ack: the
// build stage acks its message at once and builds in the background, so the
// transport hands the stage a copy, and acks the entry (XACK) only when the
// result with the same correlation id is published to the Until topic
// through this transport's publisher. A held topic is not read by
// redisstream (which reads one entry ahead of its handler, so a busy worker
// would sit on a job an idle one could start): Slots slot readers each take
// one entry only when their slot is free, first claiming (XAUTOCLAIM) an
// entry idle for ClaimIdle, else reading a new one (XREADGROUP, blocking at
// most a second). A held entry whose result is never published while the
// worker lives (a build stopped by shutdown) stays pending and is claimed by
// another worker ClaimIdle after this one closed.
//
// A key per job, "<jobs stream>:jobs:<correlation id>" (24 h), holds the id
// of the first message that took the job, then "done": a later message of
// the same job (an upstream stage that ran twice after a worker died) is
// acked and skipped, while a redelivery of the same message (its holder
// died) is taken. The result's XADD and the key's "done" go in one
// MULTI/EXEC: a worker killed between two separate commands would leave the
// result published and the job still owned by its message, and the worker
// claiming that message would build the job again. The held entry is acked
// after that transaction; a worker that dies before the ack leaves an entry
// whose claimer finds the job done and skips it. So a job is built once per
// correlation id on Redis too.
//
// Nacked messages are re-sent after NackResendSleep (1 s by default, not at
// once as redisstream's default does).
//
// # Kafka
//
// Each stage's topic is read in its own consumer group (Group + "." +
// topic), starting at the oldest offset for a new group, with watermill's
// sarama defaults (protocol 1.0.0: with sarama below v1.46.3 and a protocol
// of 2.4 or newer, group consumption gets nothing from kfake). Offsets are
// committed as messages are acked, in order per partition.
//
// A [Hold] on Kafka never holds the partition. Before a job message is
// committed, a "take" record (the whole message) is written to the lease
// topic (Prefix + LeaseTopic, created "compact,delete" with a week's
// retention when possible), keyed "job/<correlation id>", and read back: the
// records of one job share a key, hence a partition, hence one order that
// every worker sees, and in that order only the first take of a job wins. A
// losing take (a redelivery after a rebalance, or an upstream stage that ran
// twice) is acked and skipped: a job is built once per correlation id.
// Publishing the result writes "done"; a stage that gives the message back
// (nack) writes "drop", so its redelivery can take the job again.
//
// Every worker beats ("beat/<owner>") every ClaimIdle/3 and follows the whole
// lease topic. When a job's owner has been silent for ClaimIdle, workers
// write "adopt"; the first adopt wins, and its writer re-publishes the job
// marked as a hand-off (metadata lease_handoff), whose take then wins. A
// killed worker's builds are thus built again elsewhere about ClaimIdle after
// its last beat, and a live worker's never are.
//
// Known windows (duplicates, never losses): death between publishing a result
// and writing "done"; clocks of different hosts that disagree by more than
// ClaimIdle/3; a worker judged dead while alive (its late "done" still ends
// the job). Done jobs are remembered for 24 hours; a replay therefore gives
// replayed messages new correlation ids (package pipeline/replay does).
package transport
