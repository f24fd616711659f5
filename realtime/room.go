package realtime

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"time"

	"github.com/taskwire/taskwire"
)

// frame is one event encoded as a WebSocket text frame, shared by every
// connection of a room.
type frame struct {
	seq  int64
	data []byte
	// revoke names the user whose access this event ends: -1 for everyone
	// (project_deleted), 0 for nobody.
	revoke int64
	// seed: one of the seed's event types, which protocol 1 sockets are sent.
	seed bool
	// end is the room's cumulative byte count through this frame.
	end int64
}

// room holds a project's recent events in order, without gaps. Connections
// pull from it; none is ever pushed to, so a slow one slows nobody else.
type room struct {
	hub   *Hub
	topic topic
	users int // guarded by hub.mu: joins not yet released

	initMu sync.Mutex // serializes init's database read

	// mu guards the fields below. Writers of many sockets read the ring at
	// once, so reads share it; c.eph is only touched by c's own writer
	// under the read lock, and by the room under the write lock.
	mu      sync.RWMutex
	ready   bool              // head has been read from the log
	base    int64             // head when the room became ready; older frames are not in ring
	head    int64             // the newest seq appended; every seq up to it was appended in order
	bytes   int64             // cumulative size of appended frames
	ring    []frame           // recent frames; seq s lives at ring[s % len(ring)]
	pending map[int64]Message // messages ahead of head, waiting for the gap to fill
	want    int64             // the log is known to reach this seq; repair until head does
	probe   bool              // repair once even without a known target (project deleted)
	filling bool              // a gap repair is running
	conns   map[*conn]struct{}
	present map[int64]*presence // users with an open socket here
}

func newRoom(h *Hub, t topic) *room {
	return &room{
		hub:     h,
		topic:   t,
		ring:    make([]frame, h.opts.QueueMessages+1),
		pending: map[int64]Message{},
		conns:   map[*conn]struct{}{},
		present: map[int64]*presence{},
	}
}

// init reads the project's newest seq the first time the room is used.
// Events dispatched meanwhile wait in pending.
func (r *room) init(ctx context.Context) error {
	r.initMu.Lock()
	defer r.initMu.Unlock()
	r.mu.Lock()
	ready := r.ready
	r.mu.Unlock()
	if ready {
		return nil
	}
	last, err := r.hub.lastSeq(ctx, r.topic)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.head, r.base, r.ready = last, last, true
	r.advance()
	return nil
}

// offer takes an event from the broker: in order it is appended, a
// duplicate is ignored, ahead of order it waits while the gap is repaired
// from the log.
func (r *room) offer(e Message) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.ready || e.Seq > r.head+1 {
		if e.Seq > r.head {
			r.pending[e.Seq] = e
		}
		if r.ready {
			r.repair()
		}
		return
	}
	if e.Seq <= r.head {
		return
	}
	r.append(e)
	r.advance()
}

// catchUp is the reconciler's report that the log reaches last (-1: the
// project is gone, so its final events may be missing). A room that is
// behind repairs from the log.
func (r *room) catchUp(last int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.ready {
		return
	}
	switch {
	case last < 0:
		r.probe = true
	case last > r.head:
		r.want = max(r.want, last)
	default:
		return
	}
	r.repair()
}

// behind reports whether the room knows of events it has not appended.
// r.mu must be held.
func (r *room) behind() bool {
	return len(r.pending) > 0 || r.want > r.head || r.probe
}

// advance appends pending events that are now in order and starts a repair
// if a gap remains. r.mu must be held.
func (r *room) advance() {
	for {
		e, ok := r.pending[r.head+1]
		if !ok {
			break
		}
		delete(r.pending, e.Seq)
		r.append(e)
	}
	for seq := range r.pending {
		if seq <= r.head {
			delete(r.pending, seq)
		}
	}
	if r.behind() {
		r.repair()
	}
}

// repair reads the events after head from the log, unless a repair is
// already running; advance starts another while the room is still behind.
// r.mu must be held.
func (r *room) repair() {
	if r.filling || !r.behind() {
		return
	}
	r.filling = true
	r.probe = false
	r.hub.repairs.Inc()
	from := r.head
	if !r.hub.spawn(func(ctx context.Context) { r.fill(ctx, from) }) {
		r.filling = false // the hub is stopping
	}
}

// fill is a repair's goroutine: it reads the events after from until the
// log answers, retrying with backoff, or ctx (the hub's life) ends.
func (r *room) fill(ctx context.Context, from int64) {
	backoff := 10 * time.Millisecond
	for {
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		events, err := r.hub.replay(rctx, r.topic, from, 1000)
		cancel()
		var gone *taskwire.GoneError
		switch {
		case errors.As(err, &gone):
			r.skipTo(gone)
			return
		case err == nil:
			r.mu.Lock()
			for _, e := range events {
				if e.Seq == r.head+1 {
					r.append(e)
				}
			}
			if len(events) == 0 {
				// The log has nothing after head: drop a target it cannot
				// reach until the next reconcile says otherwise.
				r.want = r.head
			}
			r.filling = false
			r.advance()
			r.mu.Unlock()
			return
		case ctx.Err() == nil:
			r.hub.logger.Error("realtime: gap repair failed; retrying", "stream", r.topic.id, "kind", r.topic.kind, "after_seq", from, "err", err)
		}
		select {
		case <-time.After(backoff):
			backoff = min(2*backoff, 2*time.Second)
		case <-ctx.Done():
			r.mu.Lock()
			r.filling = false
			r.mu.Unlock()
			return
		}
	}
}

