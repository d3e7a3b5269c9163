package redisqueue

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/refinery/refinery-worker/internal/testkit/testsvc"
	"github.com/refinery/refinery-worker/pipeline"
)

type env struct {
	srv *testsvc.Redis
	rdb *redis.Client // the control-plane's side: plain commands
	key string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	srv := testsvc.StartRedis(t)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr})
	t.Cleanup(func() { _ = rdb.Close() })
	return &env{srv: srv, rdb: rdb, key: "refinery:queue"}
}

func (e *env) open(t *testing.T, opts Options) *Queue {
	t.Helper()
	opts.URL = e.srv.URL
	if opts.Key == "" {
		opts.Key = e.key
	}
	if opts.Block == 0 {
		opts.Block = -1
	}
	q, err := Open(ctx(t), opts)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { _ = q.Close() })
	return q
}

func (e *env) push(t *testing.T, items ...string) {
	t.Helper()
	args := make([]any, len(items))
	for i, it := range items {
		args[i] = it
	}
	if err := e.rdb.RPush(ctx(t), e.key, args...).Err(); err != nil {
		t.Fatalf("rpush: %v", err)
	}
}

func (e *env) list(t *testing.T, key string) []string {
	t.Helper()
	l, err := e.rdb.LRange(ctx(t), key, 0, -1).Result()
	if err != nil {
		t.Fatalf("lrange %s: %v", key, err)
	}
	return l
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return c
}

func raws(cs []pipeline.Claimed) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = string(c.Raw)
	}
	return out
}

func claims(cs []pipeline.Claimed) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Claim
	}
	return out
}
