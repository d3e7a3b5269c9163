package logstream_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/refinery/refinery-worker/adapters/controlplane"
	"github.com/refinery/refinery-worker/adapters/controlplane/cpfake"
	"github.com/refinery/refinery-worker/adapters/logstream"
	"github.com/refinery/refinery-worker/pipeline"
	"github.com/refinery/refinery-worker/pipeline/redact"
)

var quiet = slog.New(slog.DiscardHandler)

func setup(t *testing.T, fo cpfake.Options, token string) (*cpfake.Server, *controlplane.Client) {
	t.Helper()
	fake := cpfake.New(fo)
	ts := httptest.NewServer(fake)
	t.Cleanup(ts.Close)
	t.Cleanup(fake.ReleaseHangs)
	c, err := controlplane.New(controlplane.Options{BaseURL: ts.URL, Token: token, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	return fake, c
}

func newStreamer(t *testing.T, opener logstream.StreamOpener, mod func(*logstream.Options)) *logstream.Streamer {
	t.Helper()
	o := logstream.Options{Client: opener, SpillDir: t.TempDir(), MinBackoff: time.Millisecond,
		MaxBackoff: 10 * time.Millisecond, Logger: quiet, CloseTimeout: 30 * time.Second}
	if mod != nil {
		mod(&o)
	}
	s, err := logstream.New(o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var job = pipeline.Job{Name: "lxml", Display: "lxml", Version: "5.2.1", RunID: "r-1", Attempt: 2}
var key = cpfake.StreamKey{Name: "lxml", Version: "5.2.1", RunID: "r-1", Attempt: "2"}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond) // polling interval, not synchronisation
	}
}

// checkOnce asserts the fake holds lines 1..n, each once, in order.
func checkOnce(t *testing.T, fake *cpfake.Server, n int) {
	t.Helper()
	lines := fake.StreamLines(key)
	if len(lines) != n {
		t.Fatalf("fake has %d lines, want %d", len(lines), n)
	}
	for i, l := range lines {
		if l.Seq != int64(i+1) || l.Content != fmt.Sprintf("line %d", i+1) {
			t.Fatalf("line %d = %+v", i, l)
		}
	}
}

func TestStreamBreakResumes(t *testing.T) {
	tests := []struct {
		name   string
		rotate int
		cut    int
	}{{"one long request", 0, 100}, {"rotating every 50 lines", 50, 30}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake, c := setup(t, cpfake.Options{Token: "tok"}, "tok")
			fake.CutStreamAfter(tc.cut)
			s := newStreamer(t, c, func(o *logstream.Options) { o.RotateLines = tc.rotate })
			st := s.Sink(context.Background(), job)
			for i := 1; i <= 1000; i++ {
				st.Line(int64(i), fmt.Appendf(nil, "line %d\n", i), time.Unix(1795721514, 0))
			}
			meta := st.Close()
			checkOnce(t, fake, 1000)
			if meta[logstream.MetaLinesStreamed] != int64(1000) || meta[logstream.MetaLinesUnsent] != int64(0) {
				t.Errorf("meta = %v", meta)
			}
			if meta[logstream.MetaReconnects].(int64) < 1 {
				t.Errorf("no reconnect recorded: %v", meta)
			}
			if req, done := fake.StreamStats(key); req < 2 || done < 1 {
				t.Errorf("requests %d, completed %d", req, done)
			}
		})
	}
}

func TestLinesVisibleWhileBuildRuns(t *testing.T) {
	fake, c := setup(t, cpfake.Options{}, "")
	red := redact.New("s3cr3t-value")
	s := newStreamer(t, c, func(o *logstream.Options) { o.Redactor = red })
	st := s.Sink(context.Background(), job)
	defer st.Close()
	for i := 1; i <= 3; i++ {
		st.Line(int64(i), fmt.Appendf(nil, "line %d token=s3cr3t-value", i), time.Now())
		waitFor(t, fmt.Sprintf("line %d at the fake", i), func() bool { return len(fake.StreamLines(key)) == i })
	}
	for _, l := range fake.StreamLines(key) {
		if strings.Contains(l.Content, "s3cr3t") || !strings.Contains(l.Content, "[REDACTED]") {
			t.Errorf("line not redacted: %q", l.Content)
		}
	}
	if _, done := fake.StreamStats(key); done != 0 {
		t.Errorf("request ended while the build runs")
	}
}

// gate holds every stream request until opened, without reading its body, so
// that the sender blocks and the stream must buffer and spill.
type gate struct {
	next logstream.StreamOpener
	open chan struct{}
}

