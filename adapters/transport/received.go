package transport

import (
	"context"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// received tracks, per stream, the entries this process actually received
// (XREADGROUP and XCLAIM replies that reached it) and has not acked yet. The
// keep-alive refreshes only these: an entry the server handed to this
// consumer whose reply was lost (a connection cut mid-read) is not kept
// alive, so it is claimed after ClaimIdle like a dead worker's.
type received struct {
	mu sync.Mutex
	m  map[string]map[string]time.Time // stream → entry id → when received
}

func newReceived() *received { return &received{m: map[string]map[string]time.Time{}} }

func (r *received) add(stream, id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m[stream] == nil {
		r.m[stream] = map[string]time.Time{}
	}
	r.m[stream][id] = time.Now()
}

func (r *received) remove(stream string, ids []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, id := range ids {
		delete(r.m[stream], id)
	}
}

// snapshot lists the entries of each stream.
func (r *received) snapshot() map[string][]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string][]string, len(r.m))
	for st, ids := range r.m {
		for id := range ids {
			out[st] = append(out[st], id)
		}
	}
	return out
}

// forget drops entries of stream received before t that are not in kept
// (no longer pending for this consumer: acked elsewhere or claimed away).
func (r *received) forget(stream string, before time.Time, kept map[string]bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for id, at := range r.m[stream] {
		if at.Before(before) && !kept[id] {
			delete(r.m[stream], id)
		}
	}
}

// hook is a go-redis hook that feeds r from the subscriber's commands.
func (r *received) hook() redis.Hook { return receivedHook{r} }

type receivedHook struct{ r *received }

func (receivedHook) DialHook(next redis.DialHook) redis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) { return next(ctx, network, addr) }
}

func (h receivedHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		if err != nil {
			return err
		}
		switch strings.ToLower(cmd.Name()) {
		case "xreadgroup":
			if c, ok := cmd.(*redis.XStreamSliceCmd); ok {
				for _, xs := range c.Val() {
					for _, m := range xs.Messages {
						h.r.add(xs.Stream, m.ID)
					}
				}
			}
		case "xclaim":
			if c, ok := cmd.(*redis.XMessageSliceCmd); ok {
				if stream, ok := arg(cmd, 1); ok {
					for _, m := range c.Val() {
						h.r.add(stream, m.ID)
					}
				}
			}
		case "xack":
			if stream, ok := arg(cmd, 1); ok {
				var ids []string
				for i := 3; i < len(cmd.Args()); i++ {
					if id, ok := arg(cmd, i); ok {
						ids = append(ids, id)
					}
				}
				h.r.remove(stream, ids)
			}
		}
		return nil
	}
}

func (receivedHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

func arg(cmd redis.Cmder, i int) (string, bool) {
	args := cmd.Args()
	if i >= len(args) {
		return "", false
	}
	s, ok := args[i].(string)
	return s, ok
}
