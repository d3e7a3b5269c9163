package filequeue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/refinery/refinery-worker/pipeline"
)

// reserveCrashMain is the helper the crash tests below stop dead (os.Exit,
// no Close: the kernel drops its locks as on a kill) at the FQ_CRASH'th
// (1-based) occurrence of the write step FQ_STEP, while it runs FQ_SCENARIO
// on a queue of p-0 … p-99.
func reserveCrashMain(ctx context.Context, q *Queue) error {
	nth, _ := strconv.Atoi(os.Getenv("FQ_CRASH"))
	step, seen := os.Getenv("FQ_STEP"), 0
	q.stepHook = func(s string) {
		if s == step {
			if seen++; seen == nth {
				os.Exit(3)
			}
		}
	}
	claim := func() ([]pipeline.Claimed, error) { return q.Claim(ctx, 5) }
	switch os.Getenv("FQ_SCENARIO") {
	case "claim":
		_, err := claim()
		return err
	case "claim2":
		if _, err := claim(); err != nil {
			return err
		}
		_, err := claim()
		return err
	case "return":
		cs, err := claim()
		if err != nil {
			return err
		}
		return q.Settle(ctx, []pipeline.Settlement{{Claim: cs[0].Claim, Kind: pipeline.Return}, {Claim: cs[1].Claim, Kind: pipeline.Return}})
	case "close":
		if _, err := claim(); err != nil {
			return err
		}
		return q.Close()
	case "recover":
		_, err := q.Recover(ctx)
		return err
	}
	return fmt.Errorf("unknown scenario %q", os.Getenv("FQ_SCENARIO"))
}

// runCrash runs the helper and requires it to have stopped at its step.
func runCrash(t *testing.T, path, scenario, step string, nth int) {
	t.Helper()
	cmd := helper(t, "reserve", "FQ_PATH="+path, "FQ_SCENARIO="+scenario, "FQ_STEP="+step, "FQ_CRASH="+strconv.Itoa(nth))
	err := cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 3 {
		t.Fatalf("helper %s: did not stop at %s#%d: %v", scenario, step, nth, err)
	}
}

func pkgNum(t testing.TB, raw []byte) int {
	t.Helper()
	var it struct{ Package string }
	if err := json.Unmarshal(raw, &it); err != nil {
		t.Fatalf("item %s: %v", raw, err)
	}
	n, err := strconv.Atoi(strings.TrimPrefix(it.Package, "p-"))
	if err != nil {
		t.Fatalf("item %s: %v", raw, err)
	}
	return n
}

// checkRecovered recovers the queue at path and checks that each of p-0 …
// p-(n-1) is queued or held exactly once, the queue in ascending order, and
// that no reserve or move temp file is left.
func checkRecovered(t *testing.T, path string, n int) {
	t.Helper()
	q := testQueue(t, path)
	rec, err := q.Recover(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	seen := make([]int, n)
	last := -1
	for _, raw := range readItems(t, path) {
		k := pkgNum(t, raw)
		seen[k]++
		if k <= last {
			t.Errorf("queue out of order: p-%d after p-%d", k, last)
		}
		last = k
	}
	for _, c := range rec {
		seen[pkgNum(t, c.Raw)]++
	}
	for i, s := range seen {
		if s != 1 {
			t.Errorf("p-%d queued or held %d times", i, s)
		}
	}
	if got := len(readFlight(t, q)); got != len(rec) {
		t.Errorf("in-flight holds %d entries, %d recovered", got, len(rec))
	}
	left, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".*.move-*"))
	res, _ := filepath.Glob(q.ownersDir + "/*" + reserveSuffix)
	if len(left)+len(res) > 0 {
		t.Errorf("left behind: %v %v", left, res)
	}
}

