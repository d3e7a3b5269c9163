package joblog

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/refinery/refinery-worker/pipeline"
)

type recSink struct {
	mu     sync.Mutex
	seqs   []int64
	lines  []string
	closed int
}

func (s *recSink) Line(seq int64, line []byte, _ time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seqs = append(s.seqs, seq)
	s.lines = append(s.lines, string(line))
}

func (s *recSink) Close() map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed++
	return map[string]any{"stream_lines": len(s.lines)}
}

func testJob() pipeline.Job {
	return pipeline.Job{ID: "j1", Name: "pkg", Version: "1.0", Attempt: 1}
}

func open(t *testing.T, opts ...Option) (*Log, *recSink) {
	t.Helper()
	sink := &recSink{}
	opts = append(opts, WithSinks(func(context.Context, pipeline.Job) LineSink { return sink }))
	o := NewOpener(filepath.Join(t.TempDir(), "logs"), opts...)
	jl, err := o.OpenJobLog(context.Background(), testJob())
	if err != nil {
		t.Fatal(err)
	}
	return jl.(*Log), sink
}

func TestLineSplitting(t *testing.T) {
	tests := []struct {
		name   string
		writes []string
		want   []string
	}{
		{"one write", []string{"a\nb\n"}, []string{"a", "b"}},
		{"split across writes", []string{"he", "llo\nwor", "ld\n"}, []string{"hello", "world"}},
		{"unterminated last line", []string{"a\nb"}, []string{"a", "b"}},
		{"empty lines", []string{"\n\nx\n"}, []string{"", "", "x"}},
		{"crlf kept", []string{"a\r\n"}, []string{"a\r"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l, sink := open(t)
			for _, w := range tc.writes {
				if n, err := l.Write([]byte(w)); err != nil || n != len(w) {
					t.Fatalf("Write = %d, %v", n, err)
				}
			}
			meta, err := l.Close()
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(sink.lines, "|"); got != strings.Join(tc.want, "|") {
				t.Errorf("sink lines %q, want %q", sink.lines, tc.want)
			}
			for i, s := range sink.seqs {
				if s != int64(i+1) {
					t.Fatalf("seqs %v not 1..n", sink.seqs)
				}
			}
			if got := strings.Join(l.Tail(10), "|"); got != strings.Join(tc.want, "|") {
				t.Errorf("Tail = %q", got)
			}
			if meta["log_lines"] != int64(len(tc.want)) || meta["stream_lines"] != len(tc.want) {
				t.Errorf("meta = %v", meta)
			}
			data, _ := os.ReadFile(l.Path())
			if string(data) != strings.Join(tc.writes, "") {
				t.Errorf("file = %q", data)
			}
			if sink.closed != 1 {
				t.Errorf("sink closed %d times", sink.closed)
			}
		})
	}
}

func TestLongLineIsSegmented(t *testing.T) {
	l, sink := open(t, WithSegmentSize(64<<10))
	big := bytes.Repeat([]byte("x"), 5<<20)
	// Written in pipe-sized chunks, as the runner does.
	for off := 0; off < len(big); off += 32 << 10 {
		if _, err := l.Write(big[off:min(off+32<<10, len(big))]); err != nil {
			t.Fatal(err)
		}
		if cap(l.pending) > 64<<10+1024 {
			t.Fatalf("pending grew to %d", cap(l.pending))
		}
	}
	if _, err := l.Write([]byte("\nafter\n")); err != nil {
		t.Fatal(err)
	}
	meta, err := l.Close()
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, s := range sink.lines[:len(sink.lines)-1] {
		if len(s) > 64<<10 {
			t.Fatalf("segment of %d bytes", len(s))
		}
		total += len(s)
	}
	if total != len(big) || sink.lines[len(sink.lines)-1] != "after" {
		t.Fatalf("segments carry %d bytes, last %q", total, sink.lines[len(sink.lines)-1])
	}
	if meta["log_lines"] != int64(2) {
		t.Errorf("log_lines = %v", meta["log_lines"])
	}
	tail := l.Tail(5)
	if len(tail) != 2 || !strings.HasSuffix(tail[0], "…[line continues]") || len(tail[0]) > maxTailLineBytes+64 || tail[1] != "after" {
		t.Errorf("Tail = %d lines, first %d bytes", len(tail), len(tail[0]))
	}
}

