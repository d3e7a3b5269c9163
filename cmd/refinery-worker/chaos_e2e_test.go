package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/refinery/refinery-worker/adapters/controlplane/cpfake"
)

// TestChaos is the chaos suite: rounds of a drain with random 0–300 ms stub
// builds and 10% failures, a SIGKILL of the worker at a random moment and a
// restart, while the control-plane fails (500s, resets, or refuses
// connections) for random periods. After each round every item has exactly
// one terminal manifest entry, every report reached the control-plane once,
// and the queue, the held items and the outbox are empty.
//
// It runs with REFINERY_SCALE=1 (task test:scale, CI). CHAOS_ROUNDS
// (default 2) and CHAOS_ITEMS (default 200) size it; `task chaos` runs 20
// rounds of 500.
func TestChaos(t *testing.T) {
	requireScale(t)
	rounds, items := envInt("CHAOS_ROUNDS", 2), envInt("CHAOS_ITEMS", 200)
	seed := uint64(time.Now().UnixNano())
	t.Logf("chaos: %d rounds of %d items, seed %d", rounds, items, seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	var totals [4]int
	for r := range rounds {
		c := chaosRound(t, r, items, rng)
		t.Logf("round %2d: killed after %3d outcomes, %3d held at kill, control-plane outages %d, duplicates absorbed %d",
			r, c[0], c[1], c[2], c[3])
		for i := range c {
			totals[i] += c[i]
		}
		if t.Failed() {
			return
		}
	}
	t.Logf("totals: %d rounds, %d items, %d outages, %d duplicate deliveries absorbed by the idempotency key",
		rounds, rounds*items, totals[2], totals[3])
}

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

func chaosRound(t *testing.T, round, n int, rng *rand.Rand) [4]int {
	fake := cpfake.New(cpfake.Options{})
	srv, err := cpfake.Listen(fake, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := srv.Listener.Addr().String()
	var srvMu sync.Mutex
	defer func() { srvMu.Lock(); srv.Close(); srvMu.Unlock() }()

	e := newEnv(t)
	names := pkgNames(fmt.Sprintf("chaos%d-", round), n)
	e.writePlan(t, names)
	e.writeQueue(t, items(names...))
	for k, v := range map[string]string{"CONTROL_PLANE_URL": "http://" + addr, "BATCH_SIZE": "100000",
		"BUILD_CONCURRENCY": "8", "STUB_DELAY_MAX": "300ms", "STUB_FAIL_RATIO": "0.1", "SHUTDOWN_GRACE": "10s"} {
		e.vars[k] = v
	}

	// The control-plane fails for random periods while the round runs.
	stop := make(chan struct{})
	var outages int
	var wg sync.WaitGroup
	wg.Add(1)
	orng := rand.New(rand.NewPCG(rng.Uint64(), 2)) // the outage goroutine's own source
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				fake.SetFailure(cpfake.FailNone)
				return
			case <-time.After(time.Duration(200+orng.IntN(800)) * time.Millisecond):
			}
			outages++
			mode := []cpfake.FailMode{cpfake.Fail500, cpfake.FailReset, -1}[orng.IntN(3)]
			period := time.Duration(200+orng.IntN(1500)) * time.Millisecond
			if mode == -1 { // refuse connections: the server goes away
				srvMu.Lock()
				srv.Close()
				srvMu.Unlock()
				time.Sleep(period)
				srvMu.Lock()
				s, err := cpfake.Listen(fake, addr)
				if err != nil {
					srvMu.Unlock()
					t.Errorf("control-plane back on %s: %v", addr, err)
					return
				}
				srv = s
				srvMu.Unlock()
				continue
			}
			fake.SetFailure(mode)
			time.Sleep(period)
			fake.SetFailure(cpfake.FailNone)
		}
	}()

	p := e.serve(t)
	killAt := 1 + rng.IntN(n-1)
	eventually(t, 120*time.Second, fmt.Sprintf("%d outcomes before the kill", killAt), func() bool {
		return len(e.manifest(t))+len(journalLines(t, e.out)) >= killAt
	})
	_ = p.cmd.Process.Kill()
	_ = p.cmd.Wait()
	held := len(e.queueItems(t, e.queue+".inflight.json"))

	p = e.serve(t)
	eventually(t, 180*time.Second, "every item settled after the restart", func() bool {
		return len(e.manifest(t)) >= n && len(e.queueItems(t, e.queue)) == 0 && len(e.queueItems(t, e.queue+".inflight.json")) == 0
	})
	close(stop)
	wg.Wait()
	eventually(t, 120*time.Second, "the outbox to empty", func() bool {
		_, st := get(t, p.url("/status"))
		return st["outbox_backlog"] == float64(0)
	})
	if code := p.stop(t, syscall.SIGTERM); code != 0 {
		t.Errorf("round %d: exit %d after SIGTERM", round, code)
	}

	perName := map[string]int{}
	for _, en := range e.manifest(t) {
		perName[en.Name]++
		if en.Status != "skipped" && en.Status != "failed" {
			t.Errorf("round %d: %s has status %s", round, en.Name, en.Status)
		}
	}
	reported, events := map[string]int{}, map[string]int{}
	for _, m := range fake.Manifest() {
		reported[m.Name]++
	}
	for _, ev := range fake.Events() {
		events[ev.Name]++
	}
	for _, name := range names {
		if perName[name] != 1 || reported[name] != 1 || events[name] != 1 {
			t.Errorf("round %d: %s has %d manifest entries, %d reported, %d events; want 1 each", round, name, perName[name], reported[name], events[name])
		}
	}
	if left, _ := filepath.Glob(filepath.Join(e.out, ".manifest.journal.*")); len(left) != 0 {
		t.Errorf("round %d: journals left: %v", round, left)
	}
	return [4]int{killAt, held, outages, fake.Duplicates()}
}
