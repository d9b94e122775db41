package tracing

import "github.com/ThreeDotsLabs/watermill/message"

// MetadataCarrier lets a propagator read and write a Watermill message's
// metadata, where the bus and the outbox carry a trace's context: in the outbox
// it is stored with the event, so that its handlers and its publication continue
// the trace of the change that wrote it.
type MetadataCarrier message.Metadata

func (c MetadataCarrier) Get(key string) string { return message.Metadata(c).Get(key) }

func (c MetadataCarrier) Set(key, value string) { message.Metadata(c).Set(key, value) }

func (c MetadataCarrier) Keys() []string {
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	return keys
}
