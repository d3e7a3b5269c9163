package filequeue

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/refinery/refinery-worker/pipeline"
)

// helperEnv selects the role of the test binary re-executed as a helper.
const helperEnv = "FILEQUEUE_HELPER"

// TestHelperProcess is not a test: it is the body of the helper processes the
// tests below start (os.Args[0] -test.run=^TestHelperProcess$).
func TestHelperProcess(t *testing.T) {
	role := os.Getenv(helperEnv)
	if role == "" {
		t.Skip("helper process only")
	}
	if err := helperMain(role); err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

func helperMain(role string) error {
	ctx := context.Background()
	q, err := Open(Options{Path: os.Getenv("FQ_PATH"), Owner: role})
	if err != nil {
		return err
	}
	out := bufio.NewWriter(os.Stdout)
	switch role {
	case "claim": // claim FQ_N items, report them, then wait to be killed
		n, _ := strconv.Atoi(os.Getenv("FQ_N"))
		cs, err := q.Claim(ctx, n)
		if err != nil {
			return err
		}
		if err := json.NewEncoder(out).Encode(cs); err != nil {
			return err
		}
		_ = out.Flush()
		_, _ = io.Copy(io.Discard, os.Stdin) // blocks until killed
		return errors.New("stdin closed before the kill")
	case "drain": // claim and release until the queue is empty and FQ_DONE exists
		for {
			_, doneErr := os.Stat(os.Getenv("FQ_DONE"))
			cs, err := q.Claim(ctx, 25)
			if err != nil {
				return err
			}
			if err := checkParses(q.path); err != nil {
				return err
			}
			if len(cs) == 0 {
				if doneErr == nil {
					return out.Flush()
				}
				time.Sleep(time.Millisecond) // poll politely for the enqueuer
				continue
			}
			ss := make([]pipeline.Settlement, len(cs))
			for i, c := range cs {
				fmt.Fprintf(out, "%s\t%s\n", c.Claim, c.Raw)
				ss[i] = pipeline.Settlement{Claim: c.Claim, Kind: pipeline.Release}
			}
			if err := q.Settle(ctx, ss); err != nil {
				return err
			}
			if err := checkParses(q.path); err != nil {
				return err
			}
		}
	case "chaos":
		return chaosMain(ctx, q)
	case "reserve":
		return reserveCrashMain(ctx, q)
	case "enqueue": // append FQ_N items p-<FQ_BASE+i>, 5 per call
		n, _ := strconv.Atoi(os.Getenv("FQ_N"))
		base, _ := strconv.Atoi(os.Getenv("FQ_BASE"))
		for i := 0; i < n; i += 5 {
			var batch [][]byte
			for j := i; j < min(i+5, n); j++ {
				batch = append(batch, fmt.Appendf(nil, `{"package":"p-%d"}`, base+j))
			}
			if err := q.Enqueue(ctx, batch); err != nil {
				return err
			}
			if err := checkParses(q.path); err != nil {
				return err
			}
		}
		return q.Close()
	}
	return fmt.Errorf("unknown role %q", role)
}

// checkParses reads the queue file as the control-plane would.
func checkParses(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var v []json.RawMessage
	if err := json.Unmarshal(data, &v); err != nil {
		return fmt.Errorf("queue file does not parse: %w\n%s", err, data)
	}
	return nil
}

func helper(t *testing.T, role string, env ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), append([]string{helperEnv + "=" + role}, env...)...)
	cmd.Stderr = os.Stderr
	t.Cleanup(func() { // never leave a helper behind a failed test
		if cmd.Process != nil {
			_ = cmd.Process.Kill() // an error only says it already ended
		}
	})
	return cmd
}

func numberedQueue(t *testing.T, path string, n int) {
	t.Helper()
	items := make([][]byte, n)
	for i := range items {
		items[i] = fmt.Appendf(nil, `{"package":"p-%d","note":"<keep & me>"}`, i)
	}
	data := encodeQueue(items)
	writeFile(t, path, string(data))
}

