// Package metrics exposes the worker's Prometheus metrics (GET /metrics):
// queue depth and oldest item age, items per outcome, build durations,
// builds in flight, outbox backlog and dead letters, streamed and lost log
// lines, containers removed at start, and Watermill's handler timings.
package metrics

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/refinery/refinery-worker/pipeline"
)

const namespace = "refinery"

// Metrics holds the worker's collectors on its own registry.
type Metrics struct {
	reg       *prometheus.Registry
	items     *prometheus.CounterVec
	builds    *prometheus.HistogramVec
	removed   prometheus.Counter
	streamed  prometheus.Counter
	lost      prometheus.Counter
	rejected  prometheus.Counter
	paused    prometheus.Gauge
	diskLow   prometheus.Gauge
	intakeTag string
}

// Depther reports an intake's queue depth (optional for intakes).
type Depther interface {
	Depth(ctx context.Context) (ready, delayed int, oldest time.Time, err error)
}

// DepthOf is intake's Depther, or nil when it cannot tell its depth.
func DepthOf(intake any) Depther {
	if d, ok := intake.(Depther); ok {
		return d
	}
	return nil
}

// Sources are read when /metrics is scraped. Nil fields are left out.
type Sources struct {
	Intake         string // intake name label (file, redis, ...)
	Depth          Depther
	BuildsInFlight func() int
	OutboxBacklog  func() int
	OutboxDead     func() int
}

// New registers every collector. Scrapes call the Sources.
func New(src Sources) *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{reg: reg, intakeTag: src.Intake,
		items: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "items_total",
			Help: "Intake items settled, by outcome status (built, failed, retry, skipped, unmatched, reused, rejected)."}, []string{"status"}),
		builds: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: namespace, Name: "build_duration_seconds",
			Help:    "Wall time of builds, by outcome status.",
			Buckets: []float64{0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800}}, []string{"status"}),
		removed: prometheus.NewCounter(prometheus.CounterOpts{Namespace: namespace, Name: "containers_removed_at_start_total",
			Help: "Containers left by an earlier run that were removed at start."}),
		streamed: prometheus.NewCounter(prometheus.CounterOpts{Namespace: namespace, Name: "log_lines_streamed_total",
			Help: "Build log lines delivered to the control-plane's live stream."}),
		lost: prometheus.NewCounter(prometheus.CounterOpts{Namespace: namespace, Name: "log_lines_unsent_total",
			Help: "Build log lines the live stream could not deliver (kept in the local log)."}),
		rejected: prometheus.NewCounter(prometheus.CounterOpts{Namespace: namespace, Name: "items_rejected_total",
			Help: "Queue items refused by the dequeue stage (recorded in rejected.jsonl)."}),
		paused: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: namespace, Name: "intake_paused",
			Help: "1 while taking new items is paused (operator or low disk)."}),
		diskLow: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: namespace, Name: "disk_low",
			Help: "1 while OUTPUT_DIR or CACHE_DIR has less free space than MIN_FREE_DISK."}),
	}
	reg.MustRegister(m.items, m.builds, m.removed, m.streamed, m.lost, m.rejected, m.paused, m.diskLow,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	gauge := func(name, help string, f func() int) {
		if f != nil {
			reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: namespace, Name: name, Help: help},
				func() float64 { return float64(f()) }))
		}
	}
	gauge("builds_in_flight", "Builds running now.", src.BuildsInFlight)
	gauge("outbox_backlog", "Reports waiting in the outbox for the control-plane.", src.OutboxBacklog)
	gauge("outbox_dead_letters", "Reports the control-plane rejected for good (dead-letter file).", src.OutboxDead)
	if src.Depth != nil {
		reg.MustRegister(&depthCollector{src: src.Depth, intake: src.Intake,
			depth: prometheus.NewDesc(namespace+"_queue_depth", "Items in the intake queue, by state (ready, delayed).", []string{"intake", "state"}, nil),
			age:   prometheus.NewDesc(namespace+"_queue_oldest_age_seconds", "Age of the oldest queued item (by enqueued_at).", []string{"intake"}, nil),
		})
	}
	return m
}

// Register adds further collectors (the wheel index's) to the registry.
func (m *Metrics) Register(cs ...prometheus.Collector) error {
	for _, c := range cs {
		if err := m.reg.Register(c); err != nil {
			return fmt.Errorf("register metrics: %w", err)
		}
	}
	return nil
}

// Handler serves the Prometheus text format.
func (m *Metrics) Handler() http.Handler { return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}) }

// Settled counts one settled intake item.
func (m *Metrics) Settled(s pipeline.Summary) {
	m.items.WithLabelValues(s.Status).Inc()
	if s.Status == pipeline.StatusRejected {
		m.rejected.Inc()
	}
}

// ObserveBuild records one finished build and its log stream counts.
func (m *Metrics) ObserveBuild(r pipeline.Result) {
	m.builds.WithLabelValues(string(r.Status)).Observe(r.Duration.Seconds())
	if n, ok := number(r.Metadata["lines_streamed"]); ok {
		m.streamed.Add(n)
	}
	if n, ok := number(r.Metadata["lines_unsent"]); ok {
		m.lost.Add(n)
	}
}

// ContainersRemoved counts leftovers removed at start.
func (m *Metrics) ContainersRemoved(n int) { m.removed.Add(float64(n)) }

// SetPaused and SetDiskLow mirror the intake gate.
func (m *Metrics) SetPaused(v bool)  { m.paused.Set(b2f(v)) }
func (m *Metrics) SetDiskLow(v bool) { m.diskLow.Set(b2f(v)) }

func b2f(v bool) float64 {
	if v {
		return 1
	}
	return 0
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case float64:
		return n, true
	}
	return 0, false
}

type depthCollector struct {
	src        Depther
	intake     string
	depth, age *prometheus.Desc
}

func (c *depthCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.depth; ch <- c.age }

func (c *depthCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	ready, delayed, oldest, err := c.src.Depth(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.depth, err)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.depth, prometheus.GaugeValue, float64(ready), c.intake, "ready")
	ch <- prometheus.MustNewConstMetric(c.depth, prometheus.GaugeValue, float64(delayed), c.intake, "delayed")
	age := 0.0
	if !oldest.IsZero() {
		age = time.Since(oldest).Seconds()
	}
	ch <- prometheus.MustNewConstMetric(c.age, prometheus.GaugeValue, age, c.intake)
}
