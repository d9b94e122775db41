package bus

import (
	"context"
	"fmt"

	"github.com/ThreeDotsLabs/watermill/components/cqrs"
	"github.com/ThreeDotsLabs/watermill/components/requestreply"
	"github.com/ThreeDotsLabs/watermill/message"
)

// nameKey is the metadata key of a command's operation name, the one
// cqrs.JSONMarshaler uses: the command processor compares it with its handler's.
const nameKey = "name"

// command is what a Sender hands to the command bus: the typed message, the name
// of its operation, worked out once per Sender rather than once per message, and
// the operation id its sender waits for the reply under.
type command[M any] struct {
	op          string
	operationID string
	msg         M
}

// outgoing is a *command[M] of any M: all the codec needs to know of it.
type outgoing interface {
	operation() string
	waitingAs() string
	// assignTo copies the message into dst, the handler's fresh *M, and reports
	// whether dst was one.
	assignTo(dst any) bool
}

func (c *command[M]) operation() string { return c.op }

func (c *command[M]) waitingAs() string { return c.operationID }

func (c *command[M]) assignTo(dst any) bool {
	p, ok := dst.(*M)
	if ok {
		*p = c.msg
	}
	return ok
}

// codec is the bus's cqrs.CommandEventMarshaler. A command never leaves the
// process, so turning it into bytes and back would buy nothing but CPU: the typed
// value rides in the message's context instead, which the bus's pub/sub hands to
// the subscriber as it is. The message keeps what Watermill reads: the operation's
// name for the processor, and the operation id for requestreply, which is also the
// message's id, unique on the bus as it is.
//
// A command is bound to its message by that id: a message that comes without its
// own command (one published on the topic by other code, even from within a
// handler whose context carries the command it is handling) fails to unmarshal,
// and its sender is answered with that error. No handler ever runs on a zero value,
// and no Send succeeds on a message that carried nothing.
type codec struct{}

var _ cqrs.CommandEventMarshaler = codec{}

// commandKey is the context key of a message's command.
type commandKey struct{}

// Marshal makes the message for a command; attach then gives it the command.
func (codec) Marshal(v any) (*message.Message, error) {
	out, ok := v.(outgoing)
	if !ok {
		return nil, fmt.Errorf("bus: a %T was not sent by a Sender", v)
	}
	msg := message.NewMessage(out.waitingAs(), nil)
	msg.Metadata.Set(nameKey, out.operation())
	msg.Metadata.Set(requestreply.OperationIDMetadataKey, out.waitingAs())
	return msg, nil
}

// attach puts the command in its message's context. It runs as the command bus's
// OnSend: the command bus sets the sender's context on the message after Marshal
// (Watermill v1.5.1, components/cqrs/command_bus.go:154), which would drop a
// context set there.
func (codec) attach(msg *message.Message, v any) error {
	out, ok := v.(outgoing)
	if !ok {
		return fmt.Errorf("bus: a %T was not sent by a Sender", v)
	}
	msg.SetContext(context.WithValue(msg.Context(), commandKey{}, out))
	return nil
}

// Unmarshal hands the message's command to v, the handler's *M.
func (codec) Unmarshal(msg *message.Message, v any) error {
	out, ok := msg.Context().Value(commandKey{}).(outgoing)
	if !ok || out.waitingAs() != msg.UUID {
		return fmt.Errorf("bus: message %s carries no command", msg.UUID)
	}
	if !out.assignTo(v) {
		return fmt.Errorf("bus: message %s carries a %s, not a %s",
			msg.UUID, out.operation(), cqrs.FullyQualifiedStructName(v))
	}
	return nil
}

// Name is the operation's name: the name of the message's type, e.g.
// "commands.Signup". The processor asks it of a handler's fresh *M, the command
// bus of a Sender's command.
func (codec) Name(v any) string {
	if out, ok := v.(outgoing); ok {
		return out.operation()
	}
	return cqrs.FullyQualifiedStructName(v)
}

func (codec) NameFromMessage(msg *message.Message) string {
	return msg.Metadata.Get(nameKey)
}
