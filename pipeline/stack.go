package pipeline

import "github.com/ThreeDotsLabs/watermill/message"

// stackReserve is the stack a stage handler or a build goroutine may need
// (the deepest, a JSON decode under a handler under Watermill's middleware,
// uses a few KB more than 8 KB); with what the caller already uses, the
// goroutine ends up with a 16 KB stack, the largest size the runtime still
// hands out from its per-P cache.
const stackReserve = 12 << 10

// ReserveStack grows the calling goroutine's stack, at once and near its
// top, to what a stage will need.
//
// Watermill runs each message on a new goroutine, which starts with a small
// stack; as a stage goes deeper (JSON, the manifest, the job log) the
// runtime doubles the stack, copying it and adjusting every frame on it,
// several times per message: pprof showed ~10 % of the worker's CPU in
// runtime.copystack. The runtime sizes a growth for the frame that needs
// it, so one call with a large frame while the stack is still shallow makes
// one cheap copy of a few frames instead of several deep ones. A goroutine
// whose stack is already big enough pays only for clearing the frame.
//
//go:noinline
func ReserveStack(seed int) byte {
	var frame [stackReserve]byte
	frame[seed%len(frame)] = byte(seed)
	return frame[(seed/2)%len(frame)]
}

// reserveStackMiddleware reserves the stack before anything else runs on a
// message's goroutine.
func reserveStackMiddleware(h message.HandlerFunc) message.HandlerFunc {
	return func(msg *message.Message) ([]*message.Message, error) {
		ReserveStack(len(msg.UUID))
		return h(msg)
	}
}
