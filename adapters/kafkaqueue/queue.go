package kafkaqueue

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/refinery/refinery-worker/pipeline"
)

// Options configure a [Queue]. Brokers is required.
type Options struct {
	// Brokers is KAFKA_BROKERS (host:port, at least one).
	Brokers []string
	// Topic is KAFKA_TOPIC. Default "refinery.queue".
	Topic string
	// Group is KAFKA_GROUP. Default "refinery-worker".
	Group string
	// Block is how long Claim waits for a record when none is buffered.
	// Default 1s; at least 10ms.
	Block time.Duration
	// SessionTimeout is how long the group waits for a silent member before
	// giving its partitions to the others. Default 10s; at least 6s (the
	// broker's usual minimum). Heartbeats go every SessionTimeout/5.
	SessionTimeout time.Duration
	// RebalanceGrace is how long a rebalance the group wants waits for the
	// records this instance claimed to be settled (so that their offsets are
	// committed and nobody is handed them again). Past it the rebalance goes
	// on and unsettled records are delivered again to their next owner.
	// Default 3s; must stay well below the group's rebalance timeout (60s).
	RebalanceGrace time.Duration
	// Logger receives warnings (rebalances, poll errors). Default: discard.
	Logger *slog.Logger
	// Now is the clock for not_before and claimed_at. Default time.Now.
	Now func() time.Time
	// ClientOpts are extra kgo options (TLS, SASL, ...), applied last.
	ClientOpts []kgo.Opt
}

// Queue is the Kafka intake. Its methods are safe for concurrent use.
type Queue struct {
	opts Options
	cl   *kgo.Client
	log  *slog.Logger

	mu       sync.Mutex
	parts    map[int32]*part // tracked partitions of Options.Topic
	again    []pipeline.Claimed
	delayed  []delayedRec
	assigned map[int32]bool
	closed   bool
	// draining is set while a rebalance waits for this instance: Claim
	// hands out nothing new then, so what is claimed can settle and commit
	// before the partitions move (else the new owner processes it again).
	draining bool
}

// part tracks one partition: claimed, unsettled records by offset.
type part struct {
	open      map[int64]openRec
	next      int64 // one past the highest offset claimed
	nextEpoch int32
	committed int64
}

type openRec struct {
	epoch int32
	raw   []byte // as handed out
}

type delayedRec struct {
	c  pipeline.Claimed
	nb float64
}

var _ pipeline.Intake = (*Queue)(nil)

// ErrClosed is returned by the methods of a closed Queue.
var ErrClosed = errors.New("kafka queue closed")

// Open creates the client and joins the group; it does not wait for an
// assignment (the first Claims return nothing until partitions arrive).
func Open(opts Options) (*Queue, error) {
	if len(opts.Brokers) == 0 {
		return nil, errors.New("open kafka queue: no brokers")
	}
	if opts.Topic == "" {
		opts.Topic = "refinery.queue"
	}
	if opts.Group == "" {
		opts.Group = "refinery-worker"
	}
	if opts.Block == 0 {
		opts.Block = time.Second
	}
	if opts.Block < 10*time.Millisecond {
		return nil, fmt.Errorf("open kafka queue: block %s is below 10ms", opts.Block)
	}
	if opts.SessionTimeout == 0 {
		opts.SessionTimeout = 10 * time.Second
	}
	if opts.SessionTimeout < 6*time.Second {
		return nil, fmt.Errorf("open kafka queue: session timeout %s is below 6s", opts.SessionTimeout)
	}
	if opts.RebalanceGrace <= 0 {
		opts.RebalanceGrace = 3 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	q := &Queue{opts: opts, parts: map[int32]*part{}, assigned: map[int32]bool{},
		log: opts.Logger.With("topic", opts.Topic, "group", opts.Group)}
	kopts := []kgo.Opt{
		kgo.SeedBrokers(opts.Brokers...),
		kgo.ConsumerGroup(opts.Group),
		kgo.ConsumeTopics(opts.Topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.DisableAutoCommit(),
		kgo.BlockRebalanceOnPoll(),
		kgo.SessionTimeout(opts.SessionTimeout),
		kgo.HeartbeatInterval(opts.SessionTimeout / 5),
		kgo.DefaultProduceTopic(opts.Topic),
		kgo.AllowAutoTopicCreation(), // where the broker allows it, as for the control-plane's producer
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.OnPartitionsAssigned(q.onAssigned),
		kgo.OnPartitionsRevoked(q.onRevoked),
		kgo.OnPartitionsLost(q.onLost),
		kgo.OnPartitionsCallbackBlocked(q.onBlocked),
	}
	cl, err := kgo.NewClient(append(kopts, opts.ClientOpts...)...)
	if err != nil {
		return nil, fmt.Errorf("open kafka queue %s: %w", opts.Topic, err)
	}
	q.cl = cl
	return q, nil
}

// Assigned is the number of partitions of the topic this instance owns now.
func (q *Queue) Assigned() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.assigned)
}

// Ready pings a broker.
func (q *Queue) Ready(ctx context.Context) error {
	if q.isClosed() {
		return ErrClosed
	}
	if err := q.cl.Ping(ctx); err != nil {
		return fmt.Errorf("kafka queue %s: %w", q.opts.Topic, err)
	}
	return nil
}

// Close commits what is settled (through the final revoke) and leaves the
// group; unsettled records are delivered again to the next owner.
func (q *Queue) Close() error {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return nil
	}
	q.closed = true
	q.mu.Unlock()
	q.cl.CloseAllowingRebalance()
	return nil
}

func (q *Queue) isClosed() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.closed
}

// outstanding counts claimed, unsettled records. Caller holds mu.
func (q *Queue) outstanding() int {
	n := 0
	for _, pt := range q.parts {
		n += len(pt.open)
	}
	return n
}

