package filequeue

import (
	"context"
	"errors"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/refinery/refinery-worker/pipeline"
)

func TestClaim(t *testing.T) {
	now := fixedNow.Unix()
	tests := []struct {
		name      string
		file      string // "" = missing
		max       int
		want      []string
		wantQueue []string
	}{
		{
			name: "missing file is empty", file: "", max: 5,
			want: nil, wantQueue: []string{},
		},
		{
			name: "cleared file", file: "[]", max: 5,
			want: nil, wantQueue: []string{},
		},
		{
			name: "null file", file: "null", max: 5,
			want: nil, wantQueue: []string{},
		},
		{
			name: "array order, up to max",
			file: "[\n  {\n    \"package\": \"a\"\n  },\n  {\"package\":\"b\"},\n  {\"package\":\"c\"}\n]", max: 2,
			want:      []string{`{"package":"a"}`, `{"package":"b"}`},
			wantQueue: []string{`{"package":"c"}`},
		},
		{
			name: "not_before in the future stays and does not block",
			file: `[{"package":"a","not_before":` + itoa(now+1) + `},{"package":"b","not_before":` + itoa(now) +
				`},{"package":"c"},{"package":"d","not_before":` + itoa(now-100) + `}]`,
			max:       2,
			want:      []string{`{"package":"b","not_before":` + itoa(now) + `}`, `{"package":"c"}`},
			wantQueue: []string{`{"package":"a","not_before":` + itoa(now+1) + `}`, `{"package":"d","not_before":` + itoa(now-100) + `}`},
		},
		{
			// Not held forever: handed out, the dequeue stage rejects them.
			name: "non-numeric or out-of-range not_before is ready (dequeue rejects it)",
			file: `[{"package":"a","not_before":"soon"},{"package":"b","not_before":1e30},{"package":"c","not_before":4102444800.5}]`,
			max:  5,
			want: []string{`{"package":"a","not_before":"soon"}`, `{"package":"b","not_before":1e30}`,
				`{"package":"c","not_before":4102444800.5}`},
		},
		{
			name: "hostile items handed out raw",
			file: `["numpy==1.0", null, ["numpy", "1.0"], 42, {}, {"package": "n\u00fcmpy <&>", "version": 1.260}, "not json at all"]`,
			max:  10,
			want: []string{`"numpy==1.0"`, `null`, `["numpy","1.0"]`, `42`, `{}`,
				`{"package":"n\u00fcmpy <&>","version":1.260}`, `"not json at all"`},
			wantQueue: []string{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := queuePath(t)
			if tt.file != "" {
				writeFile(t, path, tt.file)
			}
			q := testQueue(t, path)
			got := claimAll(t, q, tt.max)
			if !slices.Equal(raws(got), tt.want) {
				t.Errorf("claimed %q, want %q", raws(got), tt.want)
			}
			if g := compactStrings(t, readItems(t, path)); !slices.Equal(g, tt.wantQueue) {
				t.Errorf("queue %q, want %q", g, tt.wantQueue)
			}
			flight := readFlight(t, q)
			if len(flight) != len(tt.want) {
				t.Fatalf("in-flight has %d entries, want %d", len(flight), len(tt.want))
			}
			for i, e := range flight {
				if e.Claim != got[i].Claim || string(e.Item) != tt.want[i] || e.Owner != q.Owner() {
					t.Errorf("in-flight entry %d = %+v, claimed %+v", i, e, got[i])
				}
			}
		})
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestSettle(t *testing.T) {
	path := queuePath(t)
	writeFile(t, path, `[{"package":"a"},{"package":"b","extra":{"z":1,"a":[1.50,"<&>"]},"n":1e2},{"package":"c"},{"package":"d"},{"package":"e"}]`)
	q := testQueue(t, path)
	cs := claimAll(t, q, 4) // a b c d
	requeueItem := `{"package":"b", "extra":{"z":1,"a":[1.50,"<&>"]},"n":1e2,"attempts":1,"not_before":1,"x_refinery_requeued_from":"old"}`
	settle(t, q,
		pipeline.Settlement{Claim: cs[0].Claim, Kind: pipeline.Release},
		pipeline.Settlement{Claim: cs[3].Claim, Kind: pipeline.Return},
		pipeline.Settlement{Claim: cs[1].Claim, Kind: pipeline.Requeue, Item: []byte(requeueItem)},
		pipeline.Settlement{Claim: cs[2].Claim, Kind: pipeline.Return},
	)
	want := []string{
		`{"package":"c"}`, `{"package":"d"}`, `{"package":"e"}`,
		`{"package":"b","extra":{"z":1,"a":[1.50,"<&>"]},"n":1e2,"attempts":1,"not_before":1,"x_refinery_requeued_from":"` + cs[1].Claim + `"}`,
	}
	if g := compactStrings(t, readItems(t, path)); !slices.Equal(g, want) {
		t.Errorf("queue\n%q\nwant\n%q", g, want)
	}
	if f := readFlight(t, q); len(f) != 0 {
		t.Errorf("in-flight not empty: %+v", f)
	}
	data, _ := os.ReadFile(path)
	if !strings.HasPrefix(string(data), "[\n  {\n    \"package\": \"c\"\n  },\n") {
		t.Errorf("queue file not 2-space indented:\n%s", data)
	}

	// Unknown claims are reported; the rest applies.
	cs = claimAll(t, q, 1)
	err := q.Settle(context.Background(), []pipeline.Settlement{
		{Claim: "nope", Kind: pipeline.Release},
		{Claim: cs[0].Claim, Kind: pipeline.Release},
		{Claim: cs[0].Claim, Kind: pipeline.Release},
	})
	if !errors.Is(err, ErrUnknownClaim) || !strings.Contains(err.Error(), "nope") {
		t.Errorf("settle error = %v, want unknown claim naming nope", err)
	}
	if f := readFlight(t, q); len(f) != 0 {
		t.Errorf("known claim not released: %+v", f)
	}

	// A claim held by another owner is not this one's to settle.
	q2 := testQueue(t, path)
	cs = claimAll(t, q2, 1)
	if err := q.Settle(context.Background(), []pipeline.Settlement{{Claim: cs[0].Claim}}); !errors.Is(err, ErrUnknownClaim) {
		t.Errorf("settling another owner's claim: %v", err)
	}
	// A requeue with invalid JSON keeps the hold.
	if err := q2.Settle(context.Background(), []pipeline.Settlement{{Claim: cs[0].Claim, Kind: pipeline.Requeue, Item: []byte("{bad")}}); err == nil {
		t.Error("requeue of invalid JSON accepted")
	}
	if f := readFlight(t, q2); len(f) != 1 {
		t.Errorf("hold lost after a bad requeue: %+v", f)
	}
}

func TestEnqueueAndDepth(t *testing.T) {
	path := queuePath(t)
	q := testQueue(t, path)
	ctx := context.Background()
	now := fixedNow.Unix()
	items := [][]byte{
		[]byte(`{"package":"a","enqueued_at":` + itoa(now-50) + `}`),
		[]byte(` { "package" : "b", "not_before": ` + itoa(now+60) + `, "enqueued_at": ` + itoa(now-90) + ` }`),
		[]byte(`"raw string"`),
	}
	if err := q.Enqueue(ctx, items); err != nil {
		t.Fatal(err)
	}
	if err := q.Enqueue(ctx, [][]byte{[]byte(`{"package":"c"}`), []byte(`not json`)}); err == nil {
		t.Fatal("invalid JSON enqueued")
	}
	ready, delayed, oldest, err := q.Depth(ctx)
	if err != nil || ready != 2 || delayed != 1 || oldest.Unix() != now-90 {
		t.Errorf("depth = %d, %d, %v, %v; want 2, 1, %d", ready, delayed, oldest.Unix(), err, now-90)
	}
	if n := len(readItems(t, path)); n != 3 {
		t.Errorf("queue has %d items, want 3 (a failed enqueue adds nothing)", n)
	}
	if err := q.Ready(ctx); err != nil {
		t.Errorf("ready: %v", err)
	}
}

func TestHalfWrittenFile(t *testing.T) {
	const half = "[\n  {\n    \"package\": \"a\"\n  },\n  {\n    \"pack"
	t.Run("retried until whole", func(t *testing.T) {
		path := queuePath(t)
		writeFile(t, path, half)
		q := testQueue(t, path)
		fails := 0
		q.parseFailHook = func(int) {
			fails++
			if fails == 2 { // the control-plane finishes its in-place write
				writeFile(t, path, `[{"package":"a"},{"package":"b"}]`)
			}
		}
		got := claimAll(t, q, 5)
		if fails != 2 || len(got) != 2 {
			t.Errorf("fails = %d, claimed %q", fails, raws(got))
		}
	})
	t.Run("error after retries, file untouched", func(t *testing.T) {
		path := queuePath(t)
		writeFile(t, path, half)
		q := testQueue(t, path, func(o *Options) { o.ParseRetries = 2 })
		for name, op := range map[string]func() error{
			"claim":   func() error { _, err := q.Claim(context.Background(), 1); return err },
			"enqueue": func() error { return q.Enqueue(context.Background(), [][]byte{[]byte(`{}`)}) },
			"ready":   func() error { return q.Ready(context.Background()) },
		} {
			err := op()
			if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "unexpected end of JSON input") {
				t.Errorf("%s: error %v should name the file and the JSON error", name, err)
			}
		}
		if data, _ := os.ReadFile(path); string(data) != half {
			t.Errorf("unparseable queue was rewritten:\n%s", data)
		}
	})
}

func TestLockWaitHonoursContext(t *testing.T) {
	path := queuePath(t)
	writeFile(t, path, `[{"package":"a"}]`)
	q := testQueue(t, path)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := flock(f, 2); err != nil { // LOCK_EX, as another process would
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := q.Claim(ctx, 1); !errors.Is(err, context.Canceled) {
		t.Errorf("claim under a held lock with a cancelled context: %v", err)
	}
	_ = f.Close()
	if got := claimAll(t, q, 1); len(got) != 1 {
		t.Errorf("claim after unlock got %d items", len(got))
	}
}

func TestEncodeMatchesControlPlane(t *testing.T) {
	data, err := os.ReadFile("testdata/retry_queue.json")
	if err != nil {
		t.Fatalf("fixture: %v", err)
	}
	items, err := parseArray(data)
	if err != nil {
		t.Fatal(err)
	}
	out := encodeQueue(items)
	if strings.TrimRight(string(out), "\n") != strings.TrimRight(string(data), "\n") {
		t.Errorf("re-encoded fixture differs:\n%s", out)
	}
}

// After a writer renames the new queue file into place, and until its change
// is complete, no other process can lock the queue: otherwise it could read
// the in-flight file before the writer updates it.
func TestNewQueueFileLockedUntilChangeComplete(t *testing.T) {
	path := queuePath(t)
	writeFile(t, path, `[{"package":"a"},{"package":"b"}]`)
	q := testQueue(t, path)
	cs := claimAll(t, q, 1)
	tries := 0
	q.afterQueueWrite = func() {
		tries++
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if err := flock(f, syscall.LOCK_EX|syscall.LOCK_NB); !errors.Is(err, syscall.EWOULDBLOCK) {
			t.Errorf("new queue file lockable between the two writes: %v", err)
		}
	}
	settle(t, q, pipeline.Settlement{Claim: cs[0].Claim, Kind: pipeline.Requeue, Item: []byte(`{"package":"a","attempts":1}`)})
	if tries != 1 {
		t.Fatalf("hook ran %d times", tries)
	}
}

func TestSettleRetries(t *testing.T) {
	path := queuePath(t)
	writeFile(t, path, `[{"package":"a"},{"package":"b"},{"package":"c"}]`)
	q := testQueue(t, path)
	ctx := context.Background()
	cs := claimAll(t, q, 3)
	batch := []pipeline.Settlement{
		{Claim: cs[0].Claim, Kind: pipeline.Release},
		{Claim: cs[1].Claim, Kind: pipeline.Requeue, Item: []byte(`{"package":"b","attempts":1}`)},
	}
	settle(t, q, batch...)
	// A caller retrying a batch that was applied gets no error and no change.
	settle(t, q, batch...)
	if got := compactStrings(t, readItems(t, path)); len(got) != 1 {
		t.Errorf("queue after a retried batch: %q", got)
	}

	// A requeue whose queue write happened but whose in-flight write did not
	// (simulated by writing the queue by hand) is not appended twice.
	marked := `{"package":"c","attempts":1,"x_refinery_requeued_from":"` + cs[2].Claim + `"}`
	writeFile(t, path, "[\n  "+marked+"\n]")
	settle(t, q, pipeline.Settlement{Claim: cs[2].Claim, Kind: pipeline.Requeue, Item: []byte(`{"package":"c","attempts":1}`)})
	if got := compactStrings(t, readItems(t, path)); !slices.Equal(got, []string{marked}) {
		t.Errorf("queue after a retried requeue: %q", got)
	}
	if f := readFlight(t, q); len(f) != 0 {
		t.Errorf("in-flight: %+v", f)
	}

	// What cannot apply is listed; the rest applies.
	cs = claimAll(t, q, 1)
	err := q.Settle(ctx, []pipeline.Settlement{
		{Claim: "never", Kind: pipeline.Release},
		{Claim: cs[0].Claim, Kind: pipeline.Requeue, Item: []byte(`{"package":`)},
	})
	var serr *SettleError
	if !errors.As(err, &serr) || !errors.Is(err, ErrUnknownClaim) {
		t.Fatalf("settle error %v is not a *SettleError with unknown claims", err)
	}
	if na := serr.NotApplied(); len(na) != 2 || !slices.Contains(na, "never") || !slices.Contains(na, cs[0].Claim) {
		t.Errorf("not applied: %q", na)
	}
	if f := readFlight(t, q); len(f) != 1 {
		t.Errorf("invalid requeue dropped the hold: %+v", f)
	}
}

// The control-plane rewrites the file in place without locking. If its write
// lands in the file a Claim has just replaced, the items it added survive.
func TestInPlaceRewriteDuringUpdateKeepsAddedItems(t *testing.T) {
	path := queuePath(t)
	writeFile(t, path, `[{"package":"a"},{"package":"b"}]`)
	q := testQueue(t, path)
	cp, err := os.OpenFile(path, os.O_WRONLY, 0) // the control-plane opened the file
	if err != nil {
		t.Fatal(err)
	}
	defer cp.Close()
	q.afterQueueWrite = func() {
		q.afterQueueWrite = nil
		// ...read the old contents, added c, and writes now, in place.
		if err := cp.Truncate(0); err != nil {
			t.Fatal(err)
		}
		if _, err := cp.WriteAt([]byte("[\n  {\"package\": \"a\"},\n  {\"package\": \"b\"},\n  {\"package\": \"c\"}\n]"), 0); err != nil {
			t.Fatal(err)
		}
	}
	got := claimAll(t, q, 1)
	want := []string{`{"package":"b"}`, `{"package":"c"}`}
	if g := compactStrings(t, readItems(t, path)); len(got) != 1 || !slices.Equal(g, want) {
		t.Errorf("claimed %q, queue %q; want queue %q", raws(got), g, want)
	}
}
