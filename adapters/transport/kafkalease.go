package transport

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// MetaHandoff marks a job re-published for a dead worker's lease: the value
// is the adopter, whose lease the first take of this message replaces.
const MetaHandoff = "lease_handoff"

// errDuplicate says a held message is a second delivery of a job that is
// held or done already: it is acked and skipped.
var errDuplicate = errors.New("job already held or done")

// leases is the Kafka hold (see the package doc): records keyed
// "job/<correlation id>" (take, adopt, done) and "beat/<owner>".
type leases struct {
	cl      *kgo.Client
	topic   string
	owner   string
	idle    time.Duration
	keep    time.Duration // how long done jobs are remembered
	publish func(topic string, msgs ...*message.Message) error
	log     *slog.Logger

	mu       sync.Mutex
	jobs     map[string]*job
	beats    map[string]time.Time
	waiters  map[string]chan bool // take nonce → accepted?
	adopting map[string]bool
	resend   map[string]*lease // adopted by this worker, to re-publish
	caughtUp bool

	closing chan struct{}
	wg      sync.WaitGroup
}

type job struct {
	owner string
	done  bool
	at    time.Time // last change of owner or state
	take  *lease
}

// lease is a record's value.
type lease struct {
	Op       string            `json:"op"` // take | adopt | drop | done | beat
	Owner    string            `json:"owner"`
	From     string            `json:"from,omitempty"`    // adopt: the silent owner
	Handoff  string            `json:"handoff,omitempty"` // take: the adopter it replaces
	Nonce    string            `json:"nonce,omitempty"`
	Topic    string            `json:"topic,omitempty"`
	Payload  []byte            `json:"payload,omitempty"`
	Metadata map[string]string `json:"metadata,omitempty"`
	At       int64             `json:"at"` // Unix ms, the writer's clock
}

func newLeases(ctx context.Context, brokers []string, topic, owner string, idle time.Duration,
	publish func(string, ...*message.Message) error, log *slog.Logger) (*leases, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.AllowAutoTopicCreation(), kgo.FetchMaxWait(idle/3))
	if err != nil {
		return nil, fmt.Errorf("kafka leases %s: %w", topic, err)
	}
	l := &leases{cl: cl, topic: topic, owner: owner, idle: idle, keep: 24 * time.Hour, publish: publish,
		log: log.With("leases", topic), jobs: map[string]*job{}, beats: map[string]time.Time{},
		waiters: map[string]chan bool{}, adopting: map[string]bool{}, resend: map[string]*lease{},
		closing: make(chan struct{})}
	l.createTopic(ctx)
	if err := l.write(ctx, "beat/"+owner, &lease{Op: "beat", Owner: owner}); err != nil {
		cl.Close()
		return nil, err
	}
	l.wg.Add(2)
	go l.read()
	go l.beat()
	return l, nil
}

// createTopic creates the lease topic, compacted and expiring after a week;
// best effort: auto-creation also works.
func (l *leases) createTopic(ctx context.Context) {
	req := kmsg.NewPtrCreateTopicsRequest()
	t := kmsg.NewCreateTopicsRequestTopic()
	t.Topic, t.NumPartitions, t.ReplicationFactor = l.topic, 1, -1
	for k, v := range map[string]string{"cleanup.policy": "compact,delete", "retention.ms": "604800000"} {
		c := kmsg.NewCreateTopicsRequestTopicConfig()
		c.Name, c.Value = k, kmsg.StringPtr(v)
		t.Configs = append(t.Configs, c)
	}
	req.Topics = append(req.Topics, t)
	req.TimeoutMillis = 5000
	resp, err := req.RequestWith(ctx, l.cl)
	if err == nil && len(resp.Topics) == 1 {
		err = kerr.ErrorForCode(resp.Topics[0].ErrorCode)
	}
	if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
		l.log.Warn("create the lease topic (auto-creation will be used)", "err", err)
	}
}

