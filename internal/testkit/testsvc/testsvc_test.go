package testsvc

import (
	"context"
	"net"
	"testing"
	"time"
)

func TestRedisStartsStopsAndRestarts(t *testing.T) {
	r := StartRedis(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if got, err := r.Do(ctx, "SET", "k", "v"); err != nil || got != "+OK" {
		t.Fatalf("SET = %q, %v", got, err)
	}
	r.Stop()
	if _, err := r.Do(ctx, "PING"); err == nil {
		t.Fatal("PING after Stop succeeded")
	}
	r.Restart()
	if got, err := r.Do(ctx, "EXISTS", "k"); err != nil || got != ":0" {
		t.Fatalf("EXISTS after restart = %q, %v (want an empty server)", got, err)
	}
}

func TestKafkaListensOnLoopback(t *testing.T) {
	k := StartKafka(t, KafkaOptions{Topics: []string{"t"}, Partitions: 2})
	if len(k.Brokers) != 1 {
		t.Fatalf("brokers = %v", k.Brokers)
	}
	c, err := net.DialTimeout("tcp", k.Brokers[0], time.Second)
	if err != nil {
		t.Fatalf("dial broker: %v", err)
	}
	_ = c.Close()
}

func TestRedisAppendOnlyKeepsDataAcrossRestart(t *testing.T) {
	r := StartRedisWith(t, RedisOptions{AppendOnly: true})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if got, err := r.Do(ctx, "SET", "k", "v"); err != nil || got != "+OK" {
		t.Fatalf("SET = %q, %v", got, err)
	}
	r.Restart()
	if got, err := r.Do(ctx, "EXISTS", "k"); err != nil || got != ":1" {
		t.Fatalf("EXISTS after restart = %q, %v", got, err)
	}
}
