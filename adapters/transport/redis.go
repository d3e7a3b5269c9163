package transport

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill-redisstream/pkg/redisstream"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/redis/go-redis/v9"

	"github.com/refinery/refinery-worker/pipeline"
)

// RedisOptions configure the Redis Streams transport. URL is required.
type RedisOptions struct {
	// URL is REDIS_URL. Every publisher and subscriber opens its own client
	// (watermill-redisstream closes the client it is given).
	URL string
	// Prefix is TOPIC_PREFIX: stream names are Prefix + logical topic.
	Prefix string
	// Group is the consumer group each stage's stream is read with (a group
	// is per stream in Redis, so each stage has its own). Default
	// "refinery-worker".
	Group string
	// Consumer names this worker's consumer in every group; it must differ
	// between live workers. Default <host>-<pid>-<random>.
	Consumer string
	// ClaimIdle is CLAIM_IDLE: a pending entry idle this long belongs to a
	// dead worker and is claimed by another. This worker keeps its own
	// entries alive every ClaimIdle/4 (XCLAIM ... JUSTID), so a live worker's
	// messages are never claimed, however long their stage runs. Default 60s;
	// at least 300ms.
	ClaimIdle time.Duration
	// Holds are topics whose messages stay pending until their result is
	// published (the build stage: {TopicJobs, TopicResults, BUILD_CONCURRENCY}).
	Holds []Hold
	// MaxLen trims each stream to about this many entries on publish
	// (approximate, see docs/architecture.md). Default 0: no trimming, so every topic
	// can be replayed from its start.
	MaxLen int64
	// NackResendSleep is the wait before a nacked message is delivered again.
	// Default 1s (redisstream's default resends at once: a hot loop).
	NackResendSleep time.Duration
	// Logger receives the transport's warnings. Default: discard.
	Logger *slog.Logger

	noKeepAlive bool       // tests: show what happens without the keep-alive
	noJobKey    bool       // ... and without the per-job key
	testHook    redis.Hook // tests: on every client (e.g. a worker dying at a chosen command)
}

func (o *RedisOptions) defaults() error {
	if o.URL == "" {
		return errors.New("redis transport: empty URL")
	}
	if o.Group == "" {
		o.Group = "refinery-worker"
	}
	if o.Consumer == "" {
		host, _ := os.Hostname()
		o.Consumer = fmt.Sprintf("%s-%d-%s", host, os.Getpid(), watermill.NewShortUUID()[:8])
	}
	if o.ClaimIdle == 0 {
		o.ClaimIdle = 60 * time.Second
	}
	if o.ClaimIdle < 300*time.Millisecond {
		return fmt.Errorf("redis transport: claim idle %s is below 300ms", o.ClaimIdle)
	}
	if o.NackResendSleep == 0 {
		o.NackResendSleep = time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	for _, h := range o.Holds {
		if h.Topic == "" || h.Until == "" || h.Slots < 1 {
			return fmt.Errorf("redis transport: hold %+v needs a topic, an until topic and at least one slot", h)
		}
	}
	return nil
}

// Redis builds the Redis Streams transport. The returned function closes
// everything (subscribers, publisher, keep-alive); call it after the router
// has stopped.
func Redis(ctx context.Context, opts RedisOptions) (pipeline.Transport, func() error, error) {
	if err := opts.defaults(); err != nil {
		return pipeline.Transport{}, nil, err
	}
	ropts, err := redis.ParseURL(opts.URL)
	if err != nil {
		return pipeline.Transport{}, nil, fmt.Errorf("redis transport: parse URL: %w", err)
	}
	newClient := func() *redis.Client {
		c := redis.NewClient(ropts)
		if opts.testHook != nil {
			c.AddHook(opts.testHook)
		}
		return c
	}
	probe := newClient()
	if err := probe.Ping(ctx).Err(); err != nil {
		_ = probe.Close()
		return pipeline.Transport{}, nil, fmt.Errorf("redis transport: %w", err)
	}
	wlog := watermill.NewSlogLogger(opts.Logger)
	pub, err := redisstream.NewPublisher(redisstream.PublisherConfig{Client: newClient(), DefaultMaxlen: opts.MaxLen}, wlog)
	if err != nil {
		_ = probe.Close()
		return pipeline.Transport{}, nil, fmt.Errorf("redis transport: publisher: %w", err)
	}
	topics := pipeline.Topics{Prefix: opts.Prefix}
	hs := newHolds()
	sub := &redisSubscriber{opts: opts, newClient: newClient, keep: probe, holds: hs, topics: topics,
		log: opts.Logger, wlog: wlog, closing: make(chan struct{}), received: newReceived()}
	until := map[string]bool{}
	for _, h := range opts.Holds {
		until[topics.Name(h.Until)] = true
	}
	if !opts.noKeepAlive {
		sub.wg.Add(1)
		go sub.keepAlive()
	}
	t := pipeline.Transport{
		Publisher:  &holdingPublisher{Publisher: pub, until: until, holds: hs},
		Subscriber: sub,
		Topics:     topics,
		Durable:    true,
	}
	closeAll := func() error {
		errs := []error{sub.Close()}
		if err := pub.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close redis publisher: %w", err))
		}
		return errors.Join(errs...)
	}
	return t, closeAll, nil
}