func (l *leases) write(ctx context.Context, key string, v *lease) error {
	v.At = time.Now().UnixMilli()
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode lease %s: %w", key, err)
	}
	if err := l.cl.ProduceSync(ctx, &kgo.Record{Topic: l.topic, Key: []byte(key), Value: b}).FirstErr(); err != nil {
		return fmt.Errorf("write lease %s to %s: %w", key, l.topic, err)
	}
	return nil
}

// kafkaHolder holds the messages of one topic with leases.
type kafkaHolder struct {
	l     *leases
	topic string
}

func (h kafkaHolder) hold(corr string, msg *message.Message) (*heldEntry, error) {
	release, err := h.l.hold(h.topic, corr, msg)
	if err != nil {
		return nil, err
	}
	return &heldEntry{release: release, abandon: func() { h.l.end(corr, "drop") }}, nil
}

// acked commits the job message: the lease stands for it now.
func (h kafkaHolder) acked(msg *message.Message) { msg.Ack() }

// hold writes a take and waits until it is read back: the first take of a
// job (or the first after a hand-off) wins; any other is a duplicate.
func (l *leases) hold(topic, corr string, msg *message.Message) (func(), error) {
	md := make(map[string]string, len(msg.Metadata))
	for k, v := range msg.Metadata {
		md[k] = v
	}
	nonce := randHex(8)
	ch := make(chan bool, 1)
	l.mu.Lock()
	l.waiters[nonce] = ch
	l.mu.Unlock()
	defer func() {
		l.mu.Lock()
		delete(l.waiters, nonce)
		l.mu.Unlock()
	}()
	ctx, cancel := context.WithTimeout(context.Background(), l.idle)
	err := l.write(ctx, "job/"+corr, &lease{Op: "take", Owner: l.owner, Handoff: msg.Metadata.Get(MetaHandoff),
		Nonce: nonce, Topic: topic, Payload: msg.Payload, Metadata: md})
	cancel()
	if err != nil {
		return nil, err
	}
	select {
	case won := <-ch:
		if !won {
			return nil, errDuplicate
		}
		return func() { l.end(corr, "done") }, nil
	case <-l.closing:
		// Our take may have won: the lease then lapses with our beats and is
		// adopted; the message is delivered again meanwhile.
		return nil, errors.New("kafka leases closed")
	}
}

// end writes "done" (the result is published) or "drop" (the stage gave the
// message back: its next delivery may take the job again).
func (l *leases) end(corr, op string) {
	ctx, cancel := context.WithTimeout(context.Background(), l.idle)
	defer cancel()
	if err := l.write(ctx, "job/"+corr, &lease{Op: op, Owner: l.owner}); err != nil {
		// The lease stays: after this worker stops, another re-publishes the
		// job (a duplicate build, never a lost one).
		l.log.Warn("end lease", "correlation_id", corr, "op", op, "err", err)
	}
}

func (l *leases) beat() {
	defer l.wg.Done()
	t := time.NewTicker(l.idle / 3)
	defer t.Stop()
	for {
		select {
		case <-l.closing:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), l.idle/3)
		if err := l.write(ctx, "beat/"+l.owner, &lease{Op: "beat", Owner: l.owner}); err != nil {
			l.log.Warn("lease heartbeat", "err", err)
		}
		cancel()
		l.adoptExpired()
		l.republish()
		l.prune()
	}
}

// read follows the lease topic from its start.
func (l *leases) read() {
	defer l.wg.Done()
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-l.closing; cancel() }()
	for {
		fs := l.cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return
		}
		l.mu.Lock()
		fs.EachRecord(l.apply)
		fs.EachPartition(func(p kgo.FetchTopicPartition) {
			if n := len(p.Records); n > 0 && p.Records[n-1].Offset+1 >= p.HighWatermark {
				l.caughtUp = true
			}
		})
		l.mu.Unlock()
	}
}

