// Package redisbroker carries committed events between Taskwire instances
// over Redis Pub/Sub. Redis is only the fast path: every instance's hub
// repairs gaps from the database and reconciles its rooms with it, so a
// message lost in an outage or a restart is still delivered.
package redisbroker

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"github.com/taskwire/taskwire/realtime"
)

// Broker implements realtime.Broker over Redis Pub/Sub. An instance
// subscribes only to the streams it has sockets for.
type Broker struct {
	logger *slog.Logger
	client *redis.Client
	prefix string
	ps     *redis.PubSub

	out chan realtime.Message // messages to publish, drained by Run

	mu   sync.Mutex // guards subs
	subs map[string]int

	published, received, dropped, reconnects prometheus.Counter
}

var (
	_ realtime.Broker     = (*Broker)(nil)
	_ realtime.Subscriber = (*Broker)(nil)
)

// New connects to Redis at url (redis://[user:pass@]host:port/db) and
// checks that it answers. Channels are named prefix+"p:<id>" (projects) and
// prefix+"u:<id>" (users); API token revocations go to prefix+"tokens",
// which every instance subscribes to for as long as it runs.
func New(ctx context.Context, logger *slog.Logger, client *redis.Client, prefix string, reg prometheus.Registerer) (*Broker, error) {
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := client.Ping(pctx).Err(); err != nil {
		return nil, fmt.Errorf("redis: %w", err)
	}
	counter := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
	}
	b := &Broker{
		logger: logger, client: client, prefix: prefix,
		ps:         client.Subscribe(ctx, prefix+"tokens"),
		out:        make(chan realtime.Message, 65536),
		subs:       map[string]int{},
		published:  counter("taskwire_broker_published_total", "Messages published to Redis."),
		received:   counter("taskwire_broker_received_total", "Messages received from Redis."),
		dropped:    counter("taskwire_broker_publish_dropped_total", "Publishes that could not reach Redis; the rooms repair them from the database."),
		reconnects: counter("taskwire_broker_resubscribes_total", "Times the Redis subscription was (re)established."),
	}
	if reg != nil {
		reg.MustRegister(b.published, b.received, b.dropped, b.reconnects)
	}
	return b, nil
}

// Ping checks Redis, for /readyz.
func (b *Broker) Ping(ctx context.Context) error { return b.client.Ping(ctx).Err() }

func (b *Broker) channel(kind realtime.Kind, id int64) string {
	if kind == realtime.TokenRevoked {
		return b.prefix + "tokens"
	}
	if kind == realtime.UserStream {
		return b.prefix + "u:" + strconv.FormatInt(id, 10)
	}
	return b.prefix + "p:" + strconv.FormatInt(id, 10)
}

// Publish implements realtime.Broker. It never blocks: the message is
// queued for Run to send; if Redis is so far behind that the queue is full,
// the message is dropped and counted — the rooms find the gap and read it
// from the database.
func (b *Broker) Publish(m realtime.Message) {
	select {
	case b.out <- m:
	default:
		b.dropped.Inc()
	}
}

// Subscribe implements realtime.Subscriber: the hub has a room for the
// stream now.
func (b *Broker) Subscribe(kind realtime.Kind, id int64) {
	ch := b.channel(kind, id)
	b.mu.Lock()
	b.subs[ch]++
	first := b.subs[ch] == 1
	b.mu.Unlock()
	if first {
		if err := b.ps.Subscribe(context.Background(), ch); err != nil {
			b.logger.Warn("redis subscribe failed; the reconciler covers the room meanwhile", "channel", ch, "err", err)
		}
	}
}

// Unsubscribe implements realtime.Subscriber: the hub's room is gone.
func (b *Broker) Unsubscribe(kind realtime.Kind, id int64) {
	ch := b.channel(kind, id)
	b.mu.Lock()
	b.subs[ch]--
	last := b.subs[ch] <= 0
	if last {
		delete(b.subs, ch)
	}
	b.mu.Unlock()
	if last {
		if err := b.ps.Unsubscribe(context.Background(), ch); err != nil {
			b.logger.Warn("redis unsubscribe failed", "channel", ch, "err", err)
		}
	}
}

// Run implements realtime.Broker: it publishes queued messages and
// delivers received ones until ctx ends. After each (re)subscription — a
// Redis restart, a dropped connection — it asks the hub to reconcile at
// once, so what was published meanwhile is read from the database.
func (b *Broker) Run(ctx context.Context, deliver func(realtime.Message)) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	wg.Go(func() { b.publishLoop(ctx) })
	in := b.ps.ChannelWithSubscriptions(redis.WithChannelSize(4096), redis.WithChannelHealthCheckInterval(5*time.Second))
	for {
		select {
		case <-ctx.Done():
			return b.ps.Close()
		case msg, ok := <-in:
			if !ok {
				return errors.New("redis: subscription closed")
			}
			switch m := msg.(type) {
			case *redis.Subscription:
				if m.Kind == "subscribe" {
					b.reconnects.Inc()
					deliver(realtime.Message{}) // reconcile now
				}
			case *redis.Message:
				rm, err := decode([]byte(m.Payload))
				if err != nil {
					b.logger.Warn("redis: bad message", "channel", m.Channel, "err", err)
					continue
				}
				b.received.Inc()
				deliver(rm)
			}
		}
	}
}

func (b *Broker) publishLoop(ctx context.Context) {
	away := false // the last publish failed; logged once per outage
	for {
		select {
		case <-ctx.Done():
			return
		case m := <-b.out:
			pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			err := b.client.Publish(pctx, b.channel(m.Kind, m.ID), encode(m)).Err()
			cancel()
			if err != nil {
				// Redis is away: the subscribers' rooms repair from the
				// database when it returns; do not wait for it here.
				if !away {
					b.logger.Warn("redis: publish failed; rooms catch up from the database until it is back", "err", err)
					away = true
				}
				b.dropped.Inc()
				continue
			}
			if away {
				b.logger.Info("redis: publishing again")
				away = false
			}
			b.published.Inc()
		}
	}
}

// encode lays a message out as kind (1 byte), id, seq, revoke (8 bytes
// each, big endian), the origin's length (1 byte) and bytes, the payload.
func encode(m realtime.Message) []byte {
	origin := m.Origin[:min(len(m.Origin), 255)]
	b := make([]byte, 26, 26+len(origin)+len(m.Payload))
	b[0] = byte(m.Kind)
	binary.BigEndian.PutUint64(b[1:], uint64(m.ID))
	binary.BigEndian.PutUint64(b[9:], uint64(m.Seq))
	binary.BigEndian.PutUint64(b[17:], uint64(m.Revoke))
	b[25] = byte(len(origin))
	b = append(b, origin...)
	return append(b, m.Payload...)
}

func decode(b []byte) (realtime.Message, error) {
	if len(b) < 26 || (realtime.Kind(b[0]) != realtime.ProjectStream && realtime.Kind(b[0]) != realtime.UserStream && realtime.Kind(b[0]) != realtime.TokenRevoked) ||
		len(b) < 26+int(b[25]) {
		return realtime.Message{}, errors.New("malformed message")
	}
	n := int(b[25])
	return realtime.Message{
		Kind:    realtime.Kind(b[0]),
		ID:      int64(binary.BigEndian.Uint64(b[1:])),
		Seq:     int64(binary.BigEndian.Uint64(b[9:])),
		Revoke:  int64(binary.BigEndian.Uint64(b[17:])),
		Origin:  string(b[26 : 26+n]),
		Payload: b[26+n:],
	}, nil
}