// skipTo gives up on events the log no longer retains. The room fell
// behind the retained log (it would take a very long outage): its sockets
// cannot be given what they missed, so they are told to resume, which
// answers resync_required.
func (r *room) skipTo(gone *taskwire.GoneError) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.hub.logger.Error("realtime: room fell behind the retained log", "stream", r.topic.id, "kind", r.topic.kind, "head", r.head, "oldest", gone.OldestSeq)
	for c := range r.conns {
		c.stop(CloseTooSlow, "missed events are no longer retained; reconnect with since", false)
	}
	r.head = max(r.head, gone.OldestSeq-1)
	r.filling = false
	r.advance()
}

// append adds the next event and wakes the connections. r.mu must be held.
func (r *room) append(e Message) {
	data := textFrame(e.Payload)
	r.bytes += int64(len(data))
	r.head = e.Seq
	r.ring[e.Seq%int64(len(r.ring))] = frame{seq: e.Seq, data: data, revoke: e.Revoke, end: r.bytes,
		seed: r.topic.kind == ProjectStream && seedEvent(e.Payload)}
	r.deliver()
}

// deliver wakes every connection's writer, and closes live connections that
// have fallen further behind than their queue allows. r.mu must be held.
func (r *room) deliver() {
	maxMsgs, maxBytes := int64(r.hub.opts.QueueMessages), int64(r.hub.opts.QueueBytes)
	for c := range r.conns {
		c.wake()
		if c.replaying.Load() {
			continue
		}
		cur := c.cursor.Load()
		lag := r.head - cur
		if lag <= 0 {
			continue
		}
		over := lag > maxMsgs
		if !over && cur > r.oldest() {
			over = r.bytes-r.ring[cur%int64(len(r.ring))].end > maxBytes
		}
		if over {
			c.stop(CloseTooSlow, "client too slow; reconnect with since", false)
		}
	}
}

// oldest returns the seq before the oldest frame in the ring. r.mu must be held.
func (r *room) oldest() int64 {
	return max(r.base, r.head-int64(len(r.ring))+1)
}

// next returns the connection's pending ephemeral messages and up to n
// frames after its cursor, or replay=true when the cursor is older than the
// ring or than c.fromLog.
func (r *room) next(c *conn, n int, buf []frame) (eph [][]byte, frames []frame, replay bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	eph, c.eph = c.eph, nil
	cursor := c.cursor.Load()
	if cursor >= r.head {
		return eph, buf[:0], false
	}
	if cursor < r.oldest() || cursor < c.fromLog {
		return eph, buf[:0], true
	}
	frames = buf[:0]
	for s := cursor + 1; s <= r.head && len(frames) < n; s++ {
		frames = append(frames, r.ring[s%int64(len(r.ring))])
	}
	return eph, frames, false
}

func (r *room) headSeq() int64 {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.head
}

// add puts c in the room; its user's first socket announces presence.
func (r *room) add(c *conn) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.conns[c] = struct{}{}
	r.hub.sockets.Inc()
	if r.topic.kind != ProjectStream {
		return
	}
	p := r.present[c.userID]
	if p == nil {
		p = &presence{username: c.username}
		r.present[c.userID] = p
	}
	p.conns++
	if p.conns == 1 {
		// Everyone else hears of it; the new socket itself is sent nothing
		// on connect, as the seed's clients expect.
		r.hub.markPresence(r, c, 1, c)
	}
}

// announce sends a presence message to this room's sockets but except, and
// through the broker to the other instances'. r.mu must be held.
func (r *room) announce(payload []byte, except *conn) {
	r.ephemeral(textFrame(payload), except)
	h := r.hub
	h.broker.Publish(Message{Kind: r.topic.kind, ID: r.topic.id, Payload: payload, Origin: h.opts.Instance})
	h.presenceChanged(r)
}

// remove takes c out of the room; its user's last socket announces leaving.
func (r *room) remove(c *conn) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.conns, c)
	r.hub.sockets.Dec()
	if p := r.present[c.userID]; p != nil {
		p.conns--
		if p.conns == 0 {
			delete(r.present, c.userID)
			r.hub.markPresence(r, c, 0, nil)
		}
	}
}

// ephemeral queues a message that is not part of the log (presence) for
// every protocol 2 connection but except. A connection with too many queued
// is too slow: it is closed like one that falls behind the log. r.mu must
// be held.
func (r *room) ephemeral(msg []byte, except *conn) {
	for c := range r.conns {
		if c == except || !c.v2 {
			continue
		}
		if len(c.eph) >= maxEphemeral {
			c.stop(CloseTooSlow, "client too slow; reconnect with since", false)
			continue
		}
		c.eph = append(c.eph, msg)
		c.wake()
	}
}

// closeAll stops every connection of the room.
func (r *room) closeAll(code int, reason string, flush bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for c := range r.conns {
		c.stop(code, reason, flush)
	}
}

// abortAll cuts off every connection of the room, flushing or not.
func (r *room) abortAll() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for c := range r.conns {
		c.abort()
	}
}

// revokes reports whose access an event ends.
func revokes(e taskwire.Event) int64 {
	switch e.Type {
	case taskwire.EventProjectDeleted:
		return -1
	case taskwire.EventMemberRemoved:
		var d struct {
			UserID int64 `json:"user_id"`
		}
		if json.Unmarshal(e.Data, &d) == nil {
			return d.UserID
		}
	}
	return 0
}
