package transport

import (
	"context"
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

// leases is the Kafka hold: a job message is committed on its topic at once
// (the partition is never held for a build) after a "take" record for it is
// stored in the lease topic; a "done" tombstone ends it when the result is
// published. Every worker beats in the lease topic every ClaimIdle/3 and reads
// the whole topic; a lease whose owner has not beaten for ClaimIdle is
// adopted with an "adopt" record, and the first adopt after the take (the
// records of one lease share a key, hence a partition, hence an order all
// readers agree on) wins: its writer re-publishes the job and ends the lease.
type leases struct {
	cl      *kgo.Client
	topic   string
	owner   string
	idle    time.Duration
	publish func(topic string, msgs ...*message.Message) error // the plain publisher
	log     *slog.Logger

	mu       sync.Mutex
	jobs     map[string]*lease    // by correlation id
	beats    map[string]time.Time // owner → last beat
	adopting map[string]bool
	caughtUp bool

	closing chan struct{}
	wg      sync.WaitGroup
}

type lease struct {
	Owner    string            `json:"owner"`
	Topic    string            `json:"topic,omitempty"`
	UUID     string            `json:"uuid,omitempty"`
	Payload  []byte            `json:"payload,omitempty"`
	Metadata map[string]string `json:"metadata,omitempty"`
	At       int64             `json:"at"` // Unix ms, the writer's clock
	Op       string            `json:"op"` // take | adopt | beat
	From     string            `json:"from,omitempty"`
}

func newLeases(ctx context.Context, brokers []string, topic, owner string, idle time.Duration,
	publish func(string, ...*message.Message) error, log *slog.Logger) (*leases, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.AllowAutoTopicCreation())
	if err != nil {
		return nil, fmt.Errorf("kafka leases %s: %w", topic, err)
	}
	l := &leases{cl: cl, topic: topic, owner: owner, idle: idle, publish: publish, log: log.With("leases", topic),
		jobs: map[string]*lease{}, beats: map[string]time.Time{}, adopting: map[string]bool{}, closing: make(chan struct{})}
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

// createTopic creates the lease topic compacted (takes and their tombstones
// then vanish); it is best effort: auto-creation also works.
func (l *leases) createTopic(ctx context.Context) {
	req := kmsg.NewPtrCreateTopicsRequest()
	t := kmsg.NewCreateTopicsRequestTopic()
	t.Topic, t.NumPartitions, t.ReplicationFactor = l.topic, 1, -1
	c := kmsg.NewCreateTopicsRequestTopicConfig()
	c.Name, c.Value = "cleanup.policy", kmsg.StringPtr("compact")
	t.Configs = append(t.Configs, c)
	req.Topics = append(req.Topics, t)
	req.TimeoutMillis = 5000
	resp, err := req.RequestWith(ctx, l.cl)
	if err == nil && len(resp.Topics) == 1 {
		err = kerr.ErrorForCode(resp.Topics[0].ErrorCode)
	}
	if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
		l.log.Warn("create compacted lease topic (auto-creation will be used)", "err", err)
	}
}

func (l *leases) write(ctx context.Context, key string, v *lease) error {
	var val []byte
	if v != nil {
		v.At = time.Now().UnixMilli()
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("encode lease %s: %w", key, err)
		}
		val = b
	}
	if err := l.cl.ProduceSync(ctx, &kgo.Record{Topic: l.topic, Key: []byte(key), Value: val}).FirstErr(); err != nil {
		return fmt.Errorf("write lease %s to %s: %w", key, l.topic, err)
	}
	return nil
}

// kafkaHolder holds the messages of one topic with leases.
type kafkaHolder struct {
	l     *leases
	topic string
}

func (h kafkaHolder) hold(corr string, msg *message.Message) (func(), error) {
	return h.l.hold(h.topic, corr, msg)
}

// acked commits the job message: the lease stands for it now.
func (h kafkaHolder) acked(msg *message.Message) { msg.Ack() }

// hold records the take before the job message is committed.
func (l *leases) hold(topic, corr string, msg *message.Message) (func(), error) {
	md := make(map[string]string, len(msg.Metadata))
	for k, v := range msg.Metadata {
		md[k] = v
	}
	ctx, cancel := context.WithTimeout(context.Background(), l.idle)
	defer cancel()
	if err := l.write(ctx, "job/"+corr, &lease{Op: "take", Owner: l.owner, Topic: topic, UUID: msg.UUID,
		Payload: msg.Payload, Metadata: md}); err != nil {
		return nil, err
	}
	return func() { l.done(corr) }, nil
}

