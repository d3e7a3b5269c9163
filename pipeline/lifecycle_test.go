package pipeline

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeRouter runs until Close.
type fakeRouter struct {
	running, closed chan struct{}
	runErr          error // returned by Run at once when set
	closeOnce       sync.Once
}

func newFakeRouter() *fakeRouter {
	return &fakeRouter{running: make(chan struct{}), closed: make(chan struct{})}
}

func (r *fakeRouter) Run(context.Context) error {
	if r.runErr != nil {
		return r.runErr
	}
	close(r.running)
	<-r.closed
	return nil
}
func (r *fakeRouter) Running() chan struct{} { return r.running }
func (r *fakeRouter) IsRunning() bool {
	select {
	case <-r.closed:
		return false
	default:
	}
	select {
	case <-r.running:
		return true
	default:
		return false
	}
}
func (r *fakeRouter) Close() error { r.closeOnce.Do(func() { close(r.closed) }); return nil }

// fakeDrains records Stop; onStop runs when it is called (an item settling
// in the grace period).
type fakeDrains struct {
	mu             sync.Mutex
	drain          *Drain // what Start hands out (default: a running drain)
	startErr       error
	inFlightAtStop int
	tracker        *Tracker // when set, inFlightAtStop is read from it
	starts         int
	started        chan struct{} // receives one value per Start
	stopped        bool
	onStop         func()
}

func (d *fakeDrains) Start(context.Context) (*Drain, bool, error) {
	d.mu.Lock()
	d.starts++
	d.mu.Unlock()
	select {
	case d.started <- struct{}{}:
	default: // nobody counts any more (or nil)
	}
	if d.startErr != nil {
		return nil, false, d.startErr
	}
	if d.drain != nil {
		return d.drain, false, nil
	}
	return &Drain{ID: "d"}, false, nil
}
func (d *fakeDrains) Stop() {
	d.stopped = true
	if d.tracker != nil {
		d.inFlightAtStop = d.tracker.InFlight()
	}
	if d.onStop != nil {
		d.onStop()
	}
}

type fakeReturns struct {
	err error
	got []Settlement
}

func (f *fakeReturns) Settle(_ context.Context, ss []Settlement) error {
	f.got = append(f.got, ss...)
	return f.err
}

type fakeFlusher struct {
	err            error
	flushed, close bool
}

func (f *fakeFlusher) Flush(context.Context) error { f.flushed = true; return f.err }
func (f *fakeFlusher) Close()                      { f.close = true }

// fakeBuilds: Wait returns once the build context is cancelled; onStopped
// runs then (a build being reported settles).
type fakeBuilds struct {
	ctx       context.Context
	onStopped func()
	once      sync.Once
}

func (b *fakeBuilds) Wait() {
	<-b.ctx.Done()
	b.once.Do(func() {
		if b.onStopped != nil {
			b.onStopped()
		}
	})
}

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestLifecycleShutdown(t *testing.T) {
	cases := []struct {
		name string
		// claims tracked at shutdown; "r:" ones are being reported.
		claims []string
		// settleAtStop settles every claim when the drain stops (within grace).
		settleAtStop bool
		returnErr    error
		flushErr     error
		wantReturned []string
		wantErr      string
	}{
		{name: "idle"},
		{name: "items settle within the grace", claims: []string{"a", "b"}, settleAtStop: true},
		{name: "grace over: unreported items go back, reported ones settle", claims: []string{"a", "r:b"},
			wantReturned: []string{"a"}},
		{name: "giving back fails", claims: []string{"a"}, returnErr: errors.New("disk gone"),
			wantReturned: []string{"a"}, wantErr: "return items to the queue: disk gone"},
		{name: "flush fails", flushErr: errors.New("no write"), wantErr: "flush settlements: no write"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tracker := NewTracker()
			for _, c := range tc.claims {
				tracker.track(Claimed{Claim: c}, nil)
				if strings.HasPrefix(c, "r:") {
					tracker.BeginReport(c)
				}
			}
			settleAll := func() {
				for _, c := range tc.claims {
					tracker.Settled(Summary{Claim: c, Status: string(StatusBuilt)})
				}
			}
			buildCtx, stopBuilds := context.WithCancelCause(context.Background())
			drains := &fakeDrains{}
			if tc.settleAtStop {
				drains.onStop = settleAll
			}
			builds := &fakeBuilds{ctx: buildCtx, onStopped: func() {
				for _, c := range tc.claims {
					if strings.HasPrefix(c, "r:") {
						tracker.Settled(Summary{Claim: c, Status: string(StatusBuilt)})
					}
				}
			}}
			router, returns, settler := newFakeRouter(), &fakeReturns{err: tc.returnErr}, &fakeFlusher{err: tc.flushErr}
			l := NewLifecycle(LifecycleOptions{Router: router, Drainer: drains, Tracker: tracker, Intake: returns,
				Settler: settler, Builds: builds, StopBuilds: stopBuilds, Logger: discard()})
			l.settleWait = time.Millisecond // what does not settle by then is left for the next start
			if err := l.Start(context.Background()); err != nil {
				t.Fatal(err)
			}
			if err := l.Ready(context.Background()); err != nil {
				t.Errorf("Ready after Start: %v", err)
			}
			grace := time.Minute
			if len(tc.wantReturned) > 0 {
				grace = time.Millisecond // the items do not settle: the grace runs out
			}
			err := l.Shutdown(grace)
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("Shutdown = %v, want error %q", err, tc.wantErr)
			}
			var returned []string
			for _, s := range returns.got {
				if s.Kind != Return {
					t.Errorf("settlement %+v given back with kind %v, want Return", s, s.Kind)
				}
				returned = append(returned, s.Claim)
			}
			if strings.Join(returned, ",") != strings.Join(tc.wantReturned, ",") {
				t.Errorf("returned %v, want %v", returned, tc.wantReturned)
			}
			if !drains.stopped || !settler.flushed || !settler.close || !errors.Is(context.Cause(buildCtx), ErrShutdown) {
				t.Errorf("drain stopped %v, settler flushed %v closed %v, builds cause %v", drains.stopped,
					settler.flushed, settler.close, context.Cause(buildCtx))
			}
			if l.Ready(context.Background()) == nil {
				t.Error("Ready after Shutdown: router still running")
			}
			if n := tracker.InFlight(); tc.returnErr == nil && n != 0 {
				t.Errorf("%d items still tracked", n)
			}
		})
	}
}

