package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
)

// Two workers drain one queue file of 1,000 items while a third process
// appends 500 more with `enqueue`: every item is processed exactly once and
// the queue file parses at every look.
func TestTwoWorkersDrainWhileEnqueueAppends(t *testing.T) {
	t.Parallel() // own dirs, ports, control-plane and worker id: waits mostly, so it runs beside the others
	e := newEnv(t)
	first := pkgNames("first", 1000)
	more := pkgNames("more", 500)
	e.writePlan(t, append(append([]string{}, first...), more...))
	e.writeQueue(t, items(first...))
	e.vars["BATCH_SIZE"] = "100000"

	stop := make(chan struct{})
	var watch sync.WaitGroup
	watch.Add(1)
	go func() { // the queue file must parse whenever anyone looks
		defer watch.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			b, err := os.ReadFile(e.queue)
			if err != nil {
				continue // between rename and nothing: rename is atomic, so this is only ENOENT at start
			}
			if !json.Valid(b) {
				t.Errorf("queue file did not parse:\n%.200s", b)
				return
			}
		}
	}()

	var wg sync.WaitGroup
	outs := make([]string, 2)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, stderr, code := e.run(t, "", "drain")
			if code != 0 {
				t.Errorf("worker %d: exit %d\n%s", i, code, stderr)
			}
			outs[i] = out
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for b := 0; b < len(more); b += 25 {
			var lines bytes.Buffer
			for _, it := range items(more[b : b+25]...) {
				lines.Write(it)
				lines.WriteByte('\n')
			}
			if _, stderr, code := e.run(t, lines.String(), "enqueue"); code != 0 {
				t.Errorf("enqueue: exit %d: %s", code, stderr)
			}
		}
	}()
	wg.Wait()
	// Items appended after both drains ran dry are taken by one more drain.
	out, stderr, code := e.run(t, "", "drain")
	if code != 0 {
		t.Fatalf("final drain: exit %d\n%s", code, stderr)
	}
	close(stop)
	watch.Wait()

	count := map[string]int{}
	for _, en := range e.manifest(t) {
		count[en.Name]++
		if en.Status != "skipped" {
			t.Errorf("%s: %s, want skipped", en.Name, en.Status)
		}
	}
	for _, n := range append(first, more...) {
		if count[n] != 1 {
			t.Errorf("%s processed %d times, want once", n, count[n])
		}
	}
	if q := e.queueItems(t, e.queue); len(q) != 0 {
		t.Errorf("%d items left in the queue", len(q))
	}
	for i, o := range append(outs, out) {
		t.Logf("worker %d: %s", i, lastLine(o))
	}
	if !strings.Contains(outs[0], "skipped=") || !strings.Contains(outs[1], "skipped=") {
		t.Log("note: one worker took no items (possible when the other claims first)")
	}
	if len(count) != 1500 {
		t.Errorf("%d distinct packages processed, want 1500", len(count))
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return fmt.Sprint(lines[len(lines)-1])
}
