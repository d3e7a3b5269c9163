package pipeline

import "github.com/ThreeDotsLabs/watermill/message"

// stackReserve is what a stage handler or a build goroutine is given up
// front: with what the caller already uses, the goroutine ends up with a
// 16 KB stack, the largest size the runtime still hands out from its per-P
// cache. With it, pprof of BenchmarkSixStages shows no stack growth left
// under the stages (runtime.copystack went from ~10 % to ~3 % of the CPU,
// nearly all of it the one growth here).
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
func ReserveStack(seed uint) byte {
	var frame [stackReserve]byte
	frame[seed%stackReserve] = byte(seed)
	return frame[(seed/2)%stackReserve]
}

// reserveStackMiddleware reserves the stack before anything else runs on a
// message's goroutine.
func reserveStackMiddleware(h message.HandlerFunc) message.HandlerFunc {
	return func(msg *message.Message) ([]*message.Message, error) {
		ReserveStack(uint(len(msg.UUID)))
		return h(msg)
	}
}
