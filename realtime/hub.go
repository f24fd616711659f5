// Package realtime pushes committed events to WebSocket clients: one room per
// project, every event encoded once and shared by the room's connections,
// each connection pulling from the room at its own pace.
package realtime

import (
	"github.com/prometheus/client_golang/prometheus"

	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Options tune a Hub. Zero fields take the defaults in brackets.
type Options struct {
	// QueueMessages and QueueBytes bound how far a connection may fall
	// behind its room before it is closed with CloseTooSlow [1024, 4 MiB].
	QueueMessages int
	QueueBytes    int
	// WriteTimeout bounds one write to a client [10s].
	WriteTimeout time.Duration
	// PingInterval and PongTimeout keep idle connections honest [25s, 10s].
	PingInterval time.Duration
	PongTimeout  time.Duration
	// HeartbeatInterval is how often a protocol 2 socket is sent a
	// heartbeat naming the seq it has been sent everything up to [20s].
	HeartbeatInterval time.Duration
	// ReadLimit is the largest client frame accepted [4 KiB].
	ReadLimit int64
	// WriteConcurrency is how many socket writes may run at once
	// [4×GOMAXPROCS].
	WriteConcurrency int
	// ReconcileInterval is how often every active room's last delivered
	// seq is compared with the log, so that an event whose publish was lost
	// is still delivered [1s].
	ReconcileInterval time.Duration
	// Instance names this process among several sharing a broker [random].
	Instance string
	// Presence, when set, shares who is connected with the other
	// instances; without it presence is this instance's alone.
	Presence PresenceStore
	// Registerer, when set, receives the hub's metrics.
	Registerer prometheus.Registerer
	// IO is how sockets are written [IOAuto]: see IOAuto, IOURing and
	// IOWritev.
	IO string
	// RingMinWriters is how many sockets' writers must be running at once
	// for IOAuto to send through the ring [ringMinWriters].
	RingMinWriters int
}

// The ways a hub writes to its sockets (Options.IO).
const (
	// IOAuto uses io_uring when the kernel lets this process use it and
	// enough sockets are being written at once (a large room's fan-out),
	// and writev otherwise.
	IOAuto = "auto"
	// IOURing batches the sends of many sockets into few io_uring
	// submissions (Linux), however few are being written; the hub falls back to writev where it is not
	// usable, and Hub.IO reports why — a caller that requires it checks.
	IOURing = "uring"
	// IOWritev writes each socket with its own writev system call.
	IOWritev = "writev"
)

// uringEntries is the size of the hub's ring: the most sends one
// submission carries.
const uringEntries = 256

// ringMinWriters is how many writers must be running at once for IOAuto
// to hand their sends to the ring. Below it, each writer's own writev is
// quicker: the hand-off to the ring and the wait for its batch cost more
// than the system call they save. Measured (BENCHMARKS.md), one room at 20
// events/s: at 1,000 and 5,000 sockets writev had the lower latency, at
// 10,000 the ring (p99 halved); a fan-out as fast as it goes gains from
// the ring at 5,000 already, which WS_IO=uring gives.
const ringMinWriters = 7500

func (o *Options) defaults() {
	if o.IO == "" {
		o.IO = IOAuto
	}
	if o.RingMinWriters <= 0 {
		o.RingMinWriters = ringMinWriters
	}
	if o.QueueMessages <= 0 {
		o.QueueMessages = 1024
	}
	if o.QueueBytes <= 0 {
		o.QueueBytes = 4 << 20
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = 10 * time.Second
	}
	if o.PingInterval <= 0 {
		o.PingInterval = 25 * time.Second
	}
	if o.PongTimeout <= 0 {
		o.PongTimeout = 10 * time.Second
	}
	if o.HeartbeatInterval <= 0 {
		o.HeartbeatInterval = 20 * time.Second
	}
	if o.ReadLimit <= 0 {
		o.ReadLimit = 4 << 10
	}
	if o.ReconcileInterval <= 0 {
		o.ReconcileInterval = time.Second
	}
	if o.WriteConcurrency <= 0 {
		o.WriteConcurrency = 4 * runtime.GOMAXPROCS(0)
	}
	if o.Instance == "" {
		var b [8]byte
		_, _ = rand.Read(b[:])
		o.Instance = hex.EncodeToString(b[:])
	}
}

// Close codes sent to clients; asyncapi.yaml documents what a client should
// do for each. They are untyped so that any WebSocket library's status type
// compares with them.
const (
	CloseNormal        = 1000 // the client closed
	CloseGoingAway     = 1001 // server shutting down; reconnect with since
	CloseProtocol      = 1002 // malformed frames
	ClosePolicy        = 1008 // protocol violation (a binary message)
	CloseTooBig        = 1009 // a message over ReadLimit
	CloseInternal      = 1011 // server error (a failed replay); reconnect with since
	CloseTokenExpired  = 4401 // reconnect with a new token
	CloseAccessRevoked = 4403 // removed or project deleted; do not reconnect
	CloseTooSlow       = 4408 // fell behind; reconnect with since
)

// Hub owns the rooms and every connection in them.
type Hub struct {
	logger *slog.Logger
	source Source
	broker Broker
	opts   Options

	writeSlots chan struct{} // one value per socket write under way; see conn.writeLocked
	tokens     *tokenSockets // sockets opened with API tokens, for revocation
	ring       *uring        // nil: every write is a writev
	ringErr    error         // why there is no ring, when one was wanted
	ringOnce   sync.Once     // closes ring
	fallbacks  atomic.Uint64 // ring sends finished on the writev path
	repairs    prometheus.Counter
	sockets    prometheus.Gauge

	// writers counts the sockets whose writer is running: how many sends
	// a moment can batch. With IOAuto the ring is used only from
	// Options.RingMinWriters on; countWriters: only then is it kept.
	writers      atomic.Int64
	countWriters bool

	marksMu    sync.Mutex // guards marks
	marks      []presenceMark
	marksReady chan struct{}
	// presenceDirty: the shared store may have lost this instance's marks
	// (a failed Mark, a broker reconnect); presenceLoop records them again.
	presenceDirty atomic.Bool

	// life is the context of the goroutines the hub starts on its own —
	// gap repairs, a reconcile after a broker reconnect, presence writes —
	// and ends with Run's; tasks counts them so that Run can wait for them.
	life    context.Context
	endLife context.CancelFunc
	lifeMu  sync.Mutex // guards ended, and tasks.Add against Run's Wait
	ended   bool       // Run is ending: spawn starts nothing more
	tasks   sync.WaitGroup

	mu      sync.Mutex // guards rooms and closing, and conns.Add against Shutdown's Wait
	rooms   map[topic]*room
	closing bool
	// conns counts the connections Join has taken and not yet finished:
	// Add under mu while closing is false, Done when conn.finish is over.
	// Once closing is set no Add can happen, so Shutdown may Wait.
	conns sync.WaitGroup
}

// NewHub returns a hub fed by broker and repairing gaps from source.
func NewHub(logger *slog.Logger, source Source, broker Broker, opts Options) *Hub {
	opts.defaults()
	h := &Hub{logger: logger, source: source, broker: broker, opts: opts, rooms: map[topic]*room{},
		writeSlots: make(chan struct{}, opts.WriteConcurrency),
		tokens:     newTokenSockets(),
		marksReady: make(chan struct{}, 1),
		repairs: prometheus.NewCounter(prometheus.CounterOpts{Name: "taskwire_realtime_gap_repairs_total",
			Help: "Times a room read events it had not received from the broker (a gap, or the reconciler finding it behind) from the database."}),
		sockets: prometheus.NewGauge(prometheus.GaugeOpts{Name: "taskwire_realtime_sockets", Help: "Open WebSockets on this instance."}),
	}
	h.life, h.endLife = context.WithCancel(context.Background())
	if opts.IO != IOWritev {
		h.ring, h.ringErr = newURing(uringEntries)
		if h.ring != nil {
			h.ring.start()
		}
		h.countWriters = h.ring != nil && opts.IO == IOAuto
	}
	if opts.Registerer != nil {
		opts.Registerer.MustRegister(h.repairs, h.sockets,
			prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "taskwire_realtime_uring_submissions_total",
				Help: "io_uring submissions of socket sends (each carries the sends of every writer ready at that moment)."},
				func() float64 { return float64(h.IOStats().Submissions) }),
			prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "taskwire_realtime_uring_sends_total",
				Help: "Socket sends submitted through io_uring."},
				func() float64 { return float64(h.IOStats().Sends) }),
			prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "taskwire_realtime_uring_fallbacks_total",
				Help: "io_uring socket sends the kernel took only in part or not at all (a full socket), finished on the writev path."},
				func() float64 { return float64(h.IOStats().Fallbacks) }))
	}
	return h
}

