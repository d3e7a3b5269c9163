package controlplane

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/refinery/refinery-worker/adapters/regfile"
	"github.com/refinery/refinery-worker/pipeline"
	"github.com/refinery/refinery-worker/pipeline/retry"
)

// StatusSink queues a build status durably, delivered in order within group
// (outbox.Reporter implements it).
type StatusSink interface {
	ReportBuildStatus(ctx context.Context, group, key string, st BuildStatus) error
}

// IntakeOptions configures an Intake.
type IntakeOptions struct {
	// Client leases builds. Required.
	Client *Client
	// Statuses receives the building/retry/pending statuses the intake sends
	// (the final built/failed status comes from the outbox Reporter). Required.
	Statuses StatusSink
	// Dir keeps the leases held by this worker until they are settled
	// (CACHE_DIR/cp-leases). Required.
	Dir string
	// PollInterval, when positive, makes Claim wait after a pop that found
	// nothing: PollInterval after the first empty pop, doubling per further
	// empty pop up to PollMax (with jitter), back to PollInterval once a pop
	// finds builds. Zero: Claim returns at once (a one-shot drain).
	PollInterval time.Duration
	// PollMax caps the wait; default (and at least) PollInterval.
	PollMax time.Duration
	// LeaseTimeout is the control-plane's lease timeout
	// (BUILD_LEASE_TIMEOUT_SEC): a lease whose build has not started after
	// half of it is turned into building, so the control-plane does not
	// offer it to another worker while this one still holds it. Zero: no
	// renewal.
	LeaseTimeout time.Duration
	// Logger default slog.Default().
	Logger *slog.Logger
}

// Intake is QUEUE_BACKEND=controlplane: it leases builds with POST
// /api/build-queue/pop and implements pipeline.Intake. Each lease is written
// to an fsynced file under Dir before Claim returns, so a worker that dies
// with builds in flight has them taken again by the next one on the same Dir
// (Recover).
//
// On the newer control-plane a pop marks rows leased, and a row still leased
// after its lease timeout (BUILD_LEASE_TIMEOUT_SEC) goes back to pending: a
// worker that dies between the pop and the build strands nothing. The lease
// becomes building when its build starts (Started), or, when the build waits
// longer than half the lease timeout (LeaseTimeout), as soon as that half has
// passed, so the row is not offered to another worker meanwhile; every
// building row gets a final status (the outbox Reporter's, or Settle's retry
// or pending). The older control-plane marks rows building at the pop and
// never offers them again; only Recover brings those back.
type Intake struct {
	opts IntakeOptions
	root string
	own  string
	lock *os.File
	log  *slog.Logger
	// empty counts consecutive pops that found nothing (Claim is called by
	// one goroutine at a time: the drain's claim loop).
	empty int

	mu sync.Mutex
	// waiting are the leases whose build has not started, by claim.
	waiting map[string]waitingLease
	// building are the claims reported building (started or renewed).
	building map[string]bool
	// failures are the notes of leases to be retried (NoteFailure).
	failures map[string]failureNote
	stop     context.CancelFunc
	done     chan struct{}
}

type waitingLease struct {
	item     pipeline.Item
	leasedAt time.Time
}

type failureNote struct {
	summary string
	hints   []string
}

var _ pipeline.Intake = (*Intake)(nil)

type leaseFile struct {
	Claim     string          `json:"claim"`
	Raw       json.RawMessage `json:"raw"`
	ClaimedAt time.Time       `json:"claimed_at"`
}

