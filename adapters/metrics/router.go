package metrics

import (
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/prometheus/client_golang/prometheus"
)

// handlerBuckets are Watermill's own handler buckets (0.5 ms to 1 s): stage
// handlers take microseconds to milliseconds.
var handlerBuckets = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1}

// handlerSeries are one handler's pre-resolved series.
type handlerSeries struct {
	ok, failed    prometheus.Observer
	acked, nacked prometheus.Counter
}

// Router records every handler's execution time and the messages it
// received, under the names Watermill's Prometheus builder uses
// (refinery_watermill_handler_execution_time_seconds{handler_name,success},
// refinery_watermill_subscriber_messages_received_total{handler_name,acked}).
//
// It replaces that builder because of what the builder costs per message:
// its subscriber decorator puts one more goroutine and channel between the
// transport and each handler, and it builds a label map and looks the series
// up on every message. Here each handler's series are resolved once, when
// the router is wired; a message costs two clock reads, one map read and one
// observation. (The builder's publish-time histogram measured nothing here:
// the stages publish through pipeline.Publisher, not the router.) Call after
// every handler has been added.
func (m *Metrics) Router(r *message.Router) {
	exec := prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: namespace, Subsystem: "watermill",
		Name: "handler_execution_time_seconds", Help: "Time spent in each pipeline stage's handler, by success.",
		Buckets: handlerBuckets}, []string{"handler_name", "success"})
	received := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Subsystem: "watermill",
		Name: "subscriber_messages_received_total", Help: "Messages each pipeline stage's handler received, by acked."},
		[]string{"handler_name", "acked"})
	m.reg.MustRegister(exec, received)
	series := map[string]handlerSeries{}
	for name := range r.Handlers() {
		series[name] = handlerSeries{ok: exec.WithLabelValues(name, "true"), failed: exec.WithLabelValues(name, "false"),
			acked: received.WithLabelValues(name, "true"), nacked: received.WithLabelValues(name, "false")}
	}
	r.AddMiddleware(func(h message.HandlerFunc) message.HandlerFunc {
		return func(msg *message.Message) (out []*message.Message, err error) {
			s, ok := series[message.HandlerNameFromCtx(msg.Context())]
			if !ok {
				return h(msg)
			}
			start := time.Now()
			returned := false
			defer func() {
				// A panic (returned still false) counts as a failure;
				// the Recoverer outside turns it into an error.
				if returned && err == nil {
					s.ok.Observe(time.Since(start).Seconds())
					s.acked.Inc()
					return
				}
				s.failed.Observe(time.Since(start).Seconds())
				s.nacked.Inc()
			}()
			out, err = h(msg)
			returned = true
			return out, err
		}
	})
}
