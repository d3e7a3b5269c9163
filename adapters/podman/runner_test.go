package podman

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/refinery/refinery-worker/adapters/joblog"
	"github.com/refinery/refinery-worker/pipeline"
)

func TestRunTimeoutStopsAndRemovesContainer(t *testing.T) {
	t.Parallel()
	s := newRealRunner(t, func(o *Options) {
		o.RunCmd = `sh -c 'echo started; exec sleep 600'`
		o.Timeout, o.StopGrace = 2*time.Second, 1*time.Second
	})
	job := newJob("sleeper", "1.0")
	w := newWatchWriter("")
	res := s.runner.Run(context.Background(), job, w)
	if res.Status != pipeline.StatusFailed || res.Reason != pipeline.ReasonTimeout {
		t.Fatalf("result %+v\nlog:\n%s", res, w)
	}
	if res.ExitCode == 0 {
		t.Errorf("exit code 0 after a stop")
	}
	if left := containersOf(t, s.opts.Bin, LabelJob, job.ID); len(left) > 0 {
		t.Fatalf("containers left after timeout: %v", left)
	}
	if !strings.Contains(strings.Join(res.LogTail, "\n"), "started") {
		t.Errorf("log tail %q lacks the container's output", res.LogTail)
	}
}

func TestRunCancelReasons(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		cause error
		want  string
	}{
		{pipeline.ErrShutdown, pipeline.ReasonShutdown},
		{pipeline.ErrCancelled, pipeline.ReasonCancelled},
	} {
		t.Run(tc.want, func(t *testing.T) {
			t.Parallel()
			s := newRealRunner(t, func(o *Options) {
				o.RunCmd = `sh -c 'echo ready; exec sleep 600'`
				o.StopGrace = time.Second
			})
			job := newJob("cancelme", "1.0")
			ctx, cancel := context.WithCancelCause(context.Background())
			defer cancel(nil)
			w := newWatchWriter("ready\n")
			done := runAsync(ctx, s.runner, job, w)
			select {
			case <-w.seen:
			case res := <-done:
				t.Fatalf("ended before cancel: %+v\n%s", res, w)
			}
			cancel(tc.cause)
			res := <-done
			if res.Status != pipeline.StatusFailed || res.Reason != tc.want {
				t.Fatalf("result %+v", res)
			}
			if left := containersOf(t, s.opts.Bin, LabelJob, job.ID); len(left) > 0 {
				t.Fatalf("containers left after cancel: %v", left)
			}
		})
	}
}

