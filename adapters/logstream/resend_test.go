package logstream_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/refinery/refinery-worker/adapters/controlplane"
	"github.com/refinery/refinery-worker/adapters/controlplane/cpfake"
	"github.com/refinery/refinery-worker/adapters/logstream"
	"github.com/refinery/refinery-worker/adapters/outbox"
)

// A job that ends while the control-plane is down: the lines its stream
// could not deliver reach the stream later, through the outbox, each once
// with its original seq, and the metadata says so.
func TestLinesMissedInAnOutageAreResent(t *testing.T) {
	tests := []struct {
		name        string
		bufferBytes int // small: the missed lines are in the spill file
	}{
		{"in memory", 0},
		{"spilled", 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake := cpfake.New(cpfake.Options{Token: "tok"})
			ts, err := cpfake.Listen(fake, "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ts.Close()
			c, err := controlplane.New(controlplane.Options{BaseURL: ts.URL, Token: "tok", Logger: quiet,
				MaxAttempts: 2, BaseBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			box, err := outbox.Open(outbox.Options{Dir: t.TempDir(), Sender: c, MinBackoff: time.Millisecond,
				MaxBackoff: 10 * time.Millisecond, Logger: quiet})
			if err != nil {
				t.Fatal(err)
			}
			defer box.Close()
			rep, _ := outbox.NewReporter(outbox.ReporterOptions{Outbox: box})
			s := newStreamer(t, c, func(o *logstream.Options) {
				o.Resender = rep
				o.RotateLines = 5
				o.BufferBytes = tc.bufferBytes
			})
			st := s.Sink(context.Background(), job)
			for i := 1; i <= 10; i++ {
				st.Line(int64(i), []byte(fmt.Sprintf("line %d", i)), time.Now())
			}
			waitFor(t, "the first lines streamed", func() bool { return len(fake.StreamLines(key)) >= 10 })
			fake.SetFailure(cpfake.FailReset) // the outage begins; the job goes on and ends
			for i := 11; i <= 60; i++ {
				st.Line(int64(i), []byte(fmt.Sprintf("line %d", i)), time.Now())
			}
			meta := st.Close()
			queued, _ := meta[logstream.MetaLinesResendQueued].(int64)
			if unsent := meta[logstream.MetaLinesUnsent].(int64); queued < 50 || queued != unsent {
				t.Fatalf("meta = %v: want every unsent line (at least the 50 of the outage) queued", meta)
			}
			if _, ok := meta[logstream.MetaLinesNotResent]; ok {
				t.Errorf("meta = %v: nothing should be given up", meta)
			}
			fake.SetFailure(cpfake.FailNone) // the control-plane is back
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() { _ = box.Run(ctx); close(done) }()
			wctx, wcancel := context.WithTimeout(context.Background(), 20*time.Second)
			if err := box.WaitEmpty(wctx); err != nil {
				t.Fatal(err)
			}
			wcancel()
			cancel()
			<-done
			checkOnce(t, fake, 60)
		})
	}
}

// Without room for every missed line, the first ones are resent and the
// metadata says how many never will be, and why.
func TestResendBeyondTheBoundIsNamed(t *testing.T) {
	fake, c := setup(t, cpfake.Options{}, "")
	fake.SetFailure(cpfake.Fail500)
	box, err := outbox.Open(outbox.Options{Dir: t.TempDir(), Sender: c, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer box.Close()
	rep, _ := outbox.NewReporter(outbox.ReporterOptions{Outbox: box})
	s := newStreamer(t, c, func(o *logstream.Options) {
		o.Resender = rep
		o.MaxResendBytes = 500
		o.CloseTimeout = 50 * time.Millisecond
	})
	st := s.Sink(context.Background(), job)
	for i := 1; i <= 40; i++ {
		st.Line(int64(i), []byte(fmt.Sprintf("line %d", i)), time.Now())
	}
	meta := st.Close()
	queued, _ := meta[logstream.MetaLinesResendQueued].(int64)
	notResent, _ := meta[logstream.MetaLinesNotResent].(int64)
	if queued == 0 || queued+notResent != 40 || meta[logstream.MetaResendNote] == nil {
		t.Fatalf("meta = %v", meta)
	}
	if box.Backlog() != 1 {
		t.Errorf("outbox backlog %d, want the one resend", box.Backlog())
	}
}

// A stream the control-plane refuses (a 4xx) is not resent: another request
// would be refused too. The metadata says why the lines were not sent.
func TestRefusedStreamIsNotResent(t *testing.T) {
	_, c := setup(t, cpfake.Options{Token: "right"}, "wrong")
	box, err := outbox.Open(outbox.Options{Dir: t.TempDir(), Sender: c, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer box.Close()
	rep, _ := outbox.NewReporter(outbox.ReporterOptions{Outbox: box})
	s := newStreamer(t, c, func(o *logstream.Options) { o.Resender = rep })
	st := s.Sink(context.Background(), job)
	st.Line(1, []byte("x"), time.Now())
	meta := st.Close()
	if meta[logstream.MetaLinesNotResent] != int64(1) || meta[logstream.MetaResendNote] == nil || box.Backlog() != 0 {
		t.Fatalf("meta = %v, backlog %d", meta, box.Backlog())
	}
}

// stuckOpener is a control-plane that never takes the request: the
// stream's first body write blocks until the stream is cancelled, so the
// lines after it stay in the memory buffer and the spill file.
type stuckOpener struct{}

func (stuckOpener) OpenLogStream(ctx context.Context, _, _, _ string, _ int, _ io.Reader) (*http.Response, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

// Lines held in memory and lines in the spill file at the moment the job
// ends are all queued: none is counted lost because it sat in the second
// buffer.
func TestCloseQueuesMemoryAndSpillLines(t *testing.T) {
	_, c := setup(t, cpfake.Options{}, "")
	box, err := outbox.Open(outbox.Options{Dir: t.TempDir(), Sender: c, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer box.Close()
	rep, _ := outbox.NewReporter(outbox.ReporterOptions{Outbox: box})
	s := newStreamer(t, stuckOpener{}, func(o *logstream.Options) {
		o.Resender = rep
		o.BufferBytes = 300 // a few lines in memory, the rest spilled
		o.CloseTimeout = 50 * time.Millisecond
	})
	st := s.Sink(context.Background(), job)
	for i := 1; i <= 40; i++ {
		st.Line(int64(i), []byte(fmt.Sprintf("line %d", i)), time.Now())
	}
	meta := st.Close()
	if meta[logstream.MetaLinesSpilled].(int64) == 0 {
		t.Fatalf("meta = %v: the test needs lines in the spill file", meta)
	}
	if q, _ := meta[logstream.MetaLinesResendQueued].(int64); q != 40 {
		t.Errorf("meta = %v: want all 40 lines queued for resend", meta)
	}
	if _, ok := meta[logstream.MetaLinesNotResent]; ok {
		t.Errorf("meta = %v: nothing should be given up", meta)
	}
}
