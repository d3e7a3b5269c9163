package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Router is the part of Watermill's router a Lifecycle runs and stops.
type Router interface {
	Run(ctx context.Context) error
	Running() chan struct{}
	IsRunning() bool
	Close() error
}

// Builds are the builds in flight: Wait returns once every build goroutine
// has ended (after StopBuilds cancelled them).
type Builds interface {
	Wait()
}

// drains starts drains and stops the taking of new items.
type drains interface {
	Start(ctx context.Context) (*Drain, bool, error)
	Stop()
}

// settleFlusher is the settler's end: flush what is queued, then stop.
type settleFlusher interface {
	Flush(ctx context.Context) error
	Close()
}

// intakeSettler gives items back to the intake at shutdown.
type intakeSettler interface {
	Settle(ctx context.Context, ss []Settlement) error
}

// Preparer readies the build runner before the first build (podman removes
// the containers a previous run left behind).
type Preparer interface {
	Prepare(ctx context.Context) error
}

// LifecycleOptions are the parts a Lifecycle starts and stops. Every field
// but Prepare is required.
type LifecycleOptions struct {
	// Prepare, when set, runs at Start before the router.
	Prepare Preparer
	Router  Router
	Drainer drains
	Tracker *Tracker
	Intake  intakeSettler
	Settler settleFlusher
	Builds  Builds
	// StopBuilds cancels the context the builds run with (the cause is
	// ErrShutdown).
	StopBuilds context.CancelCauseFunc
	Logger     *slog.Logger
}

// Lifecycle owns a running pipeline's start and its shutdown: the router,
// the drain that feeds it, the settlements it produces and the builds in
// flight.
type Lifecycle struct {
	o    LifecycleOptions
	done chan error
	// settleWait is how long outcomes being reported get to settle after
	// the grace period (settleTimeout).
	settleWait time.Duration
}

// Time limits of the shutdown steps after the grace period.
const (
	returnTimeout = 10 * time.Second // giving unfinished items back to the queue
	settleTimeout = 5 * time.Second  // outcomes being reported finish settling
	flushTimeout  = 10 * time.Second // the last settlement batch
)

// NewLifecycle wires the parts; Start runs them.
func NewLifecycle(o LifecycleOptions) *Lifecycle {
	return &Lifecycle{o: o, done: make(chan error, 1), settleWait: settleTimeout}
}

// Serve runs the pipeline until ctx ends, the router stops or server (the
// HTTP endpoints) fails; then it shuts down within grace. The server runs
// until the shutdown is over, so it answers during it. A drain starts at once
// (it recovers the items a dead worker held) and then every autorun
// interval (0: only when asked).
func (l *Lifecycle) Serve(ctx context.Context, server func(context.Context) error, autorun, grace time.Duration) error {
	serverErr := make(chan error, 1)
	serverCtx, stopServer := context.WithCancel(context.WithoutCancel(ctx))
	defer stopServer()
	go l.runServer(serverCtx, server, serverErr)
	if autorun > 0 {
		go l.autorun(ctx, autorun)
	}
	if _, _, err := l.o.Drainer.Start(ctx); err != nil {
		l.o.Logger.Warn("initial drain", "err", err)
	}
	var runErr error
	select {
	case <-ctx.Done():
		l.o.Logger.Info("shutting down", "grace", grace.String())
	case runErr = <-serverErr:
	case runErr = <-l.done:
	}
	err := l.Shutdown(grace)
	if runErr != nil {
		return runErr
	}
	return err
}

func (l *Lifecycle) runServer(ctx context.Context, server func(context.Context) error, errc chan<- error) {
	errc <- server(ctx)
}

// autorun starts a drain every interval until ctx ends (the first one after
// one interval); a drain still running is joined, not doubled.
func (l *Lifecycle) autorun(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if d, joined, err := l.o.Drainer.Start(ctx); err != nil {
			l.o.Logger.Warn("autorun drain", "err", err)
		} else if !joined {
			l.o.Logger.Debug("autorun drain started", "drain", d.ID)
		}
	}
}

