package replaysource_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/refinery/refinery-worker/adapters/replaysource"
	"github.com/refinery/refinery-worker/adapters/transport"
	"github.com/refinery/refinery-worker/internal/testkit/testsvc"
	"github.com/refinery/refinery-worker/pipeline"
	"github.com/refinery/refinery-worker/pipeline/replay"
)

type setup struct {
	name string
	make func(t *testing.T) (pipeline.Transport, replay.Source)
}

var setups = []setup{
	{"redis", func(t *testing.T) (pipeline.Transport, replay.Source) {
		srv := testsvc.StartRedis(t)
		tr, closeFn, err := transport.Redis(context.Background(), transport.RedisOptions{URL: srv.URL, Prefix: "r."})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = closeFn() })
		c := redis.NewClient(&redis.Options{Addr: srv.Addr})
		t.Cleanup(func() { _ = c.Close() })
		return tr, replaysource.RedisSource{Client: c}
	}},
	{"kafka", func(t *testing.T) (pipeline.Transport, replay.Source) {
		k := testsvc.StartKafka(t, testsvc.KafkaOptions{})
		tr, closeFn, err := transport.Kafka(context.Background(), transport.KafkaOptions{Brokers: k.Brokers, Prefix: "r."})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = closeFn() })
		return tr, replaysource.KafkaSource{Brokers: k.Brokers}
	}},
}

func job(corr, name, version string) *pipeline.Work {
	return &pipeline.Work{CorrelationID: corr, Raw: []byte(`{"package":"` + name + `"}`),
		Job: &pipeline.Job{Name: name, Version: version}}
}

func readAll(t *testing.T, src replay.Source, topic string) []replay.Entry {
	t.Helper()
	var out []replay.Entry
	if err := src.Read(context.Background(), topic, "start", "", func(e replay.Entry) error {
		out = append(out, e)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestReplay(t *testing.T) {
	for _, s := range setups {
		t.Run(s.name, func(t *testing.T) {
			ctx := context.Background()
			tr, src := s.make(t)
			pub := pipeline.NewPublisher(tr.Publisher, tr.Topics, tr.InProcess)
			for _, w := range []*pipeline.Work{job("c1", "lxml", "5.2.1"), job("c2", "numpy", "1.26.4"), job("c3", "lxml", "5.3.0")} {
				if err := pub.Publish(ctx, pipeline.TopicJobs, w); err != nil {
					t.Fatal(err)
				}
			}
			jobs := tr.Topics.Name(pipeline.TopicJobs)

			var out bytes.Buffer
			st, err := replay.Run(ctx, tr, src, replay.Options{Stage: "build", From: "start", Package: "LXML", DryRun: true, Out: &out})
			if err != nil || st.Read != 3 || st.Matched != 2 || st.Published != 0 {
				t.Fatalf("dry run = %+v, %v", st, err)
			}
			if lines := strings.Split(strings.TrimSpace(out.String()), "\n"); len(lines) != 2 ||
				!strings.Contains(lines[0], "c1\tlxml==5.2.1") || !strings.Contains(lines[1], "c3\tlxml==5.3.0") {
				t.Fatalf("dry-run listing:\n%s", out.String())
			}
			if n := len(readAll(t, src, jobs)); n != 3 {
				t.Fatalf("a dry run published: %d messages", n)
			}

			st, err = replay.Run(ctx, tr, src, replay.Options{Stage: "build", From: "start", Package: "lxml"})
			if err != nil || st.Published != 2 {
				t.Fatalf("replay = %+v, %v", st, err)
			}
			all := readAll(t, src, jobs)
			if len(all) != 5 {
				t.Fatalf("topic holds %d messages, want 5", len(all))
			}
			for i, e := range all[3:] {
				w, err := pipeline.DecodeWork(e.Msg)
				if err != nil || w.Job.Name != "lxml" || e.Msg.Metadata.Get(replay.MetaReplayOf) != all[2*i].Position ||
					!strings.HasPrefix(w.CorrelationID, "replay-") || e.Msg.Metadata.Get(pipeline.MetaCorrelation) != w.CorrelationID ||
					e.Msg.Metadata.Get(replay.MetaReplayOfCorrelation) != []string{"c1", "c3"}[i] {
					t.Fatalf("replayed %d: %+v %v (replay_of %q)", i, w, err, e.Msg.Metadata.Get(replay.MetaReplayOf))
				}
			}

			// A range: from the second message to the third.
			st, err = replay.Run(ctx, tr, src, replay.Options{Stage: "build", From: all[1].Position, To: all[2].Position, DryRun: true})
			if err != nil || st.Matched != 2 {
				t.Fatalf("range %s..%s = %+v, %v", all[1].Position, all[2].Position, st, err)
			}
			// A time range in the future holds nothing.
			future := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
			st, err = replay.Run(ctx, tr, src, replay.Options{Stage: "build", From: future, DryRun: true})
			if err != nil || st.Matched != 0 {
				t.Fatalf("from %s = %+v, %v", future, st, err)
			}
		})
	}
}

func TestReplayPoisonGoesBackToTheIntake(t *testing.T) {
	for _, s := range setups {
		t.Run(s.name, func(t *testing.T) {
			ctx := context.Background()
			tr, src := s.make(t)
			pub := pipeline.NewPublisher(tr.Publisher, tr.Topics, tr.InProcess)
			bad := &pipeline.Work{CorrelationID: "p1", Claim: "r7", Raw: []byte(`{"package":"lxml","version":"x y"}`),
				Rejection: &pipeline.Rejection{Field: "version", Reason: "not PEP 440", At: time.Now()}}
			if err := pub.Publish(ctx, pipeline.TopicPoison, bad); err != nil {
				t.Fatal(err)
			}
			st, err := replay.Run(ctx, tr, src, replay.Options{Stage: "poison", From: "start"})
			if err != nil || st.Published != 1 {
				t.Fatalf("replay poison = %+v, %v", st, err)
			}
			got := readAll(t, src, tr.Topics.Name(pipeline.TopicIntake))
			if len(got) != 1 {
				t.Fatalf("intake holds %d messages", len(got))
			}
			w, err := pipeline.DecodeWork(got[0].Msg)
			if err != nil || w.Rejection != nil || string(w.Raw) != string(bad.Raw) || w.CorrelationID == "p1" ||
				got[0].Msg.Metadata.Get(replay.MetaReplayOfCorrelation) != "p1" {
				t.Fatalf("intake work = %+v, %v", w, err)
			}
		})
	}
}

func TestBadPositions(t *testing.T) {
	for _, s := range setups {
		t.Run(s.name, func(t *testing.T) {
			tr, src := s.make(t)
			_, err := replay.Run(context.Background(), tr, src, replay.Options{Stage: "build", From: "yesterday"})
			if err == nil || !strings.Contains(err.Error(), `position "yesterday"`) {
				t.Fatalf("err = %v", err)
			}
		})
	}
}
