package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/refinery/refinery-worker/pipeline/retry"
)

// Stage processes one Work and returns the topic it goes to next. An empty
// topic means the stage took the work over (an asynchronous build publishes
// later) or the work ends here. An error makes the transport redeliver.
type Stage func(ctx context.Context, w *Work) (next string, err error)

// stageRetry is how a failing stage is retried in place before its message
// is nacked for redelivery: 11 attempts in all (10 retries), waiting 50ms
// doubling to 5s between them, without jitter.
func stageRetry() retry.Policy {
	return retry.Policy{Initial: 50 * time.Millisecond, Max: 5 * time.Second, MaxAttempts: 11}
}

// MetaReplayOf marks a message a replay re-published (pipeline/replay).
const MetaReplayOf = "replay_of"

// MetaCorrelation is the message metadata key carrying Work.CorrelationID.
const MetaCorrelation = "correlation_id"

// Publisher publishes Work to a topic; stages that finish asynchronously use
// it. Topic names are the logical ones (TopicJobs, ...); Topics maps them to
// the transport's names.
type Publisher struct {
	pub       message.Publisher
	topics    Topics
	inProcess bool
}

// NewPublisher wraps a Watermill publisher. With inProcess (a pub/sub that
// hands over the message's context) the Work travels by reference in that
// context and is not encoded: a stage hands it over and does not touch it
// again.
func NewPublisher(pub message.Publisher, topics Topics, inProcess bool) *Publisher {
	return &Publisher{pub: pub, topics: topics, inProcess: inProcess}
}

type workCtxKey struct{}

// Publish encodes w (or, in process, attaches it) and publishes it to topic.
func (p *Publisher) Publish(_ context.Context, topic string, w *Work) error {
	var msg *message.Message
	if p.inProcess {
		// No correlation metadata: nothing reads it in process (the Work
		// carries its id), and the map insert was one allocation per hop.
		msg = message.NewMessage(watermill.NewUUID(), nil)
		msg.SetContext(context.WithValue(context.Background(), workCtxKey{}, w))
	} else {
		var err error
		if msg, err = EncodeWork(w); err != nil {
			return err
		}
	}
	if err := p.pub.Publish(p.topics.Name(topic), msg); err != nil {
		return fmt.Errorf("publish %s to %s: %w", w.CorrelationID, topic, err)
	}
	return nil
}

// Topics maps logical topic names to the transport's (a prefix on durable
// transports).
type Topics struct{ Prefix string }

// Name is the transport's name for a logical topic.
func (t Topics) Name(topic string) string { return t.Prefix + topic }

// EncodeWork makes a message of w.
func EncodeWork(w *Work) (*message.Message, error) {
	b, err := json.Marshal(w)
	if err != nil {
		return nil, fmt.Errorf("encode work %s: %w", w.CorrelationID, err)
	}
	msg := message.NewMessage(watermill.NewUUID(), b)
	msg.Metadata.Set(MetaCorrelation, w.CorrelationID)
	return msg, nil
}

// DecodeWork reads the Work of a message.
func DecodeWork(msg *message.Message) (*Work, error) {
	var w Work
	if err := json.Unmarshal(msg.Payload, &w); err != nil {
		return nil, fmt.Errorf("decode work message %s: %w", msg.UUID, err)
	}
	return &w, nil
}

// handler adapts a Stage to a Watermill handler that publishes to the topic
// the stage names. An undecodable message is not retried: it goes to the
// poison topic with its raw bytes.
func handler(name string, st Stage, pub *Publisher, log *slog.Logger) message.NoPublishHandlerFunc {
	return func(msg *message.Message) error {
		start := time.Now()
		w, ok := msg.Context().Value(workCtxKey{}).(*Work)
		if !ok {
			var err error
			if w, err = DecodeWork(msg); err != nil {
				return poisonUndecodable(name, msg, err, pub, log)
			}
		}
		if r := msg.Metadata.Get(MetaReplayOf); r != "" && w.ReplayOf == "" {
			w.ReplayOf = r
		}
		next, err := runStage(name, st, msg.Context(), w, log)
		if err != nil {
			return err
		}
		if log.Enabled(msg.Context(), slog.LevelDebug) {
			logStageDone(name, w, next, start, log)
		}
		if next == "" {
			return nil
		}
		return pub.Publish(msg.Context(), next, w)
	}
}

// poisonUndecodable sends a message no stage can read to the poison topic.
func poisonUndecodable(name string, msg *message.Message, err error, pub *Publisher, log *slog.Logger) error {
	log.Error("undecodable message", "stage", name, "message", msg.UUID, "err", err)
	bad := &Work{CorrelationID: msg.Metadata.Get(MetaCorrelation), Raw: json.RawMessage(mustJSONString(msg.Payload)),
		Rejection: &Rejection{Reason: fmt.Sprintf("stage %s: %v", name, err), At: time.Now().UTC()}}
	return pub.Publish(msg.Context(), TopicPoison, bad)
}

// runStage runs st under stageRetry; the last error means the message is
// nacked for redelivery.
func runStage(name string, st Stage, ctx context.Context, w *Work, log *slog.Logger) (string, error) {
	var next string
	err := retry.Do(ctx, stageRetry(), func(ctx context.Context) error {
		var err error
		next, err = st(ctx, w)
		return err
	}, func(r retry.Retry) {
		log.Warn("stage failed, retrying", "stage", name, "correlation_id", w.CorrelationID,
			"attempt", r.Attempt, "wait", r.Wait, "err", r.Err)
	})
	if err != nil {
		log.Error("stage failed, message nacked for redelivery", "stage", name, "correlation_id", w.CorrelationID, "err", err)
		return "", err
	}
	return next, nil
}

// logStageDone is the line per stage transition, at debug: an item's one
// line at info is its outcome (built only when debug is enabled: it
// allocates).
func logStageDone(name string, w *Work, next string, start time.Time, log *slog.Logger) {
	log.Debug("stage done", "stage", name, "correlation_id", w.CorrelationID, "claim", w.Claim,
		"key", workKey(w), "attempt", workAttempt(w), "next", next, "duration", time.Since(start))
}

func mustJSONString(b []byte) []byte {
	s, _ := json.Marshal(string(b))
	return s
}

func workKey(w *Work) string {
	switch {
	case w.Job != nil:
		return w.Job.Name + "==" + w.Job.Version
	case w.Request != nil:
		return w.Request.Name + "==" + w.Request.Version
	}
	return ""
}

func workAttempt(w *Work) int {
	if w.Request != nil {
		return w.Request.Item.Attempts + 1
	}
	return 0
}
