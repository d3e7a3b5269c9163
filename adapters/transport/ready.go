package transport

import (
	"context"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"
	"github.com/twmb/franz-go/pkg/kgo"
)

// RedisReady returns a check for /ready that pings the transport's Redis on
// its own client, and the function that closes that client.
func RedisReady(url string) (check func(context.Context) error, closeFn func() error, err error) {
	ropts, err := redis.ParseURL(url)
	if err != nil {
		return nil, nil, fmt.Errorf("redis transport: parse URL: %w", err)
	}
	c := redis.NewClient(ropts)
	return func(ctx context.Context) error {
		if err := c.Ping(ctx).Err(); err != nil {
			return fmt.Errorf("redis transport: %w", err)
		}
		return nil
	}, c.Close, nil
}

// KafkaReady returns a check for /ready that reaches a broker of the
// transport, and the function that closes its client.
func KafkaReady(brokers []string) (check func(context.Context) error, closeFn func() error, err error) {
	if len(brokers) == 0 {
		return nil, nil, errors.New("kafka transport: no brokers")
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		return nil, nil, fmt.Errorf("kafka transport: %w", err)
	}
	return func(ctx context.Context) error {
		if err := cl.Ping(ctx); err != nil {
			return fmt.Errorf("kafka transport: %w", err)
		}
		return nil
	}, func() error { cl.Close(); return nil }, nil
}