// NewIntake opens the lease directory.
func NewIntake(opts IntakeOptions) (*Intake, error) {
	if opts.Client == nil || opts.Statuses == nil || opts.Dir == "" {
		return nil, errors.New("controlplane intake: client, statuses and dir are required")
	}
	if opts.PollMax < opts.PollInterval {
		opts.PollMax = opts.PollInterval
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	own := filepath.Join(opts.Dir, fmt.Sprintf("%d-%s", os.Getpid(), hex.EncodeToString(b[:])))
	if err := os.MkdirAll(own, 0o700); err != nil {
		return nil, fmt.Errorf("controlplane intake: %w", err)
	}
	lock, err := regfile.OpenFile(filepath.Join(own, "lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err == nil {
		err = syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	}
	if err != nil {
		return nil, fmt.Errorf("controlplane intake: lock: %w", err)
	}
	in := &Intake{opts: opts, root: opts.Dir, own: own, lock: lock, log: opts.Logger,
		waiting: map[string]waitingLease{}, building: map[string]bool{}, failures: map[string]failureNote{}}
	if opts.LeaseTimeout > 0 {
		ctx, stop := context.WithCancel(context.Background())
		in.stop, in.done = stop, make(chan struct{})
		go in.keep(ctx)
	}
	return in, nil
}

func claimFile(dir, claim string) string { return filepath.Join(dir, claim+".json") }

// Claim leases up to max builds (at most 100 per call). With PollInterval
// set, a pop that finds nothing waits before Claim returns (see
// IntakeOptions.PollInterval), so a continuous drain polls at a bounded rate.
func (in *Intake) Claim(ctx context.Context, max int) ([]pipeline.Claimed, error) {
	builds, err := in.opts.Client.PopBuilds(ctx, min(max, 100))
	if err != nil {
		return nil, fmt.Errorf("lease builds: %w", err)
	}
	if len(builds) == 0 {
		in.idle(ctx)
		return nil, nil
	}
	in.empty = 0
	now := time.Now().UTC()
	out := make([]pipeline.Claimed, 0, len(builds))
	for _, b := range builds {
		lease, _ := json.Marshal(Lease{Attempts: b.Attempts, HintIDs: b.HintIDs, LeasedAt: now.Unix()})
		it := pipeline.Item{Package: b.Package, Version: b.Version, PythonTag: b.PythonTag, PlatformTag: b.PlatformTag,
			Recipes: b.Recipes, Attempts: max0(b.Attempts - 1), PlanID: b.PlanID, RunID: b.RunID,
			Extra: map[string]json.RawMessage{LeaseField: lease}}
		raw, err := json.Marshal(it)
		if err != nil {
			return out, fmt.Errorf("encode leased build: %w", err)
		}
		var rnd [8]byte
		_, _ = rand.Read(rnd[:])
		claim := "cp-" + hex.EncodeToString(rnd[:])
		lf, _ := json.Marshal(leaseFile{Claim: claim, Raw: raw, ClaimedAt: now})
		if err := writeFileSync(claimFile(in.own, claim), lf); err != nil {
			// Hand out nothing we could not keep: the pipeline would lose it on a crash.
			in.log.Error("controlplane intake: cannot keep a lease; the control-plane offers it again after its lease timeout (the older version never does)", "package", b.Package, "err", err)
			continue
		}
		in.wait(claim, it, now)
		out = append(out, pipeline.Claimed{Claim: claim, Raw: raw, ClaimedAt: now})
	}
	return out, nil
}

func max0(n int) int { return max(n, 0) }

// idle waits after an empty pop, or until ctx ends: PollInterval doubling
// per further empty pop to PollMax, jittered in [3d/4, d].
func (in *Intake) idle(ctx context.Context) {
	if in.opts.PollInterval <= 0 {
		return
	}
	in.empty++
	p := retry.Policy{Initial: in.opts.PollInterval, Max: in.opts.PollMax, Jitter: 0.25}
	_ = p.Wait(ctx, in.empty)
}

// Started reports "building" for a leased build when its build starts (not at
// lease time, so a worker that dies before the build leaves the row leased,
// for the control-plane's lease timeout to recover), unless the lease keeper
// already did. Items not leased from the control-plane are ignored.
func (in *Intake) Started(ctx context.Context, w *pipeline.Work) {
	if w == nil || w.Request == nil {
		return
	}
	it := w.Request.Item
	lease, ok := LeaseOf(it)
	if !ok {
		return
	}
	var recipes []string
	if w.Job != nil {
		recipes = w.Job.Recipes
	}
	in.markBuilding(ctx, w.Claim, it, lease, recipes, false)
}

func writeFileSync(path string, b []byte) error {
	tmp := path + ".tmp"
	f, err := regfile.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return err
	}
	d, err := regfile.Open(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Recover takes over the leases of workers that are gone (their lock is
// free), keeping their claims, and returns them.
func (in *Intake) Recover(ctx context.Context) ([]pipeline.Claimed, error) {
	ents, err := os.ReadDir(in.root)
	if err != nil {
		return nil, fmt.Errorf("controlplane intake: %w", err)
	}
	var out []pipeline.Claimed
	for _, e := range ents {
		dir := filepath.Join(in.root, e.Name())
		if !e.IsDir() || dir == in.own {
			continue
		}
		lock, err := regfile.OpenFile(filepath.Join(dir, "lock"), os.O_CREATE|os.O_RDWR, 0o600)
		if err != nil {
			continue
		}
		if syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil {
			_ = lock.Close()
			continue // its worker is alive
		}
		files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
		for _, f := range files {
			b, err := regfile.ReadFile(f)
			var lf leaseFile
			if err != nil || json.Unmarshal(b, &lf) != nil || lf.Claim == "" {
				in.log.Error("controlplane intake: unreadable lease file left as is", "file", f)
				continue
			}
			if err := os.Rename(f, claimFile(in.own, lf.Claim)); err != nil {
				continue
			}
			if it, err := pipeline.DecodeItem(lf.Raw); err == nil {
				in.wait(lf.Claim, it, lf.ClaimedAt)
			}
			out = append(out, pipeline.Claimed{Claim: lf.Claim, Raw: lf.Raw, ClaimedAt: lf.ClaimedAt})
		}
		if rest, _ := filepath.Glob(filepath.Join(dir, "*.json")); len(rest) == 0 {
			_ = os.RemoveAll(dir)
		}
		_ = lock.Close()
	}
	return out, ctx.Err()
}

// Settle ends leases: Release forgets the lease (the outbox Reporter queued
// its final status), Requeue reports "retry" with backoff_until from the new
// item's not_before, Return (shutdown) reports "pending" so the control-plane
// may offer the build again.
func (in *Intake) Settle(ctx context.Context, ss []pipeline.Settlement) error {
	var errs []error
	for _, s := range ss {
		path := claimFile(in.own, s.Claim)
		b, err := regfile.ReadFile(path)
		if errors.Is(err, os.ErrNotExist) {
			continue // already settled
		}
		var lf leaseFile
		if err == nil {
			err = json.Unmarshal(b, &lf)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("settle %s: %w", s.Claim, err))
			continue
		}
		it, _ := pipeline.DecodeItem(lf.Raw)
		lease, _ := LeaseOf(it)
		st := BuildStatus{Package: it.Package, Version: it.Version, Attempts: lease.Attempts}
		note := in.forget(s.Claim)
		switch s.Kind {
		case pipeline.Requeue:
			next, err := pipeline.DecodeItem(s.Item)
			if err != nil {
				errs = append(errs, fmt.Errorf("settle %s: %w", s.Claim, err))
				continue
			}
			st.Status, st.BackoffUntil, st.Error = "retry", next.NotBefore, "requeued by the worker"
			if note.summary != "" {
				st.Error += ": " + note.summary
			}
			// The retry's recipes (an auto-fix adds its hints' recipes) and
			// hint ids (the failure's, the lease's, the auto-fix's), so the
			// next lease can carry them.
			st.FailureSummary, st.Recipes = note.summary, next.Recipes
			st.HintIDs = nil
			addHint := func(id string) {
				if id != "" && !slices.Contains(st.HintIDs, id) {
					st.HintIDs = append(st.HintIDs, id)
				}
			}
			for _, id := range note.hints {
				addHint(id)
			}
			for _, id := range lease.HintIDs {
				addHint(id)
			}
			var fixIDs []string
			if raw, ok := next.Extra["auto_fix_hints"]; ok && json.Unmarshal(raw, &fixIDs) == nil {
				for _, id := range fixIDs {
					addHint(id)
				}
			}
		case pipeline.Return:
			st.Status = "pending"
		}
		if st.Status != "" {
			if err := in.opts.Statuses.ReportBuildStatus(ctx, s.Claim, st.Status+"-"+s.Claim, st); err != nil {
				errs = append(errs, fmt.Errorf("settle %s: %w", s.Claim, err))
				continue
			}
		}
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("settle %s: %w", s.Claim, err))
		}
	}
	return errors.Join(errs...)
}

// Ready checks that the control-plane answers.
func (in *Intake) Ready(ctx context.Context) error {
	_, _, err := in.opts.Client.once(ctx, Request{Method: http.MethodGet, Path: "/api/settings"})
	if err != nil {
		return fmt.Errorf("control-plane build queue: %w", err)
	}
	return nil
}

// Close stops renewing leases and releases this worker's hold; its unsettled
// leases stay on disk for Recover.
func (in *Intake) Close() error {
	if in.stop != nil {
		in.stop()
		<-in.done
	}
	return in.lock.Close()
}

// String names the intake in logs.
func (in *Intake) String() string {
	return "controlplane:" + strings.TrimSuffix(in.opts.Client.base.String(), "/")
}
