// Package outbox makes control-plane reports durable before the pipeline
// moves on, and delivers them later, in order per job, for as long as the
// worker runs.
//
// Each report is a Record (an HTTP call with its body already encoded)
// written to its own fsynced file under Options.Dir before Add returns
// (see instance.go for the layout shared by several workers). Run delivers the records: one at a time per group (correlation
// id), in the order they were added; a retryable failure (network error, 5xx,
// 429, or any error that does not say it is permanent) is retried forever with
// capped exponential backoff (retry.Policy; each try is one HTTP request, the
// client does not retry inside it); a permanent rejection (another 4xx) moves the
// record to Dir/dead-letter.jsonl with the answer and is counted. Records left
// by an earlier run are read again by Open. Every delivery carries the
// record's Key as Idempotency-Key, so a redelivery after a crash can be
// recognised by the control-plane.
package outbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/refinery/refinery-worker/adapters/controlplane"
)

// Sender delivers one record; *controlplane.Client implements it.
type Sender interface {
	Send(ctx context.Context, req controlplane.Request) ([]byte, error)
}

// Options configures an Outbox.
type Options struct {
	// Dir holds the outbox (CACHE_DIR/outbox). Required; created if missing.
	Dir string
	// Sender delivers records. Required for Run.
	Sender Sender
	// Concurrency is how many groups are delivered at once. Default 4.
	Concurrency int
	// MinBackoff is the first wait after a retryable failure of a group; it
	// doubles per failure, with jitter. Default 500ms.
	MinBackoff time.Duration
	// MaxBackoff caps the wait. Default 30s.
	MaxBackoff time.Duration
	// AdoptInterval is how often Run takes over the records of workers that
	// are gone (Open always does). Default 1m.
	AdoptInterval time.Duration
	// Logger receives delivery failures and dead letters. Default slog.Default().
	Logger *slog.Logger
}

// Outbox is a durable, ordered-per-group delivery queue. Its methods are safe
// for concurrent use.
type Outbox struct {
	opts    Options
	root    string // Dir/instances
	own     string // this instance's directory
	pending string
	lock    *os.File
	log     *slog.Logger

	mu      sync.Mutex
	groups  map[string]*group
	keys    map[string]bool
	nextSeq uint64
	// nextFile numbers batch files; files counts the undelivered records of each.
	nextFile uint64
	files    map[uint64]int
	backlog  int
	dead     int
	stats    Stats
	wake     chan struct{}
	changed  chan struct{} // closed and replaced whenever backlog changes
}

type group struct {
	recs      []*Record
	busy      bool
	failures  int
	notBefore time.Time
}

// Open creates Dir if needed and loads the records a previous run left.
func Open(opts Options) (*Outbox, error) {
	if opts.Dir == "" {
		return nil, errors.New("outbox: dir is required")
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = 4
	}
	if opts.MinBackoff <= 0 {
		opts.MinBackoff = 500 * time.Millisecond
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 30 * time.Second
	}
	if opts.AdoptInterval <= 0 {
		opts.AdoptInterval = time.Minute
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	root := filepath.Join(opts.Dir, instancesDir)
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, fmt.Errorf("outbox: create %s: %w", root, err)
	}
	own, lock, err := openInstance(root)
	if err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	o := &Outbox{opts: opts, root: root, own: own, pending: filepath.Join(own, pendingDir), lock: lock, log: opts.Logger,
		groups: map[string]*group{}, keys: map[string]bool{}, nextSeq: 1, nextFile: 1, files: map[uint64]int{},
		wake: make(chan struct{}, 1), changed: make(chan struct{})}
	dead, err := countLines(filepath.Join(opts.Dir, deadLetterFile))
	if err != nil {
		_ = lock.Close()
		return nil, fmt.Errorf("outbox: %w", err)
	}
	o.dead = dead
	n, err := o.adopt()
	if err != nil {
		_ = lock.Close()
		return nil, fmt.Errorf("outbox: %w", err)
	}
	if n > 0 {
		o.log.Info("outbox: pending reports from an earlier run", "records", n, "dir", opts.Dir)
	}
	return o, nil
}

// adopt takes over the batches of instances that are gone (a worker that
// died or closed) and queues their records. Open calls it, and Run every
// AdoptInterval, so the reports of a worker that stopped are delivered by one
// that runs.
func (o *Outbox) adopt() (int, error) {
	nums, err := adoptOrphans(o.root, o.own, func() uint64 {
		o.mu.Lock()
		defer o.mu.Unlock()
		n := o.nextFile
		o.nextFile++
		return n
	})
	added := 0
	for _, n := range nums {
		added += o.loadFile(n)
	}
	return added, err
}