// TestLogStreamsWhileRunning: the container prints a line every 200 ms and
// exits only once the test, having received the first line, lets it; if the
// first line were delivered only at exit this test would hang until the
// runner's timeout and fail.
func TestLogStreamsWhileRunning(t *testing.T) {
	t.Parallel()
	s := newRealRunner(t, func(o *Options) {
		o.RunCmd = `sh -c 'i=0; while [ ! -e /output/release ]; do i=$((i+1)); echo tick $i; sleep 0.2; done; echo released'`
		o.Timeout = 60 * time.Second
	})
	w := newWatchWriter("tick 1\n")
	job := newJob("ticker", "1.0")
	done := runAsync(context.Background(), s.runner, job, w)
	select {
	case <-w.seen:
	case res := <-done:
		t.Fatalf("container ended before its first line reached the writer: %+v\n%s", res, w)
	}
	// The container's /output is the job's own build dir.
	if err := os.WriteFile(filepath.Join(s.runner.cmd.JobDir(job), "release"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	res := <-done
	// Exit 0 and no wheel: the no_wheel failure.
	if res.Status != pipeline.StatusFailed || res.Reason != pipeline.ReasonNoWheel || res.ExitCode != 0 {
		t.Fatalf("result %+v", res)
	}
	if !strings.Contains(w.String(), "released\n") {
		t.Errorf("log lacks the last line:\n%s", w)
	}
}

// TestHugeLineDoesNotStall: a 5 MiB line without a break goes through the
// runner and the job log (cap 1 MiB) without stalling, in bounded segments.
func TestHugeLineDoesNotStall(t *testing.T) {
	t.Parallel()
	s := newRealRunner(t, func(o *Options) {
		o.RunCmd = `sh -c 'head -c 5242880 /dev/zero | tr "\0" x; echo; echo after-the-long-line'`
	})
	sink := &maxSink{}
	opener := joblog.NewOpener(filepath.Join(s.opts.OutputDir, "logs"), joblog.WithMaxBytes(1<<20),
		joblog.WithSinks(func(context.Context, pipeline.Job) joblog.LineSink { return sink }))
	job := newJob("longline", "1.0")
	jl, err := opener.OpenJobLog(context.Background(), job)
	if err != nil {
		t.Fatal(err)
	}
	res := s.runner.Run(context.Background(), job, jl)
	meta, err := jl.Close()
	if err != nil {
		t.Fatal(err)
	}
	if res.Reason != pipeline.ReasonNoWheel || res.ExitCode != 0 {
		t.Fatalf("result %+v", res)
	}
	if got := meta["log_bytes"].(int64); got < 5<<20 {
		t.Errorf("log saw %d bytes, want > 5 MiB", got)
	}
	if meta["log_bytes_cut"].(int64) <= 0 {
		t.Errorf("nothing cut from a 5 MiB log with a 1 MiB cap: %v", meta)
	}
	if sink.max > joblog.DefaultSegmentSize {
		t.Errorf("a sink got a %d-byte segment", sink.max)
	}
	if !sink.sawAfter {
		t.Error("the line after the long one never reached the sink")
	}
	if info, err := os.Stat(jl.Path()); err != nil || info.Size() > 1<<20+200 {
		t.Errorf("log file %v over its cap: %v", info.Size(), err)
	}
}

type maxSink struct {
	max      int
	sawAfter bool
}

func (s *maxSink) Line(_ int64, line []byte, _ time.Time) {
	s.max = max(s.max, len(line))
	if string(line) == "after-the-long-line" {
		s.sawAfter = true
	}
}
func (s *maxSink) Close() map[string]any { return nil }

func TestCleanupRemovesLeftoversByLabel(t *testing.T) {
	t.Parallel()
	s := newRealRunner(t, nil)
	other := uniqueID("other")
	start := func(worker string) {
		args := []string{"run", "-d", "--pull=never", "--network=none", "--init",
			"--label", LabelWorker + "=" + worker, "--label", LabelJob + "=orphan", LocalImage, "sleep", "600"}
		if out, err := exec.Command(s.opts.Bin, args...).CombinedOutput(); err != nil {
			t.Fatalf("podman run -d: %v: %s", err, out)
		}
	}
	start(s.opts.WorkerID)
	start(s.opts.WorkerID)
	start(other)
	t.Cleanup(func() {
		ids := containersOf(t, s.opts.Bin, LabelWorker, other)
		_ = exec.Command(s.opts.Bin, append([]string{"rm", "-f", "-t", "0"}, ids...)...).Run()
	})
	n, err := s.runner.Cleanup(context.Background())
	if err != nil || n != 2 {
		t.Fatalf("Cleanup = %d, %v; want 2", n, err)
	}
	if left := containersOf(t, s.opts.Bin, LabelWorker, s.opts.WorkerID); len(left) > 0 {
		t.Fatalf("left: %v", left)
	}
	if left := containersOf(t, s.opts.Bin, LabelWorker, other); len(left) != 1 {
		t.Fatalf("another worker's container was touched: %v", left)
	}
}

// TestKilledClientLeavesContainerCleanupRemovesIt shows why the runner stops
// containers itself: SIGKILL of the podman client leaves the container
// running; Cleanup (run at the worker's start) removes it by label.
func TestKilledClientLeavesContainerCleanupRemovesIt(t *testing.T) {
	t.Parallel()
	s := newRealRunner(t, func(o *Options) { o.RunCmd = `sh -c 'echo up; exec sleep 600'` })
	cmd, err := NewCommander(s.opts)
	if err != nil {
		t.Fatal(err)
	}
	job := newJob("orphan", "1.0")
	argv, err := cmd.Command(job)
	if err != nil {
		t.Fatal(err)
	}
	// The runner creates the job's build dir (mounted at /output) before its
	// run; so does this client.
	if err := os.MkdirAll(cmd.JobDir(job), 0o755); err != nil {
		t.Fatal(err)
	}
	client := exec.Command(argv[0], argv[1:]...)
	w := newWatchWriter("up\n")
	client.Stdout = w
	if err := client.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- client.Wait() }()
	select {
	case <-w.seen:
	case err := <-exited:
		t.Fatalf("client ended early: %v", err)
	}
	_ = client.Process.Kill()
	<-exited
	if left := containersOf(t, s.opts.Bin, LabelJob, job.ID); len(left) != 1 {
		t.Fatalf("after SIGKILL of the client: containers %v, want the orphan", left)
	}
	n, err := s.runner.Cleanup(context.Background())
	if err != nil || n != 1 {
		t.Fatalf("Cleanup = %d, %v", n, err)
	}
	if left := containersOf(t, s.opts.Bin, LabelJob, job.ID); len(left) != 0 {
		t.Fatalf("left after Cleanup: %v", left)
	}
}

// TestLeftoverSameNameIsReplaced: a container of the same job attempt that
// survived a crash (same deterministic name) is removed and the run retried.
func TestLeftoverSameNameIsReplaced(t *testing.T) {
	t.Parallel()
	s := newRealRunner(t, func(o *Options) { o.RunCmd = "true" })
	job := newJob("leftover", "1.0")
	cmd, _ := NewCommander(s.opts)
	if out, err := exec.Command(s.opts.Bin, "create", "--pull=never", "--network=none", "--name", cmd.ContainerName(job),
		"--label", LabelWorker+"="+s.opts.WorkerID, LocalImage, "true").CombinedOutput(); err != nil {
		t.Fatalf("podman create: %v: %s", err, out)
	}
	w := newWatchWriter("")
	res := s.runner.Run(context.Background(), job, w)
	if res.ExitCode != 0 || res.Reason != pipeline.ReasonNoWheel {
		t.Fatalf("result %+v\n%s", res, w)
	}
	if !strings.Contains(w.String(), "removing leftover container") {
		t.Errorf("log does not mention the leftover:\n%s", w)
	}
}

// liveOtherOwner starts a process that stays alive for the test and returns
// its owner identity: a container labelled with it belongs to "another live
// worker process" on this host.
func liveOtherOwner(t *testing.T) string {
	t.Helper()
	p := exec.Command("sleep", "600")
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Process.Kill(); _ = p.Wait() })
	owner, err := ProcessIdentity(p.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	return owner
}

