// Package replay re-runs one stage of the pipeline on a durable transport:
// it reads the stage's input topic in a range (without a consumer group, so
// no stage's position moves) and publishes the matching messages to the
// same topic again, where the stage's group consumes them as new. The poison
// topic replays to its origin, the intake topic: the dequeue stage judges
// the raw items again. A dry run only lists what would be replayed.
//
// The end of an open range is fixed when the replay starts, so the messages
// it publishes are never read again by the same replay. Each replayed Work
// gets a new correlation id ("replay-..."; the original is kept in the
// message metadata): a replay is a new run of the stage, not a redelivery.
package replay

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/refinery/refinery-worker/pipeline"
	"github.com/refinery/refinery-worker/pipeline/pep508"
)

// ErrNotDurable is returned for a transport whose topics cannot be re-read.
var ErrNotDurable = errors.New("replay needs a durable transport: set PIPELINE_TRANSPORT=redis or kafka (the memory transport keeps no history)")

// MetaReplayOf is the metadata key a replayed message carries: the position
// it was copied from. MetaReplayOfCorrelation keeps the original correlation
// id: a replayed message gets a new one, because a replay is a new run of
// the stage (the Kafka build hold skips a correlation id already built).
const (
	MetaReplayOf            = "replay_of"
	MetaReplayOfCorrelation = "replay_of_correlation_id"
)

// Entry is one message read from a topic.
type Entry struct {
	// Position is where the message is: a stream id, or partition:offset.
	Position string
	// Time is when the message was stored.
	Time time.Time
	Msg  *message.Message
}

// Source reads a topic of one transport in a range. From and To are as the
// user wrote them ("start", "end" or "" for To, a stream id or offset, an
// RFC 3339 time); each source documents what it accepts. To is inclusive.
type Source interface {
	Read(ctx context.Context, topic, from, to string, fn func(Entry) error) error
}

// Options say what to replay.
type Options struct {
	// Stage is dequeue, plan, match, build, report, requeue or poison.
	Stage string
	// From and To bound the range (To may be empty: up to the end as it is
	// when the replay starts).
	From, To string
	// Package keeps only messages about this package (compared PEP 503
	// normalised). Empty: all.
	Package string
	// DryRun lists the messages without publishing them.
	DryRun bool
	// Out receives one line per message (position, time, correlation id,
	// package==version). Nil: no listing.
	Out io.Writer
}

// Stats counts a replay.
type Stats struct {
	Read, Matched, Published int
}

// Inputs maps a stage to the topic it reads.
var inputs = map[string]string{
	"dequeue": pipeline.TopicIntake, "plan": pipeline.TopicRequests, "match": pipeline.TopicPlanned,
	"build": pipeline.TopicJobs, "report": pipeline.TopicResults, "requeue": pipeline.TopicReported,
	"poison": pipeline.TopicPoison,
}

// InputTopic is the logical topic a stage reads, and the one its replay
// publishes to (the intake topic for poison).
func InputTopic(stage string) (read, publish string, err error) {
	t, ok := inputs[stage]
	if !ok {
		return "", "", fmt.Errorf("unknown stage %q (want dequeue, plan, match, build, report, requeue or poison)", stage)
	}
	if stage == "poison" {
		return t, pipeline.TopicIntake, nil
	}
	return t, t, nil
}

// Check reports what makes o unusable on the transport kind
// (PIPELINE_TRANSPORT): --stage and --from are required, the stage must be
// known, and an in-process transport keeps no topic to re-read.
func (o Options) Check(transport string) error {
	if o.Stage == "" || o.From == "" {
		return errors.New("--stage and --from are required")
	}
	if transport == "memory" || transport == "" {
		return errors.New("PIPELINE_TRANSPORT=memory keeps no topic to re-read; stage-level replay needs redis or kafka")
	}
	_, _, err := InputTopic(o.Stage)
	return err
}