// redisSubscriber opens one redisstream subscriber (and client) per topic,
// several subscriptions for held topics, and keeps this consumer's pending
// entries alive.
type redisSubscriber struct {
	opts      RedisOptions
	newClient func() *redis.Client
	keep      *redis.Client // keep-alive
	holds     *holds
	topics    pipeline.Topics
	log       *slog.Logger
	wlog      watermill.LoggerAdapter

	received *received // entries received and not acked, kept alive

	mu      sync.Mutex
	subs    []*redisstream.Subscriber
	clients []*redis.Client // of the slot readers
	closed  bool
	closing chan struct{}
	wg      sync.WaitGroup
}

func (s *redisSubscriber) hold(topic string) (Hold, bool) {
	for _, h := range s.opts.Holds {
		if s.topics.Name(h.Topic) == topic {
			return h, true
		}
	}
	return Hold{}, false
}

// Subscribe reads topic in the consumer group, from the stream's start for a
// new group.
func (s *redisSubscriber) Subscribe(ctx context.Context, topic string) (<-chan *message.Message, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errors.New("redis transport: subscriber closed")
	}
	client := s.newClient()
	client.AddHook(s.received.hook())
	h, held := s.hold(topic)
	if held {
		return s.subscribeHeld(ctx, client, topic, h)
	}
	rs, err := redisstream.NewSubscriber(redisstream.SubscriberConfig{
		Client: client, Consumer: s.opts.Consumer, ConsumerGroup: s.opts.Group,
		NackResendSleep: s.opts.NackResendSleep, ClaimInterval: min(5*time.Second, s.opts.ClaimIdle/2),
		MaxIdleTime: s.opts.ClaimIdle, OldestId: "0", DisableIndefiniteInitialBlock: true,
	}, s.wlog)
	if err != nil {
		return nil, fmt.Errorf("redis transport: subscriber for %s: %w", topic, err)
	}
	s.subs = append(s.subs, rs)
	ch, err := rs.Subscribe(ctx, topic)
	if err != nil {
		return nil, fmt.Errorf("redis transport: subscribe %s: %w", topic, err)
	}
	return ch, nil
}