// IO reports how the hub writes to sockets — IOURing or IOWritev — and,
// when it is IOWritev though Options.IO asked for io_uring (IOAuto or
// IOURing), why io_uring is not usable.
func (h *Hub) IO() (string, error) {
	if h.ring != nil {
		return IOURing, nil
	}
	return IOWritev, h.ringErr
}

// IOStats counts the hub's io_uring work.
type IOStats struct {
	Submissions uint64 // io_uring_enter calls that submitted sends
	Sends       uint64 // sends submitted
	Fallbacks   uint64 // sends finished on the writev path (short or EAGAIN)
}

// IOStats returns the hub's io_uring counters; all zero on the writev path.
func (h *Hub) IOStats() IOStats {
	s := IOStats{Fallbacks: h.fallbacks.Load()}
	if h.ring != nil {
		s.Submissions, s.Sends = h.ring.stats()
	}
	return s
}

// closeRing stops the ring's goroutine and releases the ring; writes
// after it go the writev way.
func (h *Hub) closeRing() {
	if h.ring != nil {
		h.ringOnce.Do(h.ring.close)
	}
}

// Run delivers broker events to rooms, reconciles the rooms with the log
// every ReconcileInterval and, with a shared presence store, refreshes
// this instance's presence there, until ctx ends. It returns once every
// goroutine the hub started on its own has returned; it is called once.
func (h *Hub) Run(ctx context.Context) error {
	stop := context.AfterFunc(ctx, h.endLife)
	defer stop()
	var wg sync.WaitGroup
	wg.Go(func() { h.reconcileLoop(ctx) })
	if h.opts.Presence != nil {
		wg.Go(func() { h.presenceLoop(ctx) })
		wg.Go(func() { h.markLoop(ctx) })
	}
	err := h.broker.Run(ctx, h.dispatch)
	wg.Wait()
	h.lifeMu.Lock()
	h.ended = true
	h.lifeMu.Unlock()
	h.endLife()
	h.tasks.Wait()
	return err
}

