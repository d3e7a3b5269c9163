package replaysource

import (
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/refinery/refinery-worker/pipeline/replay"
)

// Open returns the source of a durable transport's topics ("redis" reads
// redisURL, "kafka" the brokers) and its close.
func Open(transport, redisURL string, brokers []string) (replay.Source, func() error, error) {
	switch transport {
	case "redis":
		opts, err := redis.ParseURL(redisURL)
		if err != nil {
			return nil, nil, fmt.Errorf("REDIS_URL: %w", err)
		}
		client := redis.NewClient(opts)
		return RedisSource{Client: client}, client.Close, nil
	case "kafka":
		return KafkaSource{Brokers: brokers}, noClose, nil
	}
	return nil, nil, fmt.Errorf("transport %q keeps no topic to re-read", transport)
}

func noClose() error { return nil }