// loadFile queues the records of batch file n of this instance, except those
// whose key is already pending. A file that cannot be read is moved to
// Dir/corrupt and logged, so it neither blocks the worker nor disappears.
func (o *Outbox) loadFile(n uint64) int {
	recs, err := loadBatch(o.pending, n)
	if err != nil {
		o.log.Error("outbox: unreadable batch moved to the corrupt directory", "batch", n, "err", err)
		if qerr := quarantine(o.pending, n, filepath.Join(o.opts.Dir, "corrupt")); qerr != nil {
			o.log.Error("outbox: cannot move an unreadable batch", "batch", n, "err", qerr)
		}
		return 0
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	added := 0
	for _, r := range recs {
		if o.keys[r.Key] {
			continue
		}
		r.Seq = o.nextSeq
		o.nextSeq++
		o.insertLocked(r)
		added++
	}
	if added == 0 {
		_ = os.Remove(filepath.Join(o.pending, recName(n)))
		return 0
	}
	o.files[n] = added
	o.poke()
	return added
}

// Close releases this outbox's claim on its records (they stay on disk and
// are adopted by the next Open). Stop Run first.
func (o *Outbox) Close() error {
	return o.lock.Close()
}

// insertLocked adds r to its group, keeping the group in seq order.
func (o *Outbox) insertLocked(r *Record) {
	g := o.groups[r.Group]
	if g == nil {
		g = &group{}
		o.groups[r.Group] = g
	}
	i := len(g.recs)
	for i > 0 && g.recs[i-1].Seq > r.Seq {
		i--
	}
	g.recs = append(g.recs, nil)
	copy(g.recs[i+1:], g.recs[i:])
	g.recs[i] = r
	o.keys[r.Key] = true
	o.backlog++
	o.changedLocked()
}

func (o *Outbox) changedLocked() {
	close(o.changed)
	o.changed = make(chan struct{})
}

// Add makes recs durable (fsynced) and queues them for delivery, in order
// within their groups. Records whose Key is already pending are skipped.
func (o *Outbox) Add(ctx context.Context, recs ...Record) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("outbox add: %w", err)
	}
	o.mu.Lock()
	var todo []*Record
	now := time.Now().UTC()
	for _, r := range recs {
		if r.Key == "" || r.Path == "" {
			o.mu.Unlock()
			return errors.New("outbox add: record needs a key and a path")
		}
		if o.keys[r.Key] {
			continue
		}
		o.keys[r.Key] = true // reserved; released below on failure
		r.Seq = o.nextSeq
		o.nextSeq++
		r.CreatedAt = now
		if r.Method == "" {
			r.Method = "POST"
		}
		todo = append(todo, &r)
	}
	if len(todo) == 0 {
		o.mu.Unlock()
		return nil
	}
	file := o.nextFile
	o.nextFile++
	for _, r := range todo {
		r.file = file
	}
	o.mu.Unlock()
	err := writeBatch(o.pending, file, todo)
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, r := range todo {
		delete(o.keys, r.Key)
		if err == nil {
			o.insertLocked(r)
		}
	}
	if err != nil {
		return fmt.Errorf("outbox add: %w", err)
	}
	o.files[file] = len(todo)
	o.poke()
	return nil
}

func (o *Outbox) poke() {
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

// Backlog is the number of records waiting for delivery.
func (o *Outbox) Backlog() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.backlog
}

// DeadLetters is the number of records rejected for good (kept in
// Dir/dead-letter.jsonl), this run and earlier ones.
func (o *Outbox) DeadLetters() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.dead
}

// Stats are counters of this run, for metrics.
type Stats struct {
	// Backlog is the number of records waiting for delivery.
	Backlog int
	// DeadLetters counts records rejected for good, earlier runs included.
	DeadLetters int
	// Delivered counts records accepted by the control-plane in this run.
	Delivered int64
	// Failures counts failed delivery attempts (retried later) in this run.
	Failures int64
	// Waiting is the number of groups waiting for a retry after a failure.
	Waiting int
}

// Stats returns the current counters.
func (o *Outbox) Stats() Stats {
	o.mu.Lock()
	defer o.mu.Unlock()
	st := o.stats
	st.Backlog, st.DeadLetters = o.backlog, o.dead
	for _, g := range o.groups {
		if g.failures > 0 {
			st.Waiting++
		}
	}
	return st
}

// WaitEmpty blocks until the backlog is zero or ctx is done.
func (o *Outbox) WaitEmpty(ctx context.Context) error {
	for {
		o.mu.Lock()
		n, ch := o.backlog, o.changed
		o.mu.Unlock()
		if n == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("outbox: %d reports still pending: %w", n, ctx.Err())
		case <-ch:
		}
	}
}
