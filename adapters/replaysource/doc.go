// Package replaysource holds the broker-specific readers that package
// pipeline/replay uses through its Source interface: RedisSource reads Redis
// streams with XRANGE, KafkaSource reads Kafka partitions outside any
// consumer group. They live among the adapters so that the pipeline core
// imports no broker client library.
package replaysource
