package replaysource

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/IBM/sarama"
	"github.com/ThreeDotsLabs/watermill-kafka/v3/pkg/kafka"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/refinery/refinery-worker/pipeline/replay"
)

// KafkaSource reads Kafka topics partition by partition, outside any group.
//
// From and To accept "start" (From only), "end" or "" (To only), an offset
// applied to every partition ("120"), an offset of one partition ("2:120":
// only that partition is read), or an RFC 3339 time (From: the first offset
// at or after it, by the broker's index; To: records stamped after it are
// left out).
type KafkaSource struct {
	Brokers []string
	// ClientOpts are extra kgo options (TLS, SASL, ...).
	ClientOpts []kgo.Opt
}

// bound is a parsed position.
type bound struct {
	kind      string // start, end, offset, time
	partition int32  // -1: every partition
	offset    int64
	at        time.Time
}

func kafkaBound(s string, start bool) (bound, error) {
	switch {
	case start && (s == "start" || s == ""):
		return bound{kind: "start", partition: -1}, nil
	case !start && (s == "end" || s == ""):
		return bound{kind: "end", partition: -1}, nil
	}
	if t, ok := replay.ParseTime(s); ok {
		return bound{kind: "time", partition: -1, at: t}, nil
	}
	p, o, hasP := strings.Cut(s, ":")
	if !hasP {
		o, p = p, "-1"
	}
	pn, err1 := strconv.ParseInt(p, 10, 32)
	on, err2 := strconv.ParseInt(o, 10, 64)
	if err1 != nil || err2 != nil || on < 0 {
		return bound{}, fmt.Errorf("position %q is not start, end, an offset, partition:offset or an RFC 3339 time", s)
	}
	return bound{kind: "offset", partition: int32(pn), offset: on}, nil
}

// Read calls fn for each record in range, partition by partition in offset
// order (partitions interleave). An open end is each partition's end when
// Read starts.
func (s KafkaSource) Read(ctx context.Context, topic, from, to string, fn func(replay.Entry) error) error {
	fb, err := kafkaBound(from, true)
	if err != nil {
		return err
	}
	tb, err := kafkaBound(to, false)
	if err != nil {
		return err
	}
	admin, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(s.Brokers...)}, s.ClientOpts...)...)
	if err != nil {
		return fmt.Errorf("kafka client: %w", err)
	}
	defer admin.Close()
	parts, err := partitions(ctx, admin, topic)
	if err != nil {
		return err
	}
	earliest, err := listOffsets(ctx, admin, topic, parts, -2)
	if err != nil {
		return err
	}
	ends, err := listOffsets(ctx, admin, topic, parts, -1)
	if err != nil {
		return err
	}
	first := map[int32]int64{}
	switch fb.kind {
	case "start":
		first = earliest
	case "offset":
		for _, p := range parts {
			if fb.partition < 0 || fb.partition == p {
				first[p] = max(fb.offset, earliest[p])
			}
		}
	case "time":
		at, err := listOffsets(ctx, admin, topic, parts, fb.at.UnixMilli())
		if err != nil {
			return err
		}
		for p, o := range at {
			if o < 0 {
				o = ends[p]
			}
			first[p] = o
		}
	}
	last := map[int32]int64{} // inclusive
	consume := map[int32]kgo.Offset{}
	for p, o := range first {
		l := ends[p] - 1
		if tb.kind == "offset" && (tb.partition < 0 || tb.partition == p) {
			l = min(l, tb.offset)
		}
		if o <= l {
			last[p] = l
			consume[p] = kgo.NewOffset().At(o)
		}
	}
	if len(consume) == 0 {
		return nil
	}
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(s.Brokers...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: consume})}, s.ClientOpts...)...)
	if err != nil {
		return fmt.Errorf("kafka client: %w", err)
	}
	defer cl.Close()
	var um kafka.DefaultMarshaler
	for len(last) > 0 {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return err
		}
		var ferr error
		fs.EachError(func(t string, p int32, err error) {
			ferr = fmt.Errorf("read %s[%d]: %w", t, p, err)
		})
		if ferr != nil {
			return ferr
		}
		for _, r := range fs.Records() {
			l, open := last[r.Partition]
			if !open || r.Offset > l {
				continue
			}
			if r.Offset == l {
				delete(last, r.Partition)
			}
			if tb.kind == "time" && r.Timestamp.After(tb.at) {
				continue
			}
			cm := &sarama.ConsumerMessage{Topic: r.Topic, Partition: r.Partition, Offset: r.Offset, Key: r.Key,
				Value: r.Value, Timestamp: r.Timestamp}
			for _, h := range r.Headers {
				cm.Headers = append(cm.Headers, &sarama.RecordHeader{Key: []byte(h.Key), Value: h.Value})
			}
			msg, err := um.Unmarshal(cm)
			if err != nil {
				return fmt.Errorf("decode %s[%d]@%d: %w", r.Topic, r.Partition, r.Offset, err)
			}
			pos := strconv.Itoa(int(r.Partition)) + ":" + strconv.FormatInt(r.Offset, 10)
			if err := fn(replay.Entry{Position: pos, Time: r.Timestamp, Msg: msg}); err != nil {
				return err
			}
		}
	}
	return nil
}

func partitions(ctx context.Context, cl *kgo.Client, topic string) ([]int32, error) {
	req := kmsg.NewPtrMetadataRequest()
	t := kmsg.NewMetadataRequestTopic()
	t.Topic = kmsg.StringPtr(topic)
	req.Topics = append(req.Topics, t)
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return nil, fmt.Errorf("metadata of %s: %w", topic, err)
	}
	var ps []int32
	for _, rt := range resp.Topics {
		if err := kerr.ErrorForCode(rt.ErrorCode); err != nil {
			return nil, fmt.Errorf("metadata of %s: %w", topic, err)
		}
		for _, p := range rt.Partitions {
			ps = append(ps, p.Partition)
		}
	}
	return ps, nil
}

// listOffsets asks each partition's offset for a timestamp (-2 earliest,
// -1 end, else Unix ms: the first offset at or after it, -1 when none).
func listOffsets(ctx context.Context, cl *kgo.Client, topic string, parts []int32, ts int64) (map[int32]int64, error) {
	req := kmsg.NewPtrListOffsetsRequest()
	req.ReplicaID = -1
	rt := kmsg.NewListOffsetsRequestTopic()
	rt.Topic = topic
	for _, p := range parts {
		rp := kmsg.NewListOffsetsRequestTopicPartition()
		rp.Partition, rp.Timestamp, rp.CurrentLeaderEpoch = p, ts, -1
		rt.Partitions = append(rt.Partitions, rp)
	}
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return nil, fmt.Errorf("list offsets of %s: %w", topic, err)
	}
	out := map[int32]int64{}
	for _, t := range resp.Topics {
		for _, p := range t.Partitions {
			if err := kerr.ErrorForCode(p.ErrorCode); err != nil {
				return nil, fmt.Errorf("list offsets of %s[%d]: %w", topic, p.Partition, err)
			}
			out[p.Partition] = p.Offset
		}
	}
	return out, nil
}
