package realtime

import (
	"context"
	"sync"

	"github.com/taskwire/taskwire"
)

// Broker carries committed events to the hub of every instance.
type Broker interface {
	// Publish hands an event over without blocking on consumers.
	Publish(e taskwire.Event)
	// Run calls deliver with published events, in the order they were
	// published on this instance, until ctx ends.
	Run(ctx context.Context, deliver func(taskwire.Event)) error
}

// MemoryBroker is the single-instance broker: an unbounded in-process
// queue. Publish never blocks and never drops; the queue only grows while
// the hub is slower than the writers, which dispatch never is for long.
type MemoryBroker struct {
	mu     sync.Mutex // guards queue
	queue  []taskwire.Event
	signal chan struct{} // has a value when queue may be non-empty
}

// NewMemoryBroker returns an empty in-process broker.
func NewMemoryBroker() *MemoryBroker {
	return &MemoryBroker{signal: make(chan struct{}, 1)}
}

// Publish implements Broker.
func (b *MemoryBroker) Publish(e taskwire.Event) {
	b.mu.Lock()
	b.queue = append(b.queue, e)
	b.mu.Unlock()
	select {
	case b.signal <- struct{}{}:
	default:
	}
}

// Run implements Broker.
func (b *MemoryBroker) Run(ctx context.Context, deliver func(taskwire.Event)) error {
	var batch []taskwire.Event
	for {
		select {
		case <-b.signal:
		case <-ctx.Done():
			return nil
		}
		b.mu.Lock()
		batch, b.queue = b.queue, batch[:0]
		b.mu.Unlock()
		for i, e := range batch {
			deliver(e)
			batch[i] = taskwire.Event{}
		}
	}
}
