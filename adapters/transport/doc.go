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
// keep-alive resets, every ClaimIdle/3, the idle time of every entry pending
// for this consumer (one Lua script per stream: XPENDING for the consumer,
// then XCLAIM to the same consumer with JUSTID, which neither re-delivers nor
// counts a delivery). So:
//   - while a worker lives, no entry it holds is claimed by another, however
//     long its stage runs;
//   - when it dies, its entries are claimed after ClaimIdle by a live
//     worker's redisstream claim loop and processed there.
//
// A [Hold] keeps the entries of one topic pending past the stage's ack: the
// build stage acks its message at once and builds in the background, so the
// transport hands the stage a copy, and acks the entry (XACK) only when the
// result with the same correlation id is published to the Until topic
// through this transport's publisher. Slots subscriptions read the held
// topic, so up to Slots entries are held at once. A held entry whose result
// is never published while the worker lives (a build stopped by shutdown)
// stays pending and is claimed by another worker ClaimIdle after this one
// closed. Known window: a worker that dies after publishing a result and
// before the XACK has its job built again elsewhere.
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
// committed as messages are acked, in order per partition; the build stage
// acks at once, so a partition is never held for a build. The consequence:
// a job whose worker dies mid-build is not redelivered by the jobs topic.
// Holds are not offered on Kafka (they would hold the partition); the item
// is still not lost while the intake item is settled only at the end of the
// pipeline (the intake redelivers it), but it is once intake items are
// released as soon as they reach the intake topic. See the report of issue 5.
package transport
