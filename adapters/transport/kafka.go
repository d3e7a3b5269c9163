package transport

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/IBM/sarama"
	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill-kafka/v3/pkg/kafka"
	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/refinery/refinery-worker/pipeline"
)

// KafkaOptions configure the Kafka transport. Brokers is required.
type KafkaOptions struct {
	// Brokers is KAFKA_BROKERS.
	Brokers []string
	// Prefix is TOPIC_PREFIX: topic names are Prefix + logical topic.
	Prefix string
	// Group is the base of the consumer groups: each stage's topic is read by
	// group Group + "." + topic, so stages rebalance independently. Default
	// "refinery-worker".
	Group string
	// NackResendSleep is the wait before a nacked message is delivered again
	// (the partition waits meanwhile). Default 1s.
	NackResendSleep time.Duration
	// Holds are topics whose messages stay this worker's until their result
	// is published (the build stage), through lease records (see the package
	// doc). Slots is how many messages (of different partitions) are taken
	// at once.
	Holds []Hold
	// Consumer names this worker in the lease records; it must differ between
	// live workers. Default <host>-<pid>-<random>.
	Consumer string
	// ClaimIdle is CLAIM_IDLE: the lease of a worker silent this long is
	// adopted and its job re-published. Workers beat every ClaimIdle/3.
	// Default 60s; at least 300ms.
	ClaimIdle time.Duration
	// LeaseTopic is the logical name of the lease topic (under Prefix).
	// Default "worker.leases".
	LeaseTopic string
	// Logger receives the transport's warnings. Default: discard.
	Logger *slog.Logger
}

// Kafka builds the Kafka transport on watermill-kafka (sarama). New groups
// start at the oldest offset; the protocol version stays watermill's 1.0.0
// (with sarama below v1.46.3 a newer version consumes nothing from kfake).
// Messages are committed as they are acked, in order per partition; a stage
// that acks before its work ends (the build stage) is not held: see the
// package doc for what that means after a crash. The returned function
// closes the subscribers and the publisher.
func Kafka(ctx context.Context, opts KafkaOptions) (pipeline.Transport, func() error, error) {
	if len(opts.Brokers) == 0 {
		return pipeline.Transport{}, nil, errors.New("kafka transport: no brokers")
	}
	if opts.Group == "" {
		opts.Group = "refinery-worker"
	}
	if opts.NackResendSleep == 0 {
		opts.NackResendSleep = time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Consumer == "" {
		host, _ := os.Hostname()
		opts.Consumer = fmt.Sprintf("%s-%d-%s", host, os.Getpid(), watermill.NewShortUUID()[:8])
	}
	if opts.ClaimIdle == 0 {
		opts.ClaimIdle = 60 * time.Second
	}
	if opts.ClaimIdle < 300*time.Millisecond {
		return pipeline.Transport{}, nil, fmt.Errorf("kafka transport: claim idle %s is below 300ms", opts.ClaimIdle)
	}
	if opts.LeaseTopic == "" {
		opts.LeaseTopic = "worker.leases"
	}
	for _, h := range opts.Holds {
		if h.Topic == "" || h.Until == "" {
			return pipeline.Transport{}, nil, fmt.Errorf("kafka transport: hold %+v needs a topic and an until topic", h)
		}
	}
	wlog := watermill.NewSlogLogger(opts.Logger)
	pcfg := kafka.DefaultSaramaSyncPublisherConfig()
	pcfg.Producer.RequiredAcks = sarama.WaitForAll
	pub, err := kafka.NewPublisher(kafka.PublisherConfig{Brokers: opts.Brokers, Marshaler: kafka.DefaultMarshaler{},
		OverwriteSaramaConfig: pcfg}, wlog)
	if err != nil {
		return pipeline.Transport{}, nil, fmt.Errorf("kafka transport: publisher: %w", err)
	}
	topics := pipeline.Topics{Prefix: opts.Prefix}
	sub := &kafkaSubscriber{opts: opts, wlog: wlog, topics: topics, holds: newHolds(), log: opts.Logger,
		closing: make(chan struct{})}
	var publisher message.Publisher = pub
	if len(opts.Holds) > 0 {
		sub.leases, err = newLeases(ctx, opts.Brokers, topics.Name(opts.LeaseTopic), opts.Consumer, opts.ClaimIdle,
			pub.Publish, opts.Logger)
		if err != nil {
			_ = pub.Close()
			return pipeline.Transport{}, nil, fmt.Errorf("kafka transport: %w", err)
		}
		until := map[string]bool{}
		for _, h := range opts.Holds {
			until[topics.Name(h.Until)] = true
		}
		publisher = &holdingPublisher{Publisher: pub, until: until, holds: sub.holds}
	}
	closeAll := func() error {
		errs := []error{sub.Close()}
		if err := pub.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close kafka publisher: %w", err))
		}
		return errors.Join(errs...)
	}
	return pipeline.Transport{Publisher: publisher, Subscriber: sub, Topics: topics, Durable: true}, closeAll, nil
}