func (g *gate) OpenLogStream(ctx context.Context, name, version, runID string, attempt int, body io.Reader) (*http.Response, error) {
	select {
	case <-g.open:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return g.next.OpenLogStream(ctx, name, version, runID, attempt, body)
}

func TestSpillWhenBehind(t *testing.T) {
	fake, c := setup(t, cpfake.Options{}, "")
	g := &gate{next: c, open: make(chan struct{})}
	s := newStreamer(t, g, func(o *logstream.Options) { o.BufferBytes = 1024 })
	st := s.Sink(context.Background(), job)
	for i := 1; i <= 1000; i++ {
		st.Line(int64(i), fmt.Appendf(nil, "line %d", i), time.Now()) // never blocks: the gate is shut
	}
	close(g.open)
	meta := st.Close()
	checkOnce(t, fake, 1000)
	if meta[logstream.MetaLinesSpilled].(int64) == 0 || meta[logstream.MetaLinesUnsent] != int64(0) {
		t.Errorf("meta = %v", meta)
	}
}

func TestRefusedStreamCountsUnsent(t *testing.T) {
	_, c := setup(t, cpfake.Options{Token: "tok"}, "wrong")
	s := newStreamer(t, c, nil)
	st := s.Sink(context.Background(), job)
	for i := 1; i <= 10; i++ {
		st.Line(int64(i), []byte("x"), time.Now())
	}
	meta := st.Close()
	if meta[logstream.MetaLinesUnsent] != int64(10) || meta[logstream.MetaStreamError] == nil {
		t.Errorf("meta = %v", meta)
	}
}

func TestCloseTimeoutGivesUp(t *testing.T) {
	fake, c := setup(t, cpfake.Options{}, "")
	fake.SetFailure(cpfake.Fail500)
	s := newStreamer(t, c, func(o *logstream.Options) { o.CloseTimeout = 50 * time.Millisecond })
	st := s.Sink(context.Background(), job)
	st.Line(1, []byte("x"), time.Now())
	meta := st.Close()
	if meta[logstream.MetaLinesUnsent] != int64(1) {
		t.Errorf("meta = %v", meta)
	}
}

func TestCloseDuringOutageDoesNotWaitForTimeout(t *testing.T) {
	fake, c := setup(t, cpfake.Options{}, "")
	fake.SetFailure(cpfake.FailReset)
	s := newStreamer(t, c, func(o *logstream.Options) {
		o.CloseTimeout = time.Hour
		o.MaxBackoff = time.Hour
		o.MinBackoff = time.Hour
	})
	st := s.Sink(context.Background(), job)
	for i := 1; i <= 5; i++ {
		st.Line(int64(i), []byte("x"), time.Now())
	}
	meta := st.Close() // returns after two failed attempts, not after an hour
	if meta[logstream.MetaLinesUnsent] != int64(5) {
		t.Errorf("meta = %v", meta)
	}
}

func TestRotationByTimeAcknowledges(t *testing.T) {
	fake, c := setup(t, cpfake.Options{}, "")
	s := newStreamer(t, c, func(o *logstream.Options) { o.RotateInterval = 5 * time.Millisecond })
	st := s.Sink(context.Background(), job)
	defer st.Close()
	st.Line(1, []byte("line 1"), time.Now())
	waitFor(t, "the request to end by rotation", func() bool { _, done := fake.StreamStats(key); return done >= 1 })
	st.Line(2, []byte("line 2"), time.Now())
	waitFor(t, "line 2 on a new request", func() bool { return len(fake.StreamLines(key)) == 2 })
	checkOnce(t, fake, 2)
}

// silentEnd answers nothing once the body has ended, the first time.
type silentEnd struct {
	next  logstream.StreamOpener
	calls atomic.Int64
}

func (s *silentEnd) OpenLogStream(ctx context.Context, name, version, runID string, attempt int, body io.Reader) (*http.Response, error) {
	if s.calls.Add(1) == 1 {
		_, _ = io.Copy(io.Discard, body)
		<-ctx.Done()
		return nil, ctx.Err()
	}
	return s.next.OpenLogStream(ctx, name, version, runID, attempt, body)
}

func TestNoAnswerAfterBodyEndIsABreak(t *testing.T) {
	fake, c := setup(t, cpfake.Options{}, "")
	s := newStreamer(t, &silentEnd{next: c}, func(o *logstream.Options) {
		o.AnswerTimeout = time.Second // the silent request costs this; a real answer must come sooner
		o.RotateInterval = time.Millisecond
	})
	st := s.Sink(context.Background(), job)
	st.Line(1, []byte("line 1"), time.Now())
	meta := st.Close()
	checkOnce(t, fake, 1)
	if meta[logstream.MetaLinesUnsent] != int64(0) || meta[logstream.MetaReconnects].(int64) < 1 {
		t.Errorf("meta = %v", meta)
	}
}

func TestStreamErrorIsReported(t *testing.T) {
	_, c := setup(t, cpfake.Options{}, "")
	s := newStreamer(t, &silentEnd{next: c}, func(o *logstream.Options) {
		o.AnswerTimeout = time.Second // the silent request costs this; a real answer must come sooner
		o.RotateInterval = time.Millisecond
		o.MinBackoff, o.MaxBackoff = time.Hour, time.Hour
	})
	st := s.Sink(context.Background(), job)
	st.Line(1, []byte("line 1"), time.Now())
	// The first request broke; Close retries once (it succeeds) and ends.
	if meta := st.Close(); meta[logstream.MetaLinesUnsent] != int64(0) {
		t.Errorf("meta = %v", meta)
	}
}
