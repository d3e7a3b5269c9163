package filequeue

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"log/slog"
	"math/rand/v2"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/refinery/refinery-worker/pipeline"
)

// chaosMain is the helper that TestKillAnywhere kills: it claims 10 at a
// time, "records" each outcome on stdout (R = done, Q = requeued) and then
// settles the batch.
func chaosMain(ctx context.Context, q *Queue) error {
	for {
		cs, err := q.Claim(ctx, 10)
		if err != nil {
			return err
		}
		if len(cs) == 0 {
			return nil
		}
		var lines strings.Builder
		ss := make([]pipeline.Settlement, len(cs))
		for i, c := range cs {
			var it struct {
				Package  string
				Attempts int
			}
			if err := json.Unmarshal(c.Raw, &it); err != nil {
				return err
			}
			ss[i] = pipeline.Settlement{Claim: c.Claim, Kind: pipeline.Release}
			kind := "R"
			if h := fnv.New32(); it.Attempts == 0 && func() uint32 { h.Write([]byte(it.Package)); return h.Sum32() }()%4 == 0 {
				kind = "Q"
				ss[i].Kind = pipeline.Requeue
				ss[i].Item, _ = withField(c.Raw, "attempts", []byte("1"))
			}
			fmt.Fprintf(&lines, "%s %s %s\n", kind, it.Package, c.Claim)
		}
		if _, err := os.Stdout.WriteString(lines.String()); err != nil {
			return err
		}
		if err := q.Settle(ctx, ss); err != nil {
			return err
		}
	}
}

// TestKillAnywhere SIGKILLs a draining process at arbitrary moments, over and
// over. After each kill and a Recover, every item not yet recorded as done is
// in the queue or held exactly once (nothing lost, nothing duplicated), and an
// item recorded as done is at most still held under the claim it was recorded
// with (the worker recognises that claim and does not build again).
func TestKillAnywhere(t *testing.T) {
	const n = 400
	path := queuePath(t)
	numberedQueue(t, path, n)
	done := map[string]string{} // package → claim recorded as done
	logs := &countHandler{}
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(uint64(seed), 0))
	ctx := context.Background()
	for round, k := 0, 7; ; round, k = round+1, (k*37)%101+1 {
		if round > 200 {
			t.Fatal("queue not drained after 200 rounds")
		}
		cmd := helper(t, "chaos", "FQ_PATH="+path)
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(stdout)
		read, killed := 0, false
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) != 3 {
				t.Fatalf("helper line %q", sc.Text())
			}
			if f[0] == "R" {
				done[f[1]] = f[2]
			}
			if read++; read == k && !killed {
				// Not synchronisation: a random pause spreads the kills over
				// every point of a claim/settle cycle.
				time.Sleep(time.Duration(rng.IntN(4000)) * time.Microsecond)
				_ = cmd.Process.Signal(syscall.SIGKILL) // keep reading what it wrote
				killed = true
			}
		}
		werr := cmd.Wait()
		if !killed && werr != nil {
			t.Fatalf("round %d: helper failed: %v", round, werr)
		}

		q := testQueue(t, path, func(o *Options) { o.Logger = slog.New(logs) })
		rec, err := q.Recover(ctx)
		if err != nil {
			t.Fatal(err)
		}
		queued, held := map[string]int{}, map[string]int{}
		for _, raw := range readItems(t, path) {
			var it struct{ Package string }
			_ = json.Unmarshal(raw, &it)
			queued[it.Package]++
		}
		var ss []pipeline.Settlement
		for _, c := range rec {
			var it struct{ Package string }
			_ = json.Unmarshal(c.Raw, &it)
			held[it.Package]++
			kind := pipeline.Return
			if claim, ok := done[it.Package]; ok {
				if claim != c.Claim {
					t.Errorf("round %d: %s recovered under claim %s, recorded under %s", round, it.Package, c.Claim, claim)
				}
				kind = pipeline.Release // recognised as recorded
			}
			ss = append(ss, pipeline.Settlement{Claim: c.Claim, Kind: kind})
		}
		if len(readFlight(t, q)) != len(rec) {
			t.Errorf("round %d: in-flight holds more than what was recovered", round)
		}
		for i := range n {
			p := fmt.Sprintf("p-%d", i)
			_, isDone := done[p]
			if qn, hn := queued[p], held[p]; (isDone && (qn > 0 || hn > 1)) || (!isDone && qn+hn != 1) {
				t.Errorf("round %d (killed after %d lines): %s done=%v, queued %d, held %d", round, k, p, isDone, qn, hn)
			}
		}
		settle(t, q, ss...)
		if err := q.Close(); err != nil {
			t.Fatal(err)
		}
		if t.Failed() {
			return
		}
		if !killed {
			t.Logf("drained after %d rounds; held entries recovered %d, dropped as already queued %d",
				round+1, logs.count("recovered held"), logs.count("dropped held"))
			break
		}
	}
	if len(done) != n || len(readItems(t, path)) != 0 {
		t.Errorf("%d of %d done, %d still queued", len(done), n, len(readItems(t, path)))
	}
}