// spawn runs f in a goroutine owned by Run: f's ctx ends with Run's, and
// Run returns only after f has. It reports false, starting nothing, once
// Run is ending.
func (h *Hub) spawn(f func(ctx context.Context)) bool {
	h.lifeMu.Lock()
	defer h.lifeMu.Unlock()
	if h.ended {
		return false
	}
	h.tasks.Go(func() { f(h.life) })
	return true
}

func (h *Hub) reconcileLoop(ctx context.Context) {
	t := time.NewTicker(h.opts.ReconcileInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := h.reconcile(ctx); err != nil && ctx.Err() == nil {
			h.logger.Error("realtime: reconcile failed", "err", err)
		}
	}
}

// reconcile reads the newest seq of every active room's project in one
// query and has each room that is behind fetch what it missed. A room whose
// project is gone fetches too: its last event (project_deleted) may be the
// one it missed. It also closes the sockets of API tokens that no longer
// exist, in case their revocation's message was lost.
func (h *Hub) reconcile(ctx context.Context) error {
	return errors.Join(h.reconcileRooms(ctx), h.checkTokens(ctx))
}

func (h *Hub) reconcileRooms(ctx context.Context) error {
	for _, kind := range []Kind{ProjectStream, UserStream} {
		h.mu.Lock()
		var rooms []*room
		var ids []int64
		for t, r := range h.rooms {
			if t.kind == kind {
				rooms = append(rooms, r)
				ids = append(ids, t.id)
			}
		}
		h.mu.Unlock()
		if len(rooms) == 0 {
			continue
		}
		last, err := h.lastSeqs(ctx, kind, ids)
		if err != nil {
			return err
		}
		for _, r := range rooms {
			seq, ok := last[r.topic.id]
			if !ok {
				seq = -1 // deleted: look for anything after head
			}
			r.catchUp(seq)
		}
	}
	return nil
}

