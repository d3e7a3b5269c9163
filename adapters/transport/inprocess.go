package transport

import (
	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"

	"github.com/refinery/refinery-worker/pipeline"
)

// InProcess is the default transport: Watermill's gochannel with the Work
// carried by reference in the message context (nothing is encoded, nothing
// survives the process).
func InProcess() pipeline.Transport {
	gc := gochannel.NewGoChannel(gochannel.Config{OutputChannelBuffer: 1024, PreserveContext: true}, watermill.NopLogger{})
	return pipeline.Transport{Publisher: gc, Subscriber: gc, InProcess: true}
}