// TestReserveCrashAnyStep stops a process dead after each write step of a
// refill, a claim from the reserve, a direct claim from a short queue, a
// Return, a Close and a Recover of a dead owner's reserve: nothing is lost,
// nothing duplicated, order is kept.
func TestReserveCrashAnyStep(t *testing.T) {
	type crash struct {
		scenario, step string
		nth            int
		queued         int // the queue's length (0: 100)
	}
	steps := func(scenario string, nth int, names ...string) []crash {
		var out []crash
		for _, s := range names {
			out = append(out, crash{scenario, s, nth, 0})
		}
		return out
	}
	var cases []crash
	cases = append(cases, steps("claim", 1, "temp", "before", "renamed", "inflight", "counter")...)
	cases = append(cases, steps("claim2", 2, "temp", "before", "renamed", "inflight", "counter")...)
	cases = append(cases, steps("return", 2, "temp", "before", "renamed")...)
	cases = append(cases, steps("close", 2, "temp", "before", "renamed")...)
	cases = append(cases, steps("recover", 1, "temp", "before", "renamed", "restored-dead")...)
	// A queue of 40 is short enough for claims of 5 to skip the reserve
	// (direct.go): the in-flight file, then the queue.
	for _, step := range []string{"direct-inflight", "direct-queue"} {
		cases = append(cases, crash{"claim", step, 1, 40}, crash{"claim2", step, 2, 40})
	}
	for _, c := range cases {
		n := c.queued
		if n == 0 {
			n = 100
		}
		t.Run(fmt.Sprintf("%s/%s#%d/queued=%d", c.scenario, c.step, c.nth, n), func(t *testing.T) {
			t.Parallel()
			path := queuePath(t)
			numberedQueue(t, path, n)
			if c.scenario == "recover" { // a dead owner's reserve, left mid-claim
				runCrash(t, path, "claim2", "inflight", 2)
			}
			runCrash(t, path, c.scenario, c.step, c.nth)
			checkRecovered(t, path, n)
		})
	}
}

func TestReserveBatchSize(t *testing.T) {
	cases := []struct {
		name            string
		queued, max     int
		items, bytes    int // batch bounds (0: the defaults)
		notDue          int // the first notDue items are not due yet
		wantReserved    int // left in the reserve after the claim
		wantClaimed     int
		wantQueueLength int
	}{
		{name: "short queue: what is asked", queued: 10, max: 3, wantClaimed: 3, wantQueueLength: 7},
		{name: "1/16 of the queue", queued: 1000, max: 25, wantClaimed: 25, wantReserved: 37, wantQueueLength: 938},
		{name: "at least what is asked", queued: 100, max: 50, wantClaimed: 50, wantQueueLength: 50},
		{name: "item bound", queued: 1000, max: 5, items: 20, wantClaimed: 5, wantReserved: 15, wantQueueLength: 980},
		{name: "byte bound", queued: 1000, max: 5, bytes: 200, wantClaimed: 5, wantReserved: 6, wantQueueLength: 989},
		{name: "byte bound below what is asked", queued: 1000, max: 20, bytes: 100, wantClaimed: 20, wantQueueLength: 980},
		{name: "items not due stay", queued: 320, max: 5, notDue: 3, wantClaimed: 5, wantReserved: 15, wantQueueLength: 300},
		{name: "more asked than queued", queued: 4, max: 10, wantClaimed: 4, wantQueueLength: 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := queuePath(t)
			items := make([][]byte, c.queued)
			for i := range items {
				nb := ""
				if i < c.notDue {
					nb = fmt.Sprintf(`,"not_before":%d`, fixedNow.Unix()+60)
				}
				items[i] = fmt.Appendf(nil, `{"package":"p-%d"%s}`, i, nb) // 17 bytes, 18 from p-10
			}
			writeFile(t, path, string(encodeQueue(items)))
			q := testQueue(t, path)
			if c.items > 0 {
				q.batchItems = c.items
			}
			if c.bytes > 0 {
				q.batchBytes = c.bytes
			}
			cs := claimAll(t, q, c.max)
			if len(cs) != c.wantClaimed || len(q.res.left()) != c.wantReserved || len(readItems(t, path)) != c.wantQueueLength {
				t.Fatalf("claimed %d, reserved %d, queued %d; want %d, %d, %d",
					len(cs), len(q.res.left()), len(readItems(t, path)), c.wantClaimed, c.wantReserved, c.wantQueueLength)
			}
			for i, cl := range cs {
				if got := pkgNum(t, cl.Raw); got != c.notDue+i {
					t.Fatalf("claim %d got p-%d, want p-%d", i, got, c.notDue+i)
				}
			}
			ready, delayed, _, err := q.Depth(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if ready+delayed != c.queued-c.wantClaimed || delayed != c.notDue {
				t.Errorf("depth %d ready + %d delayed, want %d in all, %d delayed", ready, delayed, c.queued-c.wantClaimed, c.notDue)
			}
		})
	}
}