// subscribeHeld reads a held topic with Slots slot readers (see slotReader),
// each feeding a hold loop. Caller holds mu.
func (s *redisSubscriber) subscribeHeld(ctx context.Context, client *redis.Client, topic string, h Hold) (<-chan *message.Message, error) {
	s.clients = append(s.clients, client)
	if err := createGroup(ctx, client, topic, s.opts.Group); err != nil {
		return nil, fmt.Errorf("redis transport: create group on %s: %w", topic, err)
	}
	out := make(chan *message.Message)
	var loops sync.WaitGroup
	for range h.Slots {
		in := make(chan *message.Message)
		s.wg.Add(1)
		go s.slotReader(ctx, client, topic, in)
		loops.Add(1)
		go func() {
			defer loops.Done()
			holdLoop(ctx, in, out, s.topics.Name(h.Until), pendingHolder{s.keep, topic + ":jobs:", s.opts.MaxLen, s.opts.noJobKey},
				s.holds, s.closing, s.log)
		}()
	}
	go func() { loops.Wait(); close(out) }()
	return out, nil
}

// Close stops the keep-alive and closes every subscriber. Held entries stay
// pending: another worker claims them after ClaimIdle.
func (s *redisSubscriber) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.closing)
	subs := s.subs
	s.mu.Unlock()
	s.wg.Wait()
	var errs []error
	for _, rs := range subs {
		if err := rs.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close redis subscriber: %w", err))
		}
	}
	s.mu.Lock()
	clients := s.clients
	s.mu.Unlock()
	for _, c := range clients {
		if err := c.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close redis client: %w", err))
		}
	}
	if err := s.keep.Close(); err != nil {
		errs = append(errs, fmt.Errorf("close redis keep-alive client: %w", err))
	}
	return errors.Join(errs...)
}

// keepAliveScript resets the idle time of the given entries that are still
// pending for this consumer (never one claimed away meanwhile), atomically.
// KEYS: stream. ARGV: group, consumer, count, entry ids. Returns the ids
// refreshed.
var keepAliveScript = redis.NewScript(`
local p = redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', tonumber(ARGV[3]), ARGV[2])
local mine = {}
for _, e in ipairs(p) do mine[e[1]] = true end
local args = {'XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0}
local ids = {}
for i = 4, #ARGV do
  if mine[ARGV[i]] then
    args[#args + 1] = ARGV[i]
    ids[#ids + 1] = ARGV[i]
  end
end
if #ids == 0 then return ids end
args[#args + 1] = 'JUSTID'
redis.call(unpack(args))
return ids
`)

// keepAlive refreshes, every ClaimIdle/4, the entries this process received
// and has not acked, so that no other consumer claims them while it lives.
// Every stream is refreshed in one round trip (a pipeline of scripts): a slow
// reply for one stream never delays the others past ClaimIdle.
func (s *redisSubscriber) keepAlive() {
	defer s.wg.Done()
	every := s.opts.ClaimIdle / 4
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-s.closing:
			return
		case <-t.C:
		}
		s.refresh(every)
	}
}

// refresh runs keepAliveScript for every stream with received entries, in
// one pipeline bounded by timeout, and forgets the entries no longer
// pending for this consumer.
func (s *redisSubscriber) refresh(timeout time.Duration) {
	started := time.Now()
	snap := s.received.snapshot()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	p := s.keep.Pipeline()
	cmds := map[string]*redis.Cmd{}
	for st, ids := range snap {
		if len(ids) == 0 {
			continue
		}
		args := make([]any, 0, 3+len(ids))
		args = append(args, s.opts.Group, s.opts.Consumer, 10000)
		for _, id := range ids {
			args = append(args, id)
		}
		cmds[st] = keepAliveScript.Eval(ctx, p, []string{st}, args...)
	}
	if len(cmds) == 0 {
		return
	}
	_, _ = p.Exec(ctx) // each command's error is looked at below
	for st, cmd := range cmds {
		kept, err := cmd.StringSlice()
		if err != nil && !errors.Is(err, redis.Nil) {
			s.log.Warn("keep pending entries alive", "stream", st, "err", err)
			continue
		}
		set := make(map[string]bool, len(kept))
		for _, id := range kept {
			set[id] = true
		}
		s.received.forget(st, started, set)
	}
}
