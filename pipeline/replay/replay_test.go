package replay_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/refinery/refinery-worker/pipeline"
	"github.com/refinery/refinery-worker/pipeline/replay"
)

// sliceSource is a topic held in memory: Read hands out its entries in
// order, whatever the range (the broker readers' ranges are tested in
// adapters/replaysource).
type sliceSource map[string][]replay.Entry

func (s sliceSource) Read(_ context.Context, topic, _, _ string, fn func(replay.Entry) error) error {
	for _, e := range s[topic] {
		if err := fn(e); err != nil {
			return err
		}
	}
	return nil
}

// recorder is a message.Publisher that keeps what it is given.
type recorder struct {
	mu  sync.Mutex
	got map[string][]*message.Message
	err error
}

func (r *recorder) Publish(topic string, msgs ...*message.Message) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return r.err
	}
	if r.got == nil {
		r.got = map[string][]*message.Message{}
	}
	r.got[topic] = append(r.got[topic], msgs...)
	return nil
}

func (r *recorder) Close() error { return nil }

func entry(t *testing.T, pos string, w *pipeline.Work) replay.Entry {
	t.Helper()
	msg, err := pipeline.EncodeWork(w)
	if err != nil {
		t.Fatal(err)
	}
	return replay.Entry{Position: pos, Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Msg: msg}
}

func TestRunInProcess(t *testing.T) {
	jobs := []*pipeline.Work{
		{CorrelationID: "c1", Job: &pipeline.Job{Name: "lxml", Version: "5.2.1"}},
		{CorrelationID: "c2", Job: &pipeline.Job{Name: "numpy", Version: "1.26.4"}},
		{CorrelationID: "c3", Job: &pipeline.Job{Name: "LXML", Version: "5.3.0"}},
	}
	poison := &pipeline.Work{CorrelationID: "p1", Claim: "r7", Raw: []byte(`{"package":"lxml","version":"x y"}`),
		Rejection: &pipeline.Rejection{Field: "version", Reason: "not PEP 440"}}
	tests := []struct {
		name       string
		opts       replay.Options
		wantStats  replay.Stats
		wantTopic  string
		wantCorrOf []string // replay_of_correlation_id of each published message
		wantList   int      // lines listed
	}{
		{"all of a stage", replay.Options{Stage: "build"}, replay.Stats{Read: 3, Matched: 3, Published: 3},
			pipeline.TopicJobs, []string{"c1", "c2", "c3"}, 0},
		{"one package, normalised", replay.Options{Stage: "build", Package: " Lxml "}, replay.Stats{Read: 3, Matched: 2, Published: 2},
			pipeline.TopicJobs, []string{"c1", "c3"}, 0},
		{"dry run lists only", replay.Options{Stage: "build", Package: "lxml", DryRun: true}, replay.Stats{Read: 3, Matched: 2},
			"", nil, 2},
		{"poison goes to the intake", replay.Options{Stage: "poison"}, replay.Stats{Read: 1, Matched: 1, Published: 1},
			pipeline.TopicIntake, []string{"p1"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			topics := pipeline.Topics{Prefix: "t."}
			src := sliceSource{topics.Name(pipeline.TopicJobs): {entry(t, "1-0", jobs[0]), entry(t, "2-0", jobs[1]), entry(t, "3-0", jobs[2])},
				topics.Name(pipeline.TopicPoison): {entry(t, "9-0", poison)}}
			rec := &recorder{}
			var out strings.Builder
			tt.opts.Out = &out
			st, err := replay.Run(context.Background(), pipeline.Transport{Publisher: rec, Topics: topics, Durable: true}, src, tt.opts)
			if err != nil || st != tt.wantStats {
				t.Fatalf("Run = %+v, %v; want %+v", st, err, tt.wantStats)
			}
			if n := strings.Count(out.String(), "\n"); n != tt.wantStats.Matched {
				t.Fatalf("listing has %d lines, want %d:\n%s", n, tt.wantStats.Matched, out.String())
			}
			if tt.wantList > 0 && len(rec.got) != 0 {
				t.Fatalf("a dry run published %v", rec.got)
			}
			got := rec.got[topics.Name(tt.wantTopic)]
			if len(got) != len(tt.wantCorrOf) {
				t.Fatalf("published %d to %s, want %d (all: %v)", len(got), tt.wantTopic, len(tt.wantCorrOf), rec.got)
			}
			for i, msg := range got {
				w, err := pipeline.DecodeWork(msg)
				if err != nil {
					t.Fatal(err)
				}
				if msg.Metadata.Get(replay.MetaReplayOfCorrelation) != tt.wantCorrOf[i] || !strings.HasPrefix(w.CorrelationID, "replay-") ||
					msg.Metadata.Get(pipeline.MetaCorrelation) != w.CorrelationID || msg.Metadata.Get(replay.MetaReplayOf) == "" {
					t.Fatalf("published %d: %+v, metadata %v", i, w, msg.Metadata)
				}
				if tt.opts.Stage == "poison" && (w.Rejection != nil || string(w.Raw) != string(poison.Raw) || w.Claim != "r7") {
					t.Fatalf("poison replayed as %+v, want a fresh intake work with the raw item", w)
				}
			}
		})
	}
}

