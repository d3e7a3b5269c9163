package pipeline

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
)

// Stages are the pipeline's handlers, one per stage.
type Stages struct {
	Dequeue, Plan, Match, Build, Report, Requeue, Poison Stage
}

// Transport is what carries messages between the stages.
type Transport struct {
	Publisher  message.Publisher
	Subscriber message.Subscriber
	Topics     Topics
	// Durable is true when every topic can be re-read (Redis, Kafka).
	Durable bool
	// InProcess is true for an in-process pub/sub that hands over each
	// message's context: Work travels by reference, not encoded.
	InProcess bool
}

// NewRouter wires the stages onto the transport. Each stage reads one topic
// and publishes to the topic it returns. A failed stage is retried with a
// capped backoff inside the handler (short, local causes such as a full disk:
// the slot is held on purpose, which is back-pressure), then nacked; build
// retries go through the requeue stage instead.
func NewRouter(t Transport, st Stages, log *slog.Logger) (*message.Router, *Publisher, error) {
	var wlog watermill.LoggerAdapter = watermill.NopLogger{}
	if log.Enabled(context.Background(), slog.LevelDebug) {
		wlog = watermill.NewSlogLoggerWithLevelMapping(log, map[slog.Level]slog.Level{slog.LevelInfo: slog.LevelDebug})
	}
	r, err := message.NewRouter(message.RouterConfig{CloseTimeout: 30 * time.Second}, wlog)
	if err != nil {
		return nil, nil, fmt.Errorf("new router: %w", err)
	}
	// Outermost, so the stack grows while it holds the fewest frames.
	r.AddMiddleware(reserveStackMiddleware, middleware.Recoverer)
	pub := NewPublisher(t.Publisher, t.Topics, t.InProcess)
	for _, h := range []struct {
		name, topic string
		stage       Stage
	}{
		{"dequeue", TopicIntake, st.Dequeue},
		{"plan", TopicRequests, st.Plan},
		{"match", TopicPlanned, st.Match},
		{"build", TopicJobs, st.Build},
		{"report", TopicResults, st.Report},
		{"requeue", TopicReported, st.Requeue},
		{"poison", TopicPoison, st.Poison},
	} {
		if h.stage == nil {
			return nil, nil, fmt.Errorf("new router: stage %s missing", h.name)
		}
		r.AddConsumerHandler(h.name, t.Topics.Name(h.topic), t.Subscriber, handler(h.name, h.stage, pub, log))
	}
	return r, pub, nil
}