type fakePreparer struct{ err error }

func (p fakePreparer) Prepare(context.Context) error { return p.err }

func TestLifecycleStartFails(t *testing.T) {
	for _, tc := range []struct {
		name               string
		prepareErr, runErr error
		want               string
	}{
		{"router fails", nil, errors.New("no subscriber"), "run router: no subscriber"},
		{"prepare fails: no router", errors.New("podman gone"), nil, "podman gone"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			router := newFakeRouter()
			router.runErr = tc.runErr
			l := NewLifecycle(LifecycleOptions{Router: router, Prepare: fakePreparer{tc.prepareErr}, Logger: discard()})
			if err := l.Start(context.Background()); err == nil || err.Error() != tc.want {
				t.Errorf("Start = %v, want %q", err, tc.want)
			}
			if router.IsRunning() {
				t.Error("router running after a failed start")
			}
		})
	}
}

func TestBuildContext(t *testing.T) {
	type key struct{}
	parent, cancel := context.WithCancel(context.WithValue(context.Background(), key{}, "v"))
	b := NewBuildContext(parent)
	cancel()
	if b.Err() != nil || b.Value(key{}) != "v" {
		t.Fatalf("after the worker's context ended: err %v, value %v", b.Err(), b.Value(key{}))
	}
	b.Stop(ErrShutdown)
	if !errors.Is(context.Cause(b), ErrShutdown) {
		t.Errorf("cause %v, want ErrShutdown", context.Cause(b))
	}
}

func TestLifecycleServe(t *testing.T) {
	cases := []struct {
		name      string
		serverErr error // the server fails with it at once; nil: ctx is cancelled
		wantErr   string
	}{
		{name: "ctx ends"},
		{name: "server fails", serverErr: errors.New("address in use"), wantErr: "address in use"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			buildCtx, stopBuilds := context.WithCancelCause(context.Background())
			drains := &fakeDrains{started: make(chan struct{}, 10)}
			l := NewLifecycle(LifecycleOptions{Router: newFakeRouter(), Drainer: drains, Tracker: NewTracker(),
				Intake: &fakeReturns{}, Settler: &fakeFlusher{}, Builds: &fakeBuilds{ctx: buildCtx},
				StopBuilds: stopBuilds, Logger: discard()})
			if err := l.Start(context.Background()); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			serverStopped := make(chan struct{})
			server := func(sctx context.Context) error {
				if tc.serverErr != nil {
					return tc.serverErr
				}
				<-sctx.Done() // ends only after the shutdown
				if !drains.stopped {
					t.Error("server stopped before the shutdown")
				}
				close(serverStopped)
				return nil
			}
			errc := make(chan error, 1)
			go func() { errc <- l.Serve(ctx, server, time.Millisecond, time.Minute) }()
			// The initial drain, then at least two of autorun.
			for range 3 {
				<-drains.started
			}
			if tc.serverErr == nil {
				cancel()
			}
			err := <-errc
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || err.Error() != tc.wantErr) {
				t.Errorf("Serve = %v, want %q", err, tc.wantErr)
			}
			if !drains.stopped {
				t.Error("Serve returned without a shutdown")
			}
			if tc.serverErr == nil {
				<-serverStopped
			}
		})
	}
}