// DrainOnce runs one drain to its end, waits for the outcomes of the items
// it released to a durable transport, and shuts down within grace; when ctx
// ends first it shuts down at once. The drain is nil when it could not
// start (the error says why); otherwise the error is the shutdown's.
func (l *Lifecycle) DrainOnce(ctx context.Context, grace time.Duration) (*Drain, error) {
	d, _, err := l.o.Drainer.Start(ctx)
	if err != nil {
		_ = l.Shutdown(0) // the start's error is the one to report
		return nil, err
	}
	select {
	case <-d.Done():
		l.WaitOutcomes(ctx)
	case <-ctx.Done():
		l.o.Logger.Info("interrupted, shutting down", "grace", grace.String())
	}
	return d, l.Shutdown(grace)
}

// Start prepares the runner, then runs the router (not bound to ctx:
// Shutdown stops it) and returns once it is running.
func (l *Lifecycle) Start(ctx context.Context) error {
	if l.o.Prepare != nil {
		if err := l.o.Prepare.Prepare(ctx); err != nil {
			return err
		}
	}
	go l.runRouter(context.WithoutCancel(ctx))
	select {
	case <-l.o.Router.Running():
		return nil
	case err := <-l.done:
		return fmt.Errorf("run router: %w", err)
	}
}

func (l *Lifecycle) runRouter(ctx context.Context) { l.done <- l.o.Router.Run(ctx) }

// Stopped delivers the router's end (nil after Shutdown closed it).
func (l *Lifecycle) Stopped() <-chan error { return l.done }

// Ready is the /ready check of the router.
func (l *Lifecycle) Ready(context.Context) error {
	if !l.o.Router.IsRunning() {
		return errors.New("router not running")
	}
	return nil
}

// WaitOutcomes returns once every item the worker holds has its outcome
// settled (on a durable transport items are released when published, so a
// finished drain can still have outcomes coming), or when ctx ends.
func (l *Lifecycle) WaitOutcomes(ctx context.Context) {
	_ = l.o.Tracker.WaitIdle(ctx) // ctx ending is the caller's signal, not an error here
}

// Shutdown stops taking items, lets work in flight finish within grace, then
// stops the builds still running and gives their items back to the queue
// without counting an attempt; last it flushes the settlements and closes
// the router.
func (l *Lifecycle) Shutdown(grace time.Duration) error {
	l.o.Drainer.Stop()
	var errs []error
	if err := l.waitIdle(grace); err != nil {
		errs = append(errs, l.stopInFlight()...)
	}
	l.o.StopBuilds(ErrShutdown)
	l.o.Builds.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), flushTimeout)
	if err := l.o.Settler.Flush(ctx); err != nil {
		errs = append(errs, fmt.Errorf("flush settlements: %w", err))
	}
	cancel()
	l.o.Settler.Close()
	if err := l.o.Router.Close(); err != nil {
		errs = append(errs, fmt.Errorf("close router: %w", err))
	}
	return errors.Join(errs...)
}

// waitIdle waits up to d for every tracked item to settle.
func (l *Lifecycle) waitIdle(d time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	return l.o.Tracker.WaitIdle(ctx)
}

// stopInFlight is the end of the grace period: builds are stopped, the
// items whose outcome is not being reported go back to the queue, and the
// outcomes being reported get a few more seconds to settle.
func (l *Lifecycle) stopInFlight() []error {
	l.o.Logger.Warn("shutdown grace over, stopping builds", "in_flight", l.o.Tracker.InFlight())
	returned := l.o.Tracker.TakeUnreported()
	l.o.StopBuilds(ErrShutdown)
	l.o.Builds.Wait()
	var errs []error
	if len(returned) > 0 {
		ctx, cancel := context.WithTimeout(context.Background(), returnTimeout)
		if err := l.o.Intake.Settle(ctx, returned); err != nil {
			errs = append(errs, fmt.Errorf("return items to the queue: %w", err))
		} else {
			l.o.Tracker.Returned(returned)
			l.o.Logger.Info("returned unfinished items to the queue", "items", len(returned))
		}
		cancel()
	}
	_ = l.waitIdle(l.settleWait) // what is still reporting settles at the next start
	return errs
}
