// The podman client of a build: started with a pipe for each output stream,
// waited for, and stopped when the build must end early.

package podman

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"

	"github.com/refinery/refinery-worker/pipeline"
)

// runContainer runs the podman client, streams its output and, when ctx ends
// first, stops and removes the container. It returns the client's exit code,
// the stop reason ("" when the container ended by itself) and an error only
// when the client could not be started.
func (r *Runner) runContainer(ctx context.Context, name string, argv []string, out *syncWriter) (int, string, error) {
	if ctx.Err() != nil {
		return -1, pipeline.CancelReason(ctx), nil // never started: nothing to stop
	}
	// stdout and stderr have a pipe each, never one for both: a line a
	// stream writes in pieces is put together from that stream's bytes
	// only, so the other stream's lines can never split it (a secret split
	// across two writes of one stream is masked whole).
	outR, outW, err := streamPipe()
	if err != nil {
		return -1, "", fmt.Errorf("stdout pipe: %w", err)
	}
	errR, errW, err := streamPipe()
	if err != nil {
		outR.Close()
		outW.Close()
		return -1, "", fmt.Errorf("stderr pipe: %w", err)
	}
	// os.StartProcess, not os/exec: the environment is deduplicated once
	// (ClientEnv), the binary looked up once, and nothing else is needed.
	// Own process group: a terminal's Ctrl-C goes to the worker, which stops
	// the container itself, not straight to the client.
	p, startErr := os.StartProcess(r.clientPath(argv[0]), argv, &os.ProcAttr{
		Env:   r.cmd.ClientEnv(),
		Files: []*os.File{r.devNull, outW, errW},
		Sys:   &syscall.SysProcAttr{Setpgid: true},
	})
	outW.Close()
	errW.Close()
	if startErr != nil {
		outR.Close()
		errR.Close()
		return -1, "", fmt.Errorf("start %s: %w", argv[0], startErr)
	}

	drained := make(chan struct{}, 2)
	for _, rd := range []*os.File{outR, errR} {
		go func() {
			_ = copyLines(out, rd)
			drained <- struct{}{}
		}()
	}
	// The client is waited for right here, not by a goroutine of its own:
	// one goroutine fewer to wake per client. A stop runs beside it, only
	// when ctx ends first.
	exited, stopped := make(chan struct{}), make(chan struct{})
	var reason string
	stopWhenDone := context.AfterFunc(ctx, func() {
		defer close(stopped)
		reason = pipeline.CancelReason(ctx)
		r.stop(ctx, name, reason, p, exited)
	})
	state, _ := p.Wait() // a started child can always be waited for
	close(exited)
	if !stopWhenDone() {
		<-stopped
	}
	// The client is gone; let the output finish, but never hang on a pipe
	// some leftover process still holds.
	timer := time.NewTimer(drainGrace)
	defer timer.Stop()
	for n := 0; n < 2; {
		select {
		case <-drained:
			n++
		case <-timer.C:
			outR.Close()
			errR.Close()
		}
	}
	outR.Close()
	errR.Close()
	return state.ExitCode(), reason, nil
}

// stop ends a container whose build must not go on: podman stop with the
// grace period, then podman rm -f; if the client still has not exited, it is
// killed and the container removed once more (a client killed while creating
// the container may have left one behind). It returns after the client exited.
func (r *Runner) stop(ctx context.Context, name, reason string, p *os.Process, exited <-chan struct{}) {
	grace := r.cmd.opts.StopGrace
	r.logger.Info("stopping container", "container", name, "reason", reason, "grace", grace)
	bg := context.WithoutCancel(ctx)
	stopCtx, cancel := context.WithTimeout(bg, grace+15*time.Second)
	defer cancel()
	if err := r.podman(stopCtx, "stop", "-t", fmt.Sprint(seconds(grace)), name); err != nil {
		r.logger.Debug("podman stop", "container", name, "err", err)
	}
	r.remove(bg, name)
	select {
	case <-exited:
		return
	case <-time.After(5 * time.Second):
	}
	r.logger.Warn("podman client still running after stop; killing it", "container", name)
	_ = p.Kill()
	<-exited
	r.remove(bg, name)
}

func lookPath(name string) string {
	p, err := exec.LookPath(name)
	if err != nil {
		return ""
	}
	return p
}

// clientPath is the file to run for argv0: PODMAN_BIN as looked up at
// NewRunner, else looked up now (when that fails, argv0 itself, which then
// fails to start with an error naming it).
func (r *Runner) clientPath(argv0 string) string {
	if argv0 == r.cmd.opts.Bin && r.bin != "" {
		return r.bin
	}
	if p := lookPath(argv0); p != "" {
		return p
	}
	return argv0
}