// Two workers with the same worker label on one host (no WORKER_ID, same host
// name): the one starting keeps the other's running build and removes only
// containers whose owner is gone (or unknown).
func TestCleanupKeepsContainersOfALiveWorkerProcess(t *testing.T) {
	t.Parallel()
	s := newRealRunner(t, nil)
	live := liveOtherOwner(t)
	parts := strings.Split(live, "/")
	dead := parts[0] + "/" + parts[1] + "/1" // same pid, another start: a process that is gone
	start := func(owner string) string {
		args := []string{"run", "-d", "--pull=never", "--network=none", "--init",
			"--label", LabelWorker + "=" + s.opts.WorkerID, "--label", LabelJob + "=" + uniqueID("j")}
		if owner != "" {
			args = append(args, "--label", LabelOwner+"="+owner)
		}
		out, err := exec.Command(s.opts.Bin, append(args, LocalImage, "sleep", "600")...).Output()
		if err != nil {
			t.Fatalf("podman run -d: %v", err)
		}
		return strings.TrimSpace(string(out))
	}
	liveID := start(live)
	start(dead)
	start("")
	t.Cleanup(func() { _ = exec.Command(s.opts.Bin, "rm", "-f", "-t", "0", liveID).Run() })
	n, err := s.runner.Cleanup(context.Background())
	if err != nil || n != 2 {
		t.Fatalf("Cleanup = %d, %v; want the 2 containers without a live owner", n, err)
	}
	left := containersOf(t, s.opts.Bin, LabelWorker, s.opts.WorkerID)
	if len(left) != 1 || !strings.HasPrefix(liveID, left[0]) {
		t.Fatalf("left %v, want only the live worker's %s", left, liveID)
	}
}

// A container with the job attempt's name run by another live worker
// process is not removed: the build fails with a reason naming it.
func TestSameNameOfALiveWorkerIsNotRemoved(t *testing.T) {
	t.Parallel()
	s := newRealRunner(t, func(o *Options) { o.RunCmd = "true" })
	job := newJob("busy", "1.0")
	cmd, _ := NewCommander(s.opts)
	name := cmd.ContainerName(job)
	if out, err := exec.Command(s.opts.Bin, "create", "--pull=never", "--network=none", "--name", name,
		"--label", LabelWorker+"="+s.opts.WorkerID, "--label", LabelOwner+"="+liveOtherOwner(t),
		LocalImage, "true").CombinedOutput(); err != nil {
		t.Fatalf("podman create: %v: %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command(s.opts.Bin, "rm", "-f", "-t", "0", name).Run() })
	w := newWatchWriter("")
	res := s.runner.Run(context.Background(), job, w)
	if res.Status != pipeline.StatusFailed || res.Reason != pipeline.ReasonRunner || !strings.Contains(res.Error, "another live worker") {
		t.Fatalf("result %+v, want failed (runner) naming the other worker\n%s", res, w)
	}
	if out, err := exec.Command(s.opts.Bin, "container", "exists", name).CombinedOutput(); err != nil {
		t.Fatalf("the other worker's container %s was removed: %v %s", name, err, out)
	}
}