// TestReserveOrder: claims across refills follow the queue; Return, Close
// and Recover of a dead owner put the reserve back at the head, in order.
func TestReserveOrder(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name   string
		held   int // recovered by the next instance
		settle func(t *testing.T, q *Queue, cs []pipeline.Claimed)
	}{
		{"return", 0, func(t *testing.T, q *Queue, cs []pipeline.Claimed) {
			var ss []pipeline.Settlement
			for _, c := range cs {
				ss = append(ss, pipeline.Settlement{Claim: c.Claim, Kind: pipeline.Return})
			}
			settle(t, q, ss...)
		}},
		{"close", 3, func(t *testing.T, q *Queue, cs []pipeline.Claimed) {
			var ss []pipeline.Settlement
			for _, c := range cs {
				ss = append(ss, pipeline.Settlement{Claim: c.Claim, Kind: pipeline.Return})
			}
			settle(t, q, ss[:len(ss)-3]...) // the rest stays held through Close, for Recover
			if err := q.Close(); err != nil {
				t.Fatal(err)
			}
		}},
		{"dead owner", 35, func(t *testing.T, q *Queue, cs []pipeline.Claimed) {
			// Dies without Close: its lock goes, its files stay.
			_ = q.ownerLock.Close()
			if err := os.Remove(q.ownerPath(q.owner)); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := queuePath(t)
			numberedQueue(t, path, 200)
			q := testQueue(t, path)
			var cs []pipeline.Claimed
			for range 5 { // 5 × 7: several refills (batches of 12, then 7 or more)
				cs = append(cs, claimAll(t, q, 7)...)
			}
			for i, cl := range cs {
				if got := pkgNum(t, cl.Raw); got != i {
					t.Fatalf("claim %d got p-%d", i, got)
				}
			}
			if len(q.res.left()) == 0 {
				t.Fatal("test needs a non-empty reserve")
			}
			c.settle(t, q, cs)
			q2 := testQueue(t, path)
			rec, err := q2.Recover(ctx)
			if err != nil {
				t.Fatal(err)
			}
			held := map[int]bool{}
			for _, r := range rec {
				held[pkgNum(t, r.Raw)] = true
			}
			if len(held) != c.held {
				t.Errorf("recovered %d held items, want %d", len(held), c.held)
			}
			var want []int
			for i := range 200 {
				if !held[i] {
					want = append(want, i)
				}
			}
			queued := readItems(t, path)
			if len(queued) != len(want) {
				t.Fatalf("%d queued, want %d", len(queued), len(want))
			}
			for i, raw := range queued {
				if got := pkgNum(t, raw); got != want[i] {
					t.Fatalf("queue[%d] = p-%d, want p-%d", i, got, want[i])
				}
			}
		})
	}
}

// TestReserveCountsTowardMaxBytes: Enqueue's bound counts reserved items.
func TestReserveCountsTowardMaxBytes(t *testing.T) {
	path := queuePath(t)
	numberedQueue(t, path, 320)
	size := int64(len(encodeQueue(readRaw(t, path))))
	q := testQueue(t, path, func(o *Options) { o.MaxBytes = size })
	claimAll(t, q, 1) // 20 reserved, 19 of them left
	if n := len(q.res.left()); n != 19 {
		t.Fatalf("reserved %d, want 19", n)
	}
	err := q.Enqueue(context.Background(), [][]byte{[]byte(`{"package":"p-x","note":"<keep & me>"}`)})
	var tl *TooLargeError
	if !errors.As(err, &tl) {
		t.Fatalf("enqueue past the bound with items reserved: %v", err)
	}
}

func readRaw(t testing.TB, path string) [][]byte {
	var out [][]byte
	for _, r := range compactStrings(t, readItems(t, path)) {
		out = append(out, []byte(r))
	}
	return out
}
