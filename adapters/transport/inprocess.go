package transport

import (
	"github.com/refinery/refinery-worker/pipeline"
)

// InProcess is the default transport: an in-process pub/sub (localPubSub,
// gochannel's semantics at a lower cost per message) with the Work carried
// by reference in the message context (nothing is encoded, nothing survives
// the process).
func InProcess() pipeline.Transport {
	ps := newLocalPubSub()
	return pipeline.Transport{Publisher: ps, Subscriber: ps, InProcess: true}
}