// apply folds one record into the state, in log order. Caller holds mu.
func (l *leases) apply(r *kgo.Record) {
	key := string(r.Key)
	var v lease
	if json.Unmarshal(r.Value, &v) != nil {
		return
	}
	now := time.Now()
	switch {
	case len(key) > 5 && key[:5] == "beat/":
		if at := time.UnixMilli(v.At); at.After(l.beats[v.Owner]) {
			l.beats[v.Owner] = at
		}
	case len(key) > 4 && key[:4] == "job/":
		corr := key[4:]
		j := l.jobs[corr]
		switch v.Op {
		case "take":
			won := j == nil || !j.done && v.Handoff != "" && j.owner == v.Handoff
			if won {
				l.jobs[corr] = &job{owner: v.Owner, at: now, take: &v}
				delete(l.resend, corr)
			}
			if ch := l.waiters[v.Nonce]; ch != nil && v.Owner == l.owner {
				ch <- won
			}
		case "adopt":
			if j != nil && !j.done && j.owner == v.From {
				j.owner, j.at = v.Owner, now
				if v.Owner == l.owner {
					l.resend[corr] = j.take
				}
			}
		case "drop":
			if j != nil && !j.done && j.owner == v.Owner {
				delete(l.jobs, corr)
			}
		case "done":
			if j == nil {
				j = &job{}
				l.jobs[corr] = j
			}
			j.done, j.at = true, now
			delete(l.resend, corr)
		}
	}
}

// adoptExpired writes an adopt record for each lease whose owner is silent.
func (l *leases) adoptExpired() {
	now := time.Now()
	type adoption struct{ corr, from string }
	var todo []adoption
	l.mu.Lock()
	if l.caughtUp {
		for corr, j := range l.jobs {
			if j.done || j.owner == l.owner || l.adopting[corr+"/"+j.owner] {
				continue
			}
			last := l.beats[j.owner]
			if j.at.After(last) {
				last = j.at
			}
			if now.Sub(last) > l.idle {
				l.adopting[corr+"/"+j.owner] = true
				todo = append(todo, adoption{corr, j.owner})
			}
		}
	}
	l.mu.Unlock()
	for _, a := range todo {
		ctx, cancel := context.WithTimeout(context.Background(), l.idle)
		if err := l.write(ctx, "job/"+a.corr, &lease{Op: "adopt", Owner: l.owner, From: a.from}); err != nil {
			l.log.Warn("adopt lease", "correlation_id", a.corr, "err", err)
			l.mu.Lock()
			delete(l.adopting, a.corr+"/"+a.from)
			l.mu.Unlock()
		}
		cancel()
	}
}

// republish puts the jobs of leases this worker adopted back on their topic,
// marked as a hand-off from it; failures are retried at the next beat.
func (l *leases) republish() {
	l.mu.Lock()
	todo := make(map[string]*lease, len(l.resend))
	for corr, t := range l.resend {
		todo[corr] = t
	}
	l.mu.Unlock()
	for corr, t := range todo {
		msg := message.NewMessage(watermill.NewUUID(), t.Payload)
		for k, v := range t.Metadata {
			msg.Metadata.Set(k, v)
		}
		msg.Metadata.Set(MetaHandoff, l.owner)
		if err := l.publish(t.Topic, msg); err != nil {
			l.log.Warn("re-publish the job of a dead worker", "correlation_id", corr, "topic", t.Topic, "err", err)
			continue
		}
		l.log.Info("re-published the job of a dead worker", "correlation_id", corr, "topic", t.Topic)
		l.mu.Lock()
		if l.resend[corr] == t {
			delete(l.resend, corr)
		}
		l.mu.Unlock()
	}
}

// prune forgets jobs done longer ago than keep.
func (l *leases) prune() {
	cut := time.Now().Add(-l.keep)
	l.mu.Lock()
	defer l.mu.Unlock()
	for corr, j := range l.jobs {
		if j.done && j.at.Before(cut) {
			delete(l.jobs, corr)
		}
	}
}

// Close stops beating and reading. Leases not done stay: other workers
// adopt them ClaimIdle later.
func (l *leases) Close() {
	close(l.closing)
	l.wg.Wait()
	l.cl.Close()
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
