package redisqueue

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/refinery/refinery-worker/pipeline"
)

// Options configure a [Queue]. URL is required.
type Options struct {
	// URL is REDIS_URL (redis:// or rediss://). The Queue opens its own
	// client and closes it in Close.
	URL string
	// Key is REDIS_KEY, the control-plane's list. Default "refinery:queue".
	Key string
	// Owner names this worker (WORKER_ID); the owner id of a Queue is
	// Owner-<pid>-<random>. Default: the host name.
	Owner string
	// TTL is the life of the liveness key; it is refreshed every TTL/3, and a
	// dead worker's items are recoverable TTL after it stopped refreshing.
	// Default 15s; at least 300ms.
	TTL time.Duration
	// Block is how long Claim waits (BLMOVE) when the list is empty. Default
	// 1s; negative means Claim never blocks. go-redis sends whole seconds:
	// shorter waits are raised to 1s.
	Block time.Duration
	// Logger receives warnings (refresh failures, recoveries). Default: discard.
	Logger *slog.Logger
	// Now is the clock for not_before and claimed_at. Default time.Now.
	Now func() time.Time
}

// Queue is the Redis intake. Its methods are safe for concurrent use, within
// the process and across processes sharing the list.
type Queue struct {
	opts   Options
	client *redis.Client
	log    *slog.Logger
	owner  string

	key, proc, held, claims, seq, delayed, alive, owners string

	stop      chan struct{}
	refreshed chan struct{} // closed by the refresher when it ends
	closeOnce sync.Once
}

var _ pipeline.Intake = (*Queue)(nil)

// ErrClosed is returned by the methods of a closed Queue.
var ErrClosed = errors.New("redis queue closed")

// Open connects to Redis, registers this instance as a live owner and starts
// refreshing its liveness key. It fails when Redis cannot be reached.
func Open(ctx context.Context, opts Options) (*Queue, error) {
	if opts.URL == "" {
		return nil, errors.New("open redis queue: empty URL")
	}
	ropts, err := redis.ParseURL(opts.URL)
	if err != nil {
		return nil, fmt.Errorf("open redis queue: parse URL: %w", err)
	}
	if opts.Key == "" {
		opts.Key = "refinery:queue"
	}
	if opts.TTL == 0 {
		opts.TTL = 15 * time.Second
	}
	if opts.TTL < 300*time.Millisecond {
		return nil, fmt.Errorf("open redis queue: TTL %s is below 300ms", opts.TTL)
	}
	if opts.Block >= 0 {
		opts.Block = max(opts.Block.Round(time.Second), time.Second)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Owner == "" {
		opts.Owner, _ = os.Hostname()
	}
	owner := fmt.Sprintf("%s-%d-%s", sanitize(opts.Owner), os.Getpid(), randHex(4))
	k := opts.Key
	q := &Queue{
		opts: opts, client: redis.NewClient(ropts), owner: owner,
		log: opts.Logger.With("queue", k, "owner", owner),
		key: k, proc: k + ":proc:" + owner, held: k + ":held:" + owner, claims: k + ":claims",
		seq: k + ":seq", delayed: k + ":delayed", alive: k + ":alive:" + owner, owners: k + ":owners",
		stop: make(chan struct{}), refreshed: make(chan struct{}),
	}
	if err := q.beat(ctx); err != nil {
		_ = q.client.Close()
		return nil, fmt.Errorf("open redis queue %s: %w", k, err)
	}
	go q.refresh()
	return q, nil
}

// Owner is this instance's owner id.
func (q *Queue) Owner() string { return q.owner }

// beat sets the liveness key and (re-)registers the owner.
func (q *Queue) beat(ctx context.Context) error {
	_, err := q.client.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, q.alive, time.Now().UTC().Format(time.RFC3339), q.opts.TTL)
		p.SAdd(ctx, q.owners, q.owner)
		return nil
	})
	if err != nil {
		return fmt.Errorf("refresh liveness %s: %w", q.alive, err)
	}
	return nil
}

func (q *Queue) refresh() {
	defer close(q.refreshed)
	t := time.NewTicker(q.opts.TTL / 3)
	defer t.Stop()
	for {
		select {
		case <-q.stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), q.opts.TTL/3)
		if err := q.beat(ctx); err != nil {
			q.log.Warn("redis queue liveness not refreshed", "err", err)
		}
		cancel()
	}
}

// Close stops the liveness refresher and deletes the liveness key, so that
// peers recover the held items at once; it closes the client. Held items
// stay in Redis.
func (q *Queue) Close() error {
	var err error
	q.closeOnce.Do(func() {
		close(q.stop)
		<-q.refreshed
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if derr := q.client.Del(ctx, q.alive).Err(); derr != nil {
			err = fmt.Errorf("close redis queue: drop liveness: %w", derr)
		}
		if cerr := q.client.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close redis queue: %w", cerr)
		}
	})
	return err
}

func (q *Queue) closed() bool {
	select {
	case <-q.stop:
		return true
	default:
		return false
	}
}

// Ready pings Redis.
func (q *Queue) Ready(ctx context.Context) error {
	if q.closed() {
		return ErrClosed
	}
	if err := q.client.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redis queue %s: %w", q.key, err)
	}
	return nil
}

// Depth counts the items waiting: ready in the list and delayed.
func (q *Queue) Depth(ctx context.Context) (ready, delayed int64, err error) {
	p := q.client.Pipeline()
	l := p.LLen(ctx, q.key)
	z := p.ZCard(ctx, q.delayed)
	if _, err := p.Exec(ctx); err != nil {
		return 0, 0, fmt.Errorf("redis queue %s depth: %w", q.key, err)
	}
	return l.Val(), z.Val(), nil
}

func sanitize(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 128 && (r == '.' || r == '_' || r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return r
		}
		return '_'
	}, s)
	if s == "" {
		s = "w"
	}
	return s
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// abandon stops refreshing and closes the client without dropping the
// liveness key, as a killed process would (tests).
func (q *Queue) abandon() {
	q.closeOnce.Do(func() {
		close(q.stop)
		<-q.refreshed
		_ = q.client.Close()
	})
}