// Run replays opts.Stage on transport t, reading through src.
func Run(ctx context.Context, t pipeline.Transport, src Source, opts Options) (Stats, error) {
	var st Stats
	if !t.Durable {
		return st, ErrNotDurable
	}
	readTopic, pubTopic, err := InputTopic(opts.Stage)
	if err != nil {
		return st, err
	}
	want := Normalize(opts.Package)
	err = src.Read(ctx, t.Topics.Name(readTopic), opts.From, opts.To, func(e Entry) error {
		st.Read++
		w, werr := pipeline.DecodeWork(e.Msg)
		name, version := "", ""
		if werr == nil {
			name, version = PackageOf(w)
		}
		if want != "" && Normalize(name) != want {
			return nil
		}
		st.Matched++
		corr := e.Msg.Metadata.Get(pipeline.MetaCorrelation)
		if opts.Out != nil {
			fmt.Fprintf(opts.Out, "%s\t%s\t%s\t%s==%s\n", e.Position, e.Time.UTC().Format(time.RFC3339), corr, name, version)
		}
		if opts.DryRun {
			return nil
		}
		out, err := replayMessage(e, w, opts.Stage == "poison")
		if err != nil {
			return err
		}
		if err := t.Publisher.Publish(t.Topics.Name(pubTopic), out); err != nil {
			return fmt.Errorf("replay %s to %s: %w", e.Position, pubTopic, err)
		}
		st.Published++
		return nil
	})
	if err != nil {
		return st, fmt.Errorf("replay stage %s: %w", opts.Stage, err)
	}
	return st, nil
}

// replayMessage copies e's message under a new message id and a new
// correlation id; a poison message becomes a fresh intake Work carrying the
// raw item. A message that is not a Work is copied as it is.
func replayMessage(e Entry, w *pipeline.Work, poison bool) (*message.Message, error) {
	payload := e.Msg.Payload
	corr := e.Msg.Metadata.Get(pipeline.MetaCorrelation)
	newCorr := corr
	if w != nil {
		newCorr = "replay-" + watermill.NewShortUUID()
		cp := *w
		if poison {
			cp = pipeline.Work{Claim: w.Claim, Raw: w.Raw, ClaimedAt: w.ClaimedAt}
		}
		cp.CorrelationID = newCorr
		b, err := json.Marshal(&cp)
		if err != nil {
			return nil, fmt.Errorf("replay %s: encode work: %w", e.Position, err)
		}
		payload = b
	}
	out := message.NewMessage(watermill.NewUUID(), payload)
	for k, v := range e.Msg.Metadata {
		out.Metadata.Set(k, v)
	}
	out.Metadata.Set(pipeline.MetaCorrelation, newCorr)
	out.Metadata.Set(MetaReplayOf, e.Position)
	out.Metadata.Set(MetaReplayOfCorrelation, corr)
	return out, nil
}

// PackageOf is the package a Work is about, and its version, from the most
// processed part it has.
func PackageOf(w *pipeline.Work) (name, version string) {
	switch {
	case w.Job != nil:
		return w.Job.Name, w.Job.Version
	case w.Request != nil:
		return w.Request.Name, w.Request.Version
	}
	var it struct {
		Package string `json:"package"`
		Version string `json:"version"`
	}
	if json.Unmarshal(w.Raw, &it) == nil {
		return it.Package, it.Version
	}
	return "", ""
}

// Normalize is the PEP 503 form of a package name (surrounding spaces cut).
func Normalize(name string) string { return pep508.NormalizeName(strings.TrimSpace(name)) }

// ParseTime reads an RFC 3339 time; ok is false when s is not one.
func ParseTime(s string) (time.Time, bool) {
	t, err := time.Parse(time.RFC3339Nano, s)
	return t, err == nil
}

// Summary is the replay command's last line.
func (st Stats) Summary(stage string, dryRun bool) string {
	if dryRun {
		return fmt.Sprintf("replay %s (dry run): read %d, would publish %d", stage, st.Read, st.Matched)
	}
	return fmt.Sprintf("replay %s: read %d, matched %d, published %d", stage, st.Read, st.Matched, st.Published)
}
