package realtime

import (
	"context"
	"sync"

	"github.com/taskwire/taskwire"
)

// Kind is the kind of stream a message belongs to.
type Kind uint8

// Stream kinds: a project's events, and a user's notifications.
// TokenRevoked is not a stream: its messages (ID the API token) ask every
// instance to close the sockets opened with a revoked token, and every
// instance receives them.
const (
	ProjectStream Kind = iota + 1
	UserStream
	TokenRevoked
)

// Message is one entry of a stream as the broker carries it: the stream
// (kind and id), its seq in that stream, its JSON, and whose access it ends
// (project streams: -1 everyone, a user id, or 0). A message with seq 0 is
// ephemeral (presence): not in the log, sent to the room's sockets as it
// comes; Origin names the instance that sent it, which has delivered it to
// its own sockets already.
type Message struct {
	Kind    Kind
	ID      int64
	Seq     int64
	Payload []byte
	Revoke  int64
	Origin  string
}

// EventMessage encodes a project event.
func EventMessage(e taskwire.Event) Message {
	return Message{Kind: ProjectStream, ID: e.ProjectID, Seq: e.Seq, Payload: e.AppendJSON(make([]byte, 0, 128+len(e.Data))), Revoke: revokes(e)}
}

// NotificationMessage encodes a notification as
// {"event":"notification","data":{...},"seq":N}.
func NotificationMessage(n taskwire.Notification) Message {
	return Message{Kind: UserStream, ID: n.UserID, Seq: n.Seq, Payload: notificationJSON(n)}
}

// Broker carries committed messages to the hub of every instance.
type Broker interface {
	// Publish hands a message over without blocking on consumers.
	Publish(m Message)
	// Run calls deliver with published messages, in the order they were
	// published on this instance, until ctx ends. A zero Message asks the
	// hub to reconcile its rooms with the database now (after a broker
	// outage).
	Run(ctx context.Context, deliver func(Message)) error
}

// Subscriber is a Broker that carries only the streams an instance asks
// for: the hub subscribes when a room opens and unsubscribes when it
// closes.
type Subscriber interface {
	Subscribe(kind Kind, id int64)
	Unsubscribe(kind Kind, id int64)
}

// Publisher adapts a Broker to taskwire.Publisher.
type Publisher struct{ Broker Broker }

var _ taskwire.Publisher = Publisher{}

// Publish implements taskwire.Publisher.
func (p Publisher) Publish(e taskwire.Event) { p.Broker.Publish(EventMessage(e)) }

// PublishNotification implements taskwire.Publisher.
func (p Publisher) PublishNotification(n taskwire.Notification) {
	p.Broker.Publish(NotificationMessage(n))
}

// PublishTokenRevoked implements taskwire.Publisher.
func (p Publisher) PublishTokenRevoked(tokenID int64) {
	p.Broker.Publish(Message{Kind: TokenRevoked, ID: tokenID})
}

// MemoryBroker is the single-instance broker: an unbounded in-process
// queue. Publish never blocks and never drops; the queue only grows while
// the hub is slower than the writers, which dispatch never is for long.
type MemoryBroker struct {
	mu     sync.Mutex // guards queue
	queue  []Message
	signal chan struct{} // has a value when queue may be non-empty
}

// NewMemoryBroker returns an empty in-process broker.
func NewMemoryBroker() *MemoryBroker {
	return &MemoryBroker{signal: make(chan struct{}, 1)}
}

// Publish implements Broker.
func (b *MemoryBroker) Publish(m Message) {
	b.mu.Lock()
	b.queue = append(b.queue, m)
	b.mu.Unlock()
	select {
	case b.signal <- struct{}{}:
	default:
	}
}

// Run implements Broker.
func (b *MemoryBroker) Run(ctx context.Context, deliver func(Message)) error {
	var batch []Message
	for {
		select {
		case <-b.signal:
		case <-ctx.Done():
			return nil
		}
		b.mu.Lock()
		batch, b.queue = b.queue, batch[:0]
		b.mu.Unlock()
		for i, m := range batch {
			deliver(m)
			batch[i] = Message{}
		}
	}
}
