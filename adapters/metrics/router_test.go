package metrics

import (
	"context"
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"
)

// TestRouterRecordsEveryHandlerOutcome runs real handlers on gochannel: one
// that succeeds, one that fails once, one that panics once (the Recoverer
// makes it an error). Each failure is nacked and redelivered.
func TestRouterRecordsEveryHandlerOutcome(t *testing.T) {
	pubsub := gochannel.NewGoChannel(gochannel.Config{}, watermill.NopLogger{})
	r, err := message.NewRouter(message.RouterConfig{}, watermill.NopLogger{})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan string, 10)
	handlers := map[string]func(n int) error{
		"fine":  func(int) error { return nil },
		"flaky": func(n int) error { return map[bool]error{true: errors.New("first try fails")}[n == 1] },
		"panics": func(n int) error {
			if n == 1 {
				panic("first try panics")
			}
			return nil
		},
	}
	for name, f := range handlers {
		calls := 0 // one message per topic: its deliveries come one after another
		r.AddConsumerHandler(name, name, pubsub, func(*message.Message) error {
			calls++
			return f(calls)
		})
	}
	// Outermost: tells the test a delivery is over, after the metrics
	// middleware (innermost) has recorded it.
	r.AddMiddleware(func(h message.HandlerFunc) message.HandlerFunc {
		return func(msg *message.Message) ([]*message.Message, error) {
			out, err := h(msg)
			if err == nil {
				done <- message.HandlerNameFromCtx(msg.Context())
			}
			return out, err
		}
	}, middleware.Recoverer)
	m := New(Sources{Intake: "file"})
	m.Router(r)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = r.Run(ctx) }()
	<-r.Running()
	for name := range handlers {
		if err := pubsub.Publish(name, message.NewMessage(watermill.NewUUID(), nil)); err != nil {
			t.Fatal(err)
		}
	}
	for range handlers {
		<-done
	}
	_ = r.Close()

	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	for _, want := range []string{
		`refinery_watermill_handler_execution_time_seconds_count{handler_name="fine",success="true"} 1`,
		`refinery_watermill_handler_execution_time_seconds_count{handler_name="fine",success="false"} 0`,
		`refinery_watermill_handler_execution_time_seconds_count{handler_name="flaky",success="false"} 1`,
		`refinery_watermill_handler_execution_time_seconds_count{handler_name="flaky",success="true"} 1`,
		`refinery_watermill_handler_execution_time_seconds_count{handler_name="panics",success="false"} 1`,
		`refinery_watermill_subscriber_messages_received_total{acked="false",handler_name="panics"} 1`,
		`refinery_watermill_subscriber_messages_received_total{acked="true",handler_name="panics"} 1`,
		`refinery_watermill_subscriber_messages_received_total{acked="true",handler_name="fine"} 1`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if t.Failed() {
		t.Logf("/metrics:\n%s", body)
	}
}
