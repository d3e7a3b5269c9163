package filequeue

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/refinery/refinery-worker/pipeline"
)

// SettleAfter's before runs while the new in-flight file is written: when
// before looks, the temp is written and fsynced, and the in-flight file in
// place still holds the claim; once SettleAfter returns, it does not.
func TestSettleAfterWritesTheInflightTempBesideBefore(t *testing.T) {
	path := queuePath(t)
	writeFile(t, path, `[{"package":"a"},{"package":"b"}]`)
	q := testQueue(t, path)
	ctx := context.Background()
	cs, err := q.Claim(ctx, 2)
	if err != nil || len(cs) != 2 {
		t.Fatalf("claim: %v, %d items", err, len(cs))
	}
	temp := make(chan struct{})
	q.stepHook = func(step string) {
		if step == "inflight-temp" {
			close(temp)
		}
	}
	before := func() error {
		select {
		case <-temp:
		case <-time.After(10 * time.Second):
			return errors.New("the in-flight temp was not written while before ran")
		}
		if n := len(readFlight(t, q)); n != 2 {
			return errors.New("the in-flight file changed before before returned")
		}
		return nil
	}
	if err := q.SettleAfter(ctx, []pipeline.Settlement{{Claim: cs[0].Claim, Kind: pipeline.Release}}, before); err != nil {
		t.Fatal(err)
	}
	es := readFlight(t, q)
	if len(es) != 1 || es[0].Claim != cs[1].Claim {
		t.Fatalf("in-flight after the settle: %+v, want only %s", es, cs[1].Claim)
	}
}

// When before fails, SettleAfter changes nothing, whatever the batch would
// have written (the in-flight file only, or the queue first), leaves no temp
// file, and returns before's error; the same batch settles later.
func TestSettleAfterAFailedBeforeChangesNothing(t *testing.T) {
	for name, kind := range map[string]pipeline.SettleKind{"release": pipeline.Release, "requeue": pipeline.Requeue, "return": pipeline.Return} {
		t.Run(name, func(t *testing.T) {
			path := queuePath(t)
			writeFile(t, path, `[{"package":"a"},{"package":"b"},{"package":"c"}]`)
			q := testQueue(t, path)
			ctx := context.Background()
			cs, err := q.Claim(ctx, 2)
			if err != nil || len(cs) != 2 {
				t.Fatalf("claim: %v, %d items", err, len(cs))
			}
			queueBefore, flightBefore := readBytes(t, path), readBytes(t, q.flightPath)
			ss := []pipeline.Settlement{{Claim: cs[0].Claim, Kind: kind, Item: []byte(`{"package":"a","attempt":2}`)}}
			disk := errors.New("journal fsync: input/output error")
			err = q.SettleAfter(ctx, ss, func() error { return disk })
			if !errors.Is(err, disk) {
				t.Fatalf("SettleAfter: %v, want the before's error", err)
			}
			if got := readBytes(t, path); !bytes.Equal(got, queueBefore) {
				t.Errorf("queue changed:\n%s\nwant\n%s", got, queueBefore)
			}
			if got := readBytes(t, q.flightPath); !bytes.Equal(got, flightBefore) {
				t.Errorf("in-flight file changed:\n%s\nwant\n%s", got, flightBefore)
			}
			ents, err := os.ReadDir(filepath.Dir(path))
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range ents {
				if strings.Contains(e.Name(), ".tmp-") {
					t.Errorf("temp file %s left", e.Name())
				}
			}
			if err := q.SettleAfter(ctx, ss, func() error { return nil }); err != nil {
				t.Fatalf("the same batch after before succeeds: %v", err)
			}
			if es := readFlight(t, q); len(es) != 1 || es[0].Claim != cs[1].Claim {
				t.Fatalf("in-flight after the settle: %+v, want only %s", es, cs[1].Claim)
			}
		})
	}
}

func readBytes(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