func TestRecoverAfterSIGKILL(t *testing.T) {
	path := queuePath(t)
	numberedQueue(t, path, 10)
	cmd := helper(t, "claim", "FQ_PATH="+path, "FQ_N=4")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdin, err := cmd.StdinPipe() // kept open: the helper blocks on it
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var held []pipeline.Claimed
	if err := json.NewDecoder(stdout).Decode(&held); err != nil {
		t.Fatalf("helper output: %v", err)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if len(held) != 4 {
		t.Fatalf("helper claimed %d items, want 4", len(held))
	}

	q := testQueue(t, path)
	got, err := q.Recover(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(held) {
		t.Fatalf("recovered %d items, want %d", len(got), len(held))
	}
	for i := range held {
		if got[i].Claim != held[i].Claim || string(got[i].Raw) != string(held[i].Raw) {
			t.Errorf("recovered %d = %s %s, want %s %s", i, got[i].Claim, got[i].Raw, held[i].Claim, held[i].Raw)
		}
	}
	for _, e := range readFlight(t, q) {
		if e.Owner != q.Owner() {
			t.Errorf("entry %s still owned by %s", e.Claim, e.Owner)
		}
	}
	if n := len(readItems(t, path)); n != 6 {
		t.Errorf("queue has %d items, want 6", n)
	}
	locks, _ := filepath.Glob(q.ownersDir + "/*.lock")
	if len(locks) != 1 || filepath.Base(locks[0]) != q.Owner()+".lock" {
		t.Errorf("owner lock files after recover: %v", locks)
	}
	// Recovered claims settle like any other, and nothing is recovered twice.
	settle(t, q, pipeline.Settlement{Claim: got[0].Claim, Kind: pipeline.Return})
	if again, err := q.Recover(context.Background()); err != nil || len(again) != 0 {
		t.Errorf("second recover: %d items, %v", len(again), err)
	}
	if first := claimAll(t, q, 1); len(first) != 1 || string(first[0].Raw) != string(held[0].Raw) {
		t.Errorf("returned item not at the head: %q", raws(first))
	}
}

func TestRecoverCrashWindows(t *testing.T) {
	path := queuePath(t)
	const (
		a = `{"package":"a","x":[1.0]}`
		b = `{"package":"b"}`
		c = `{"package":"c"}`
		d = `{"package":"d"}`
	)
	writeFile(t, path, "[\n  "+a+",\n  "+b+",\n  "+
		`{"package":"c","attempts":1,"x_refinery_requeued_from":"claim-c"}`+"\n]")
	// A dead owner (no lock file) whose Claim of a crashed before the queue
	// write, whose Requeue of c crashed before the in-flight write, and who
	// fully held d.
	flight := []entry{
		{Claim: "claim-a", Owner: "dead-1", ClaimedAt: fixedNow, Item: []byte(a)},
		{Claim: "claim-c", Owner: "dead-1", ClaimedAt: fixedNow, Item: []byte(c)},
		{Claim: "claim-d", Owner: "dead-1", ClaimedAt: fixedNow, Item: []byte(d)},
	}
	writeFile(t, path+".inflight.json", string(encodeEntries(flight)))
	// A live owner's entry is left alone.
	live := testQueue(t, path)
	if _, err := live.Recover(context.Background()); err != nil {
		t.Fatal(err)
	}
	liveClaims := claimAll(t, live, 1) // a, the queued copy
	q := testQueue(t, path)
	got, err := q.Recover(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 0 {
		t.Errorf("recovered %q by the second instance, want nothing", raws(got))
	}
	es := readFlight(t, q)
	if len(es) != 2 || es[0].Claim != "claim-d" || es[0].Owner != live.Owner() || es[1].Claim != liveClaims[0].Claim {
		t.Errorf("in-flight after recover: %+v", es)
	}
	all := append(raws(liveClaims), raws(claimAll(t, q, 10))...)
	want := []string{a, b, `{"package":"c","attempts":1,"x_refinery_requeued_from":"claim-c"}`}
	if strings.Join(all, " ") != strings.Join(want, " ") {
		t.Errorf("handed out %q, want %q", all, want)
	}
}

func TestConcurrentProcesses(t *testing.T) {
	const queued, added = 1000, 500
	dir := t.TempDir()
	path := filepath.Join(dir, "retry_queue.json")
	done := filepath.Join(dir, "enqueue.done")
	numberedQueue(t, path, queued)

	stop := make(chan struct{})
	var observed int
	var observeErr error
	var wg sync.WaitGroup
	wg.Go(func() { // observe the file the whole time, as the control-plane would
		for {
			select {
			case <-stop:
				return
			default:
			}
			if err := checkParses(path); err != nil {
				observeErr = err
				return
			}
			observed++
		}
	})

	type result struct {
		out []byte
		err error
	}
	results := make([]chan result, 2)
	for i := range results {
		results[i] = make(chan result, 1)
		cmd := helper(t, "drain", "FQ_PATH="+path, "FQ_DONE="+done)
		var out bytes.Buffer
		cmd.Stdout = &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() {
			err := cmd.Wait()
			results[i] <- result{out.Bytes(), err}
		}()
	}
	enq := helper(t, "enqueue", "FQ_PATH="+path, "FQ_N="+strconv.Itoa(added), "FQ_BASE="+strconv.Itoa(queued))
	if err := enq.Run(); err != nil {
		t.Fatalf("enqueue helper: %v", err)
	}
	writeFile(t, done, "")

	seen := make(map[string]int)
	claims := make(map[string]bool)
	for i, ch := range results {
		r := <-ch
		if r.err != nil {
			t.Fatalf("drainer %d: %v", i, r.err)
		}
		lines := strings.Split(strings.TrimSpace(string(r.out)), "\n")
		t.Logf("drainer %d handled %d items", i, len(lines))
		for _, l := range lines {
			claim, raw, _ := strings.Cut(l, "\t")
			var it struct{ Package string }
			if err := json.Unmarshal([]byte(raw), &it); err != nil {
				t.Fatalf("drainer %d line %q: %v", i, l, err)
			}
			seen[it.Package]++
			if claims[claim] {
				t.Errorf("claim %s handed out twice", claim)
			}
			claims[claim] = true
		}
	}
	close(stop)
	wg.Wait()
	if observeErr != nil {
		t.Fatalf("observer after %d reads: %v", observed, observeErr)
	}
	for i := range queued + added {
		if n := seen["p-"+strconv.Itoa(i)]; n != 1 {
			t.Errorf("p-%d handed out %d times", i, n)
		}
	}
	if len(seen) != queued+added {
		t.Errorf("%d distinct items handed out, want %d", len(seen), queued+added)
	}
	if n := len(readItems(t, path)); n != 0 {
		t.Errorf("queue left with %d items", n)
	}
	q := testQueue(t, path)
	if es := readFlight(t, q); len(es) != 0 {
		t.Errorf("in-flight left with %d entries", len(es))
	}
	t.Logf("observer parsed the queue file %d times", observed)
}
