package transport

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
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
	wlog := watermill.NewSlogLogger(opts.Logger)
	pcfg := kafka.DefaultSaramaSyncPublisherConfig()
	pcfg.Producer.RequiredAcks = sarama.WaitForAll
	pub, err := kafka.NewPublisher(kafka.PublisherConfig{Brokers: opts.Brokers, Marshaler: kafka.DefaultMarshaler{},
		OverwriteSaramaConfig: pcfg}, wlog)
	if err != nil {
		return pipeline.Transport{}, nil, fmt.Errorf("kafka transport: publisher: %w", err)
	}
	sub := &kafkaSubscriber{opts: opts, wlog: wlog}
	closeAll := func() error {
		errs := []error{sub.Close()}
		if err := pub.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close kafka publisher: %w", err))
		}
		return errors.Join(errs...)
	}
	return pipeline.Transport{Publisher: pub, Subscriber: sub, Topics: pipeline.Topics{Prefix: opts.Prefix}, Durable: true},
		closeAll, nil
}

// SaramaSubscriberConfig is the sarama configuration the transport's
// subscribers use: watermill's defaults (protocol 1.0.0) with new groups
// starting at the oldest offset.
func SaramaSubscriberConfig() *sarama.Config {
	c := kafka.DefaultSaramaSubscriberConfig()
	c.Consumer.Offsets.Initial = sarama.OffsetOldest
	return c
}

// kafkaSubscriber opens one watermill-kafka subscriber per topic, each in its
// own consumer group.
type kafkaSubscriber struct {
	opts KafkaOptions
	wlog watermill.LoggerAdapter

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
	return ch, nil
}

func (s *kafkaSubscriber) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	subs := s.subs
	s.mu.Unlock()
	var errs []error
	for _, ks := range subs {
		if err := ks.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close kafka subscriber: %w", err))
		}
	}
	return errors.Join(errs...)
}