// allowIfSettled lets a waiting rebalance go on once nothing is outstanding.
func (q *Queue) allowIfSettled() {
	q.mu.Lock()
	n := q.outstanding()
	q.mu.Unlock()
	if n == 0 {
		q.cl.AllowRebalance()
	}
}

// onBlocked runs when a rebalance waits for this instance: it is allowed as
// soon as the claimed records are settled, or after RebalanceGrace.
func (q *Queue) onBlocked(ctx context.Context, cl *kgo.Client) {
	q.mu.Lock()
	q.draining = true
	q.mu.Unlock()
	go func() {
		defer func() {
			q.mu.Lock()
			q.draining = false
			q.mu.Unlock()
		}()
		deadline := time.Now().Add(q.opts.RebalanceGrace)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			q.mu.Lock()
			n := q.outstanding()
			q.mu.Unlock()
			if n == 0 {
				break
			}
			if time.Now().After(deadline) {
				q.log.Warn("rebalance goes on with claimed records unsettled; they will be delivered again", "records", n)
				break
			}
			select {
			case <-tick.C:
			case <-ctx.Done():
				cl.AllowRebalance()
				return
			}
		}
		cl.AllowRebalance()
	}()
}

func (q *Queue) onAssigned(_ context.Context, _ *kgo.Client, m map[string][]int32) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, p := range m[q.opts.Topic] {
		q.assigned[p] = true
	}
	q.log.Info("kafka partitions assigned", "partitions", m[q.opts.Topic])
}

// onRevoked commits what is settled on the revoked partitions, then forgets
// their records.
func (q *Queue) onRevoked(ctx context.Context, cl *kgo.Client, m map[string][]int32) {
	commits := q.forget(m[q.opts.Topic], true)
	if len(commits) == 0 {
		return
	}
	if err := q.commit(ctx, commits); err != nil {
		q.log.Warn("commit settled offsets of revoked partitions", "err", err)
	}
}

func (q *Queue) onLost(_ context.Context, _ *kgo.Client, m map[string][]int32) {
	q.forget(m[q.opts.Topic], false)
}

func (q *Queue) forget(ps []int32, withCommits bool) map[int32]kgo.EpochOffset {
	q.mu.Lock()
	defer q.mu.Unlock()
	gone := map[int32]bool{}
	commits := map[int32]kgo.EpochOffset{}
	for _, p := range ps {
		gone[p] = true
		delete(q.assigned, p)
		if pt := q.parts[p]; pt != nil {
			if eo, ok := pt.commitPoint(); ok && withCommits {
				commits[p] = eo
			}
			delete(q.parts, p)
		}
	}
	q.again = dropParts(q.again, func(c pipeline.Claimed) bool { return gone[claimPartition(c.Claim)] })
	kept := q.delayed[:0]
	for _, d := range q.delayed {
		if !gone[claimPartition(d.c.Claim)] {
			kept = append(kept, d)
		}
	}
	q.delayed = kept
	if len(ps) > 0 {
		q.log.Info("kafka partitions revoked", "partitions", ps, "lost", !withCommits)
	}
	return commits
}

func dropParts(cs []pipeline.Claimed, drop func(pipeline.Claimed) bool) []pipeline.Claimed {
	kept := cs[:0]
	for _, c := range cs {
		if !drop(c) {
			kept = append(kept, c)
		}
	}
	return kept
}

// commitPoint is where the partition can be committed to: its lowest
// unsettled offset, or one past the highest claimed; ok is false when that
// is not past what is committed.
func (pt *part) commitPoint() (kgo.EpochOffset, bool) {
	at, epoch := pt.next, pt.nextEpoch
	for off, r := range pt.open {
		if off < at {
			at, epoch = off, r.epoch
		}
	}
	return kgo.EpochOffset{Epoch: epoch, Offset: at}, at > pt.committed
}

func (q *Queue) commit(ctx context.Context, commits map[int32]kgo.EpochOffset) error {
	var cerr error
	q.cl.CommitOffsetsSync(ctx, map[string]map[int32]kgo.EpochOffset{q.opts.Topic: commits},
		func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, err error) {
			if err != nil {
				cerr = err
				return
			}
			for _, t := range resp.Topics {
				for _, p := range t.Partitions {
					if e := kerr.ErrorForCode(p.ErrorCode); e != nil && cerr == nil {
						cerr = fmt.Errorf("partition %d: %w", p.Partition, e)
					}
				}
			}
		})
	if cerr != nil {
		return fmt.Errorf("commit offsets of %s: %w", q.opts.Topic, cerr)
	}
	q.mu.Lock()
	for p, eo := range commits {
		if pt := q.parts[p]; pt != nil && eo.Offset > pt.committed {
			pt.committed = eo.Offset
		}
	}
	q.mu.Unlock()
	return nil
}

func claimID(topic string, p int32, off int64) string {
	return topic + "/" + strconv.Itoa(int(p)) + "/" + strconv.FormatInt(off, 10)
}

// parseClaim splits "topic/partition/offset" (the topic may hold '/').
func parseClaim(c string) (p int32, off int64, ok bool) {
	i := strings.LastIndexByte(c, '/')
	if i <= 0 {
		return 0, 0, false
	}
	j := strings.LastIndexByte(c[:i], '/')
	if j < 0 {
		return 0, 0, false
	}
	pp, err1 := strconv.ParseInt(c[j+1:i], 10, 32)
	o, err2 := strconv.ParseInt(c[i+1:], 10, 64)
	return int32(pp), o, err1 == nil && err2 == nil
}

func claimPartition(c string) int32 {
	p, _, ok := parseClaim(c)
	if !ok {
		return -1
	}
	return p
}
