package replaysource

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/ThreeDotsLabs/watermill-redisstream/pkg/redisstream"
	"github.com/redis/go-redis/v9"

	"github.com/refinery/refinery-worker/pipeline/replay"
)

// RedisSource reads Redis streams with XRANGE.
//
// From and To accept "start" (From only), "end" or "" (To only), a stream id
// ("1700000000000-3"), Unix milliseconds ("1700000000000", all ids of that
// millisecond) or an RFC 3339 time.
type RedisSource struct {
	Client redis.UniversalClient
	// Batch is how many entries one XRANGE reads. Default 500.
	Batch int64
}

var streamID = regexp.MustCompile(`^\d+(-\d+)?$`)

func redisBound(s string, start bool) (string, error) {
	switch {
	case start && (s == "start" || s == ""):
		return "-", nil
	case !start && (s == "end" || s == ""):
		return "+", nil
	case streamID.MatchString(s):
		return s, nil
	}
	if t, ok := replay.ParseTime(s); ok {
		return strconv.FormatInt(t.UnixMilli(), 10), nil
	}
	return "", fmt.Errorf("position %q is not start, end, a stream id, Unix milliseconds or an RFC 3339 time", s)
}

// Read calls fn for each entry of stream in [from, to], in order. An open
// end is the last entry when Read starts.
func (s RedisSource) Read(ctx context.Context, stream, from, to string, fn func(replay.Entry) error) error {
	start, err := redisBound(from, true)
	if err != nil {
		return err
	}
	end, err := redisBound(to, false)
	if err != nil {
		return err
	}
	if end == "+" {
		last, err := s.Client.XRevRangeN(ctx, stream, "+", "-", 1).Result()
		if err != nil {
			return fmt.Errorf("read end of %s: %w", stream, err)
		}
		if len(last) == 0 {
			return nil
		}
		end = last[0].ID
	}
	batch := s.Batch
	if batch <= 0 {
		batch = 500
	}
	var um redisstream.DefaultMarshallerUnmarshaller
	for {
		xs, err := s.Client.XRangeN(ctx, stream, start, end, batch).Result()
		if err != nil {
			return fmt.Errorf("read %s from %s: %w", stream, start, err)
		}
		for _, x := range xs {
			msg, err := um.Unmarshal(x.Values)
			if err != nil {
				return fmt.Errorf("decode %s %s: %w", stream, x.ID, err)
			}
			if err := fn(replay.Entry{Position: x.ID, Time: idTime(x.ID), Msg: msg}); err != nil {
				return err
			}
		}
		if int64(len(xs)) < batch {
			return nil
		}
		start = "(" + xs[len(xs)-1].ID
	}
}

func idTime(id string) time.Time {
	for i := range len(id) {
		if id[i] == '-' {
			id = id[:i]
			break
		}
	}
	ms, _ := strconv.ParseInt(id, 10, 64)
	return time.UnixMilli(ms)
}