func TestRunPublishFailure(t *testing.T) {
	topics := pipeline.Topics{}
	src := sliceSource{pipeline.TopicJobs: {entry(t, "1-0", &pipeline.Work{CorrelationID: "c1", Job: &pipeline.Job{Name: "a", Version: "1"}})}}
	boom := errors.New("broker down")
	_, err := replay.Run(context.Background(), pipeline.Transport{Publisher: &recorder{err: boom}, Topics: topics, Durable: true}, src,
		replay.Options{Stage: "build"})
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "replay 1-0") {
		t.Fatalf("err = %v, want the publish error wrapped with the position", err)
	}
}

func TestPackageOf(t *testing.T) {
	tests := []struct {
		name                  string
		w                     pipeline.Work
		wantName, wantVersion string
	}{
		{"job", pipeline.Work{Job: &pipeline.Job{Name: "a", Version: "1"}, Request: &pipeline.Request{Name: "b", Version: "2"}}, "a", "1"},
		{"request", pipeline.Work{Request: &pipeline.Request{Name: "b", Version: "2"}}, "b", "2"},
		{"raw item", pipeline.Work{Raw: json.RawMessage(`{"package":"c","version":"3"}`)}, "c", "3"},
		{"nothing", pipeline.Work{Raw: json.RawMessage(`[`)}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, v := replay.PackageOf(&tt.w)
			if n != tt.wantName || v != tt.wantVersion {
				t.Fatalf("PackageOf = %q %q, want %q %q", n, v, tt.wantName, tt.wantVersion)
			}
		})
	}
}

func TestReplayRefusals(t *testing.T) {
	tests := []struct {
		name string
		tr   pipeline.Transport
		opts replay.Options
		want string
	}{
		{"memory transport", pipeline.Transport{}, replay.Options{Stage: "build"}, "needs a durable transport"},
		{"unknown stage", pipeline.Transport{Durable: true}, replay.Options{Stage: "compile"}, "unknown stage"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := replay.Run(context.Background(), tt.tr, nil, tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if tt.tr.Durable == false && !errors.Is(err, replay.ErrNotDurable) {
				t.Fatalf("err = %v, want ErrNotDurable", err)
			}
		})
	}
}

func TestStatsSummary(t *testing.T) {
	st := replay.Stats{Read: 5, Matched: 3, Published: 2}
	if got := st.Summary("build", false); got != "replay build: read 5, matched 3, published 2" {
		t.Errorf("summary %q", got)
	}
	if got := st.Summary("build", true); got != "replay build (dry run): read 5, would publish 3" {
		t.Errorf("dry run summary %q", got)
	}
}

func TestOptionsCheck(t *testing.T) {
	cases := []struct {
		name      string
		o         replay.Options
		transport string
		want      string // "" = usable
	}{
		{"usable", replay.Options{Stage: "build", From: "0"}, "redis", ""},
		{"no stage", replay.Options{From: "0"}, "redis", "--stage and --from are required"},
		{"no from", replay.Options{Stage: "build"}, "kafka", "--stage and --from are required"},
		{"in process", replay.Options{Stage: "build", From: "0"}, "memory", "PIPELINE_TRANSPORT=memory keeps no topic to re-read"},
		{"unknown stage", replay.Options{Stage: "compile", From: "0"}, "kafka", `unknown stage "compile"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.o.Check(tc.transport)
			if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
				t.Errorf("Check = %v, want %q", err, tc.want)
			}
		})
	}
}