func TestSizeCapKeepsHeadAndTail(t *testing.T) {
	const capBytes = 4 << 10
	l, _ := open(t, WithMaxBytes(capBytes))
	var all bytes.Buffer
	for i := range 1000 {
		fmt.Fprintf(&all, "line %04d %s\n", i, strings.Repeat("y", 20))
	}
	for chunk := range bytes.Lines(all.Bytes()) {
		if _, err := l.Write(chunk); err != nil {
			t.Fatal(err)
		}
	}
	if cap(l.tail.buf) > capBytes/2 {
		t.Fatalf("tail ring grew to %d", cap(l.tail.buf))
	}
	meta, err := l.Close()
	if err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(l.Path())
	cut := meta["log_bytes_cut"].(int64)
	marker := formatCut(cut)
	if !bytes.Contains(data, []byte(marker)) {
		t.Fatalf("no marker %q in log", marker)
	}
	if int64(len(data)) != int64(all.Len())-cut+int64(len(marker)) {
		t.Errorf("file %d bytes, input %d, cut %d", len(data), all.Len(), cut)
	}
	if len(data) > capBytes+len(marker) {
		t.Errorf("file %d bytes over cap", len(data))
	}
	if !bytes.HasPrefix(data, all.Bytes()[:capBytes/2]) {
		t.Error("head not kept")
	}
	if !bytes.HasSuffix(data, []byte("line 0999 "+strings.Repeat("y", 20)+"\n")) {
		t.Error("tail not kept")
	}
	after := data[bytes.Index(data, []byte(marker))+len(marker):]
	if !bytes.HasPrefix(after, []byte("line ")) {
		t.Errorf("tail does not start at a line: %q", after[:20])
	}
	if meta["log_bytes"] != int64(all.Len()) {
		t.Errorf("log_bytes = %v", meta["log_bytes"])
	}
}

func TestConcurrentWritersKeepWholeLines(t *testing.T) {
	l, sink := open(t)
	var wg sync.WaitGroup
	for _, stream := range []string{"out", "err"} {
		wg.Go(func() {
			for i := range 500 {
				fmt.Fprintf(l, "%s %d\n", stream, i)
			}
		})
	}
	wg.Wait()
	if _, err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if len(sink.lines) != 1000 {
		t.Fatalf("%d lines", len(sink.lines))
	}
	next := map[string]int{}
	for _, line := range sink.lines {
		var s string
		var i int
		if _, err := fmt.Sscanf(line, "%s %d", &s, &i); err != nil || next[s] != i {
			t.Fatalf("line %q out of order or mangled", line)
		}
		next[s]++
	}
}

func TestCloseTwiceAndWriteAfterClose(t *testing.T) {
	l, sink := open(t)
	fmt.Fprintln(l, "x")
	m1, err1 := l.Close()
	m2, err2 := l.Close()
	if err1 != nil || err2 != nil || fmt.Sprint(m1) != fmt.Sprint(m2) || sink.closed != 1 {
		t.Fatalf("Close twice: %v %v %v %v closed=%d", m1, err1, m2, err2, sink.closed)
	}
	if _, err := l.Write([]byte("y\n")); !errors.Is(err, os.ErrClosed) {
		t.Fatalf("Write after Close = %v", err)
	}
}

func TestFileNameIsSafe(t *testing.T) {
	tests := []struct {
		job  pipeline.Job
		want string
	}{
		{pipeline.Job{Name: "numpy", Version: "1.26.4", ID: "abc", Attempt: 2}, "numpy-1.26.4-abc-a2.log"},
		{pipeline.Job{Name: "../../etc/passwd", Version: "$(reboot)", ID: "a/b", Attempt: 1}, "_._.._etc_passwd-__reboot_-a_b-a1.log"},
		{pipeline.Job{Name: "", Version: "", ID: "", Attempt: -1}, "_-_-_-a0.log"},
		{pipeline.Job{Name: "nümpy", Version: "1.0\n-e X=1", ID: ".hidden", Attempt: 1}, "n_mpy-1.0__e_X_1-_hidden-a1.log"},
	}
	for _, tc := range tests {
		if got := FileName(tc.job); got != tc.want {
			t.Errorf("FileName(%q) = %q, want %q", tc.job.Name, got, tc.want)
		}
	}
}

func TestTailBounded(t *testing.T) {
	l, _ := open(t, WithTailLines(3))
	for i := range 10 {
		fmt.Fprintf(l, "%d\n", i)
	}
	if got := strings.Join(l.Tail(100), ","); got != "7,8,9" {
		t.Errorf("Tail = %s", got)
	}
	if got := strings.Join(l.Tail(2), ","); got != "8,9" {
		t.Errorf("Tail(2) = %s", got)
	}
	if _, err := l.Close(); err != nil {
		t.Fatal(err)
	}
}