func TestLifecycleDrainOnce(t *testing.T) {
	cases := []struct {
		name        string
		finished    bool // the drain has ended
		startErr    error
		cancelled   bool
		wantDrain   bool
		wantErr     string
		wantPending int // items in flight when the drain was stopped
	}{
		{name: "drain ends, released items' outcomes awaited", finished: true, wantDrain: true},
		{name: "start fails", startErr: errors.New("intake gone"), wantErr: "intake gone"},
		{name: "interrupted", cancelled: true, wantDrain: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tracker := NewTracker()
			dr := &Drain{ID: "d1", finished: make(chan struct{})}
			if tc.finished {
				close(dr.finished)
				tracker.track(Claimed{Claim: "released"}, nil)
			}
			buildCtx, stopBuilds := context.WithCancelCause(context.Background())
			drains := &fakeDrains{drain: dr, startErr: tc.startErr, tracker: tracker}
			router := newFakeRouter()
			l := NewLifecycle(LifecycleOptions{Router: router, Drainer: drains, Tracker: tracker, Intake: &fakeReturns{},
				Settler: &fakeFlusher{}, Builds: &fakeBuilds{ctx: buildCtx}, StopBuilds: stopBuilds, Logger: discard()})
			if err := l.Start(context.Background()); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tc.cancelled {
				cancel()
			}
			if tc.finished {
				go tracker.Settled(Summary{Claim: "released", Status: string(StatusBuilt)}) // its outcome arrives later
			}
			d, err := l.DrainOnce(ctx, 0)
			if (d != nil) != tc.wantDrain || (tc.wantErr == "" && err != nil) || (tc.wantErr != "" && (err == nil || err.Error() != tc.wantErr)) {
				t.Errorf("DrainOnce = %v, %v; want drain %v, error %q", d, err, tc.wantDrain, tc.wantErr)
			}
			if drains.inFlightAtStop != tc.wantPending {
				t.Errorf("%d items in flight at stop, want %d", drains.inFlightAtStop, tc.wantPending)
			}
			if router.IsRunning() {
				t.Error("router still running")
			}
		})
	}
}

func TestSummaryPrinter(t *testing.T) {
	var buf strings.Builder
	p := NewSummaryPrinter(&buf)
	p.Settled("d1", Summary{Claim: "c1", Status: string(StatusBuilt), Name: "numpy", Version: "2.0"})
	p.Settled("d1", Summary{Claim: "c2", Status: string(StatusFailed), Name: "lxml", Version: "5.0"})
	p.Close()
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "numpy") || !strings.Contains(lines[1], "lxml") {
		t.Errorf("printed %q", buf.String())
	}
}

// Finish prints the totals after the outcome lines and returns the command's
// error: the worker's own, else the drain's; failed builds are no error.
func TestSummaryPrinterFinish(t *testing.T) {
	boom := errors.New("manifest closed")
	cases := []struct {
		name       string
		drain      *Drain
		err        error
		wantErr    string
		wantTotals string
	}{
		{"never started", nil, boom, "manifest closed", ""},
		{"drained, one build failed", &Drain{ID: "d1", done: 2, counts: map[string]int{"built": 1, "failed": 1}}, nil, "", "total=2 built=1 failed=1"},
		{"the intake broke", &Drain{ID: "d2", done: 1, counts: map[string]int{"built": 1}, err: errors.New("queue unreadable")}, nil,
			"drain d2: queue unreadable", "total=1 built=1"},
		{"the worker failed too", &Drain{ID: "d3", err: errors.New("queue unreadable")}, boom, "manifest closed", "total=0"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var buf strings.Builder
			p := NewSummaryPrinter(&buf)
			p.Settled("d", Summary{Claim: "c1", Status: string(StatusBuilt), Name: "numpy", Version: "2.0"})
			err := p.Finish(tc.drain, tc.err)
			if (err == nil) != (tc.wantErr == "") || err != nil && err.Error() != tc.wantErr {
				t.Errorf("Finish = %v, want %q", err, tc.wantErr)
			}
			lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
			if !strings.Contains(lines[0], "numpy") {
				t.Errorf("outcome line missing: %q", buf.String())
			}
			if last := lines[len(lines)-1]; tc.wantTotals != "" && last != tc.wantTotals || tc.wantTotals == "" && len(lines) != 1 {
				t.Errorf("printed %q, want totals %q last", buf.String(), tc.wantTotals)
			}
		})
	}
}