// SaramaSubscriberConfig is the sarama configuration the transport's
// subscribers use: watermill's defaults (protocol 1.0.0) with new groups
// starting at the oldest offset, and acked offsets committed every 100ms
// instead of every second: a rebalance (a worker joining or leaving)
// delivers what was acked but not yet committed again to the new owner.
// (Committing each message synchronously made kfake 100 times slower.)
func SaramaSubscriberConfig() *sarama.Config {
	c := kafka.DefaultSaramaSubscriberConfig()
	c.Consumer.Offsets.Initial = sarama.OffsetOldest
	c.Consumer.Offsets.AutoCommit.Interval = 100 * time.Millisecond
	return c
}

// kafkaSubscriber opens one watermill-kafka subscriber per topic, each in its
// own consumer group.
type kafkaSubscriber struct {
	opts    KafkaOptions
	wlog    watermill.LoggerAdapter
	topics  pipeline.Topics
	holds   *holds
	leases  *leases // nil without holds
	log     *slog.Logger
	closing chan struct{}

	mu     sync.Mutex
	subs   []*kafka.Subscriber
	closed bool
}

func (s *kafkaSubscriber) Subscribe(ctx context.Context, topic string) (<-chan *message.Message, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errors.New("kafka transport: subscriber closed")
	}
	ks, err := kafka.NewSubscriber(kafka.SubscriberConfig{
		Brokers: s.opts.Brokers, Unmarshaler: kafka.DefaultMarshaler{}, OverwriteSaramaConfig: SaramaSubscriberConfig(),
		ConsumerGroup: s.opts.Group + "." + topic, NackResendSleep: s.opts.NackResendSleep,
	}, s.wlog)
	if err != nil {
		return nil, fmt.Errorf("kafka transport: subscriber for %s: %w", topic, err)
	}
	s.subs = append(s.subs, ks)
	ch, err := ks.Subscribe(ctx, topic)
	if err != nil {
		return nil, fmt.Errorf("kafka transport: subscribe %s: %w", topic, err)
	}
	for _, h := range s.opts.Holds {
		if s.topics.Name(h.Topic) == topic {
			// Slots loops take messages of different partitions at once (a
			// partition's next message comes only after its previous is acked).
			out := make(chan *message.Message)
			var loops sync.WaitGroup
			for range max(1, h.Slots) {
				loops.Add(1)
				go func() {
					defer loops.Done()
					holdLoop(ctx, ch, out, s.topics.Name(h.Until), kafkaHolder{s.leases, topic}, s.holds, s.closing, s.log)
				}()
			}
			go func() { loops.Wait(); close(out) }()
			return out, nil
		}
	}
	return ch, nil
}

func (s *kafkaSubscriber) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.closing)
	subs := s.subs
	s.mu.Unlock()
	if s.leases != nil {
		s.leases.Close()
	}
	var errs []error
	for _, ks := range subs {
		if err := ks.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close kafka subscriber: %w", err))
		}
	}
	return errors.Join(errs...)
}