func (h *Hub) dispatch(e Message) {
	if e.Kind == TokenRevoked {
		h.tokens.revoke(e.ID, time.Now())
		return
	}
	if e.Seq == 0 && e.Kind != 0 {
		// Presence from another instance; ours went out directly.
		if e.Origin == h.opts.Instance {
			return
		}
		h.mu.Lock()
		r := h.rooms[topic{e.Kind, e.ID}]
		h.mu.Unlock()
		if r != nil {
			r.mu.Lock()
			r.ephemeral(textFrame(e.Payload), nil)
			r.mu.Unlock()
		}
		return
	}
	if e.Kind == 0 {
		// The broker (re)connected: whatever was published meanwhile is
		// in the database. Redis may also have lost the shared presence.
		h.presenceDirty.Store(true)
		h.spawn(func(ctx context.Context) {
			if err := h.reconcile(ctx); err != nil && ctx.Err() == nil {
				h.logger.Error("realtime: reconcile failed", "err", err)
			}
		})
		return
	}
	h.mu.Lock()
	r := h.rooms[topic{e.Kind, e.ID}]
	h.mu.Unlock()
	if r != nil {
		r.offer(e)
	}
}

// ErrClosing is returned by Join once Shutdown has begun.
var ErrClosing = errors.New("realtime: hub is shutting down")

// room returns the project's room, creating and initializing it if needed,
// and counts one more user of it and one more connection of the hub. On
// success the caller owns both: the connection's finish releases them.
func (h *Hub) room(ctx context.Context, t topic) (*room, error) {
	h.mu.Lock()
	if h.closing {
		h.mu.Unlock()
		return nil, ErrClosing
	}
	r := h.rooms[t]
	created := r == nil
	if created {
		r = newRoom(h, t)
		h.rooms[t] = r
	}
	r.users++
	// Under mu with closing false: Shutdown's Wait cannot have begun.
	h.conns.Add(1)
	h.mu.Unlock()
	if s, ok := h.broker.(Subscriber); ok && created {
		// Subscribe before init reads the stream's seq: anything published
		// after that read reaches the room.
		s.Subscribe(t.kind, t.id)
	}
	if err := r.init(ctx); err != nil {
		h.release(r)
		h.conns.Done()
		return nil, err
	}
	return r, nil
}

func (h *Hub) isClosing() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.closing
}

// release drops one user of r and forgets the room when it has none.
func (h *Hub) release(r *room) {
	h.mu.Lock()
	r.users--
	gone := r.users == 0 && h.rooms[r.topic] == r
	if gone {
		delete(h.rooms, r.topic)
	}
	h.mu.Unlock()
	if s, ok := h.broker.(Subscriber); ok && gone {
		s.Unsubscribe(r.topic.kind, r.topic.id)
	}
}

// Shutdown closes every connection with 1001 after it has been sent the
// events its room has received, and waits until every connection has
// written its close frame and let go of its socket, or ctx ends: a caller
// may exit once it returns nil. When ctx ends first, the connections still
// writing are cut off without waiting for their clients, and ctx's error is
// returned. Join refuses new connections from the start.
func (h *Hub) Shutdown(ctx context.Context) error {
	h.mu.Lock()
	h.closing = true
	rooms := make([]*room, 0, len(h.rooms))
	for _, r := range h.rooms {
		rooms = append(rooms, r)
	}
	h.mu.Unlock()
	for _, r := range rooms {
		r.closeAll(CloseGoingAway, "server shutting down", true)
	}
	done := make(chan struct{})
	go func() { h.conns.Wait(); close(done) }()
	select {
	case <-done:
		h.closeRing()
		return nil
	case <-ctx.Done():
		for _, r := range rooms {
			r.abortAll()
		}
		// Writers still running finish on the writev path.
		h.closeRing()
		return ctx.Err()
	}
}