func (l *leases) done(corr string) {
	ctx, cancel := context.WithTimeout(context.Background(), l.idle)
	defer cancel()
	if err := l.write(ctx, "job/"+corr, nil); err != nil {
		// The lease stays: after this worker stops, another re-publishes the
		// job (a duplicate build, never a lost one).
		l.log.Warn("end lease", "correlation_id", corr, "err", err)
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
	}
}

// read follows the lease topic from its start.
func (l *leases) read() {
	defer l.wg.Done()
	for {
		ctx, cancel := context.WithTimeout(context.Background(), l.idle/3)
		go func() {
			select {
			case <-l.closing:
				cancel()
			case <-ctx.Done():
			}
		}()
		fs := l.cl.PollFetches(ctx)
		cancel()
		select {
		case <-l.closing:
			return
		default:
		}
		var mine []*lease
		var mineKeys []string
		l.mu.Lock()
		fs.EachRecord(func(r *kgo.Record) {
			if c, ok := l.apply(r); ok {
				mine = append(mine, l.jobs[c])
				mineKeys = append(mineKeys, c)
			}
		})
		if len(fs.Records()) == 0 {
			l.caughtUp = true // nothing new for idle/3: what there was is read
		}
		l.mu.Unlock()
		for i, j := range mine {
			l.republish(mineKeys[i], j)
		}
	}
}

// apply folds one record into the state; it reports the correlation id of a
// lease this worker just won by adoption. Caller holds mu.
func (l *leases) apply(r *kgo.Record) (string, bool) {
	key := string(r.Key)
	switch {
	case len(key) > 5 && key[:5] == "beat/":
		var v lease
		if json.Unmarshal(r.Value, &v) == nil {
			if at := time.UnixMilli(v.At); at.After(l.beats[v.Owner]) {
				l.beats[v.Owner] = at
			}
		}
	case len(key) > 4 && key[:4] == "job/":
		corr := key[4:]
		if r.Value == nil {
			delete(l.jobs, corr)
			delete(l.adopting, corr)
			return "", false
		}
		var v lease
		if json.Unmarshal(r.Value, &v) != nil {
			return "", false
		}
		switch v.Op {
		case "take":
			l.jobs[corr] = &v
		case "adopt":
			j := l.jobs[corr]
			if j == nil || j.Owner != v.From {
				return "", false // someone adopted it first, or it ended
			}
			j.Owner, j.At = v.Owner, v.At
			return corr, v.Owner == l.owner
		}
	}
	return "", false
}

// adoptExpired writes an adopt record for each lease whose owner is silent.
func (l *leases) adoptExpired() {
	now := time.Now()
	type adoption struct{ corr, from string }
	var todo []adoption
	l.mu.Lock()
	if l.caughtUp {
		for corr, j := range l.jobs {
			last := l.beats[j.Owner]
			if at := time.UnixMilli(j.At); at.After(last) {
				last = at
			}
			if j.Owner != l.owner && now.Sub(last) > l.idle && !l.adopting[corr] {
				l.adopting[corr] = true
				todo = append(todo, adoption{corr, j.Owner})
			}
		}
	}
	l.mu.Unlock()
	for _, a := range todo {
		ctx, cancel := context.WithTimeout(context.Background(), l.idle)
		if err := l.write(ctx, "job/"+a.corr, &lease{Op: "adopt", Owner: l.owner, From: a.from}); err != nil {
			l.log.Warn("adopt lease", "correlation_id", a.corr, "err", err)
			l.mu.Lock()
			delete(l.adopting, a.corr)
			l.mu.Unlock()
		}
		cancel()
	}
}

// republish puts the job of an adopted lease back on its topic, then ends
// the lease (the new message is held on its own when consumed).
func (l *leases) republish(corr string, j *lease) {
	msg := message.NewMessage(watermill.NewUUID(), j.Payload)
	for k, v := range j.Metadata {
		msg.Metadata.Set(k, v)
	}
	if err := l.publish(j.Topic, msg); err != nil {
		l.log.Error("re-publish job of a dead worker", "correlation_id", corr, "topic", j.Topic, "err", err)
		l.mu.Lock()
		delete(l.adopting, corr)
		l.mu.Unlock()
		return
	}
	l.log.Info("re-published the job of a dead worker", "correlation_id", corr, "topic", j.Topic)
	l.done(corr)
}

// Close stops beating and reading. Leases not ended stay: other workers
// adopt them ClaimIdle later.
func (l *leases) Close() {
	close(l.closing)
	l.wg.Wait()
	l.cl.Close()
}
