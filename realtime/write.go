package realtime

import (
	"errors"
	"net"
	"sync"
	"time"

	"github.com/taskwire/taskwire"
	"golang.org/x/sys/unix"
)

// write is the writer: it sends what is due, in seq order, and returns
// when there is nothing left (the socket stays open) or after closing it.
func (c *conn) write() {
	if h := c.room.hub; h.countWriters {
		defer h.writers.Add(-1)
	}
	sc := scratchPool.Get().(*scratch)
	defer scratchPool.Put(sc)
	for {
		err := c.step(sc)
		if err == nil {
			continue
		}
		if !errors.Is(err, errIdle) {
			c.finish()
		}
		return
	}
}

// scratch is a writer's reusable memory: a writer runs for every event on
// every socket, so it must not allocate.
type scratch struct {
	frames []frame
	bufs   net.Buffers
	ctrl   [][]byte
}

var scratchPool = sync.Pool{New: func() any {
	return &scratch{frames: make([]frame, 0, 32), bufs: make(net.Buffers, 0, 40), ctrl: make([][]byte, 0, 2)}
}}

// Writer outcomes other than "keep going".
var (
	errIdle   = errors.New("realtime: writer idle")   // caught up, socket open
	errClosed = errors.New("realtime: socket closed") // close now
)

// step does one round of the writer's work: nil to go on, errIdle when
// caught up, errClosed when the socket is to be closed.
func (c *conn) step(sc *scratch) error {
	if c.isStopped() && !c.flush.Load() {
		return errClosed
	}
	c.mu.Lock()
	ping, beat := c.pingDue, c.beatDue
	c.pingDue, c.beatDue, c.again = false, false, false
	c.mu.Unlock()
	// While a pong is awaited no new ping goes out: re-arming the pong
	// timer with every ping would keep a silent client forever when the
	// pong timeout is longer than the ping interval.
	if ping && !c.awaitPong.Load() {
		c.awaitPong.Store(true)
		c.pongTimeout.Reset(c.room.hub.opts.PongTimeout)
		if err := c.send(pingFrame); err != nil {
			c.vanish()
			return errClosed
		}
	}
	if ping {
		c.ping.Reset(c.room.hub.opts.PingInterval)
	}
	eph, fs, replay := c.room.next(c, cap(sc.frames), sc.frames[:0])
	sc.frames = fs
	if replay || (beat && c.catchUp >= 0) {
		// A heartbeat waits for caught_up, which waits for the replay.
		c.postpone(beat)
	}
	if replay {
		if err := c.sendAll(sc, eph, nil, nil); err != nil {
			c.vanish()
			return errClosed
		}
		return c.replay()
	}
	c.replaying.Store(false)
	if c.catchUp >= 0 {
		// caught_up goes out as soon as the stream's seq at join is sent,
		// before any later event: what arrived since waits for the next
		// round.
		fs = upTo(fs, c.catchUp)
	}
	fs, revoked, err := c.untilRevoked(fs)
	if err != nil {
		return err
	}
	cursor := c.cursor.Load()
	if len(fs) > 0 {
		cursor = fs[len(fs)-1].seq
	}
	ctrl := c.control(sc.ctrl[:0], cursor, beat && !revoked)
	sc.ctrl = ctrl
	if len(eph) > 0 || len(fs) > 0 || len(ctrl) > 0 {
		err := c.sendAll(sc, eph, fs, ctrl)
		clear(ctrl)
		return c.sent(err, cursor, revoked)
	}
	if ping {
		return nil
	}
	// Caught up. A flushing stop closes now; otherwise the writer stands
	// down unless work arrived meanwhile.
	if c.isStopped() {
		return errClosed
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.again || c.pingDue {
		return nil
	}
	c.running = false
	return errIdle
}

// upTo returns the frames of fs, in seq order, whose seq is at most seq.
func upTo(fs []frame, seq int64) []frame {
	for i, f := range fs {
		if f.seq > seq {
			return fs[:i]
		}
	}
	return fs
}

// untilRevoked returns the frames up to and including one that revokes
// this socket's access, and whether there is one.
func (c *conn) untilRevoked(fs []frame) ([]frame, bool, error) {
	for i, f := range fs {
		if r, err := c.revokedBy(f.revoke); err != nil {
			return nil, false, err
		} else if r {
			return fs[:i+1], true, nil
		}
	}
	return fs, false, nil
}

// control appends the protocol 2 messages due once every event up to
// cursor has been sent: caught_up the first time the cursor reaches the
// stream's seq at join, and a heartbeat when beat is due (after
// caught_up). The heartbeat timer is re-armed when one goes out.
func (c *conn) control(ctrl [][]byte, cursor int64, beat bool) [][]byte {
	if !c.v2 {
		return ctrl
	}
	if c.catchUp >= 0 && cursor >= c.catchUp {
		ctrl = append(ctrl, controlFrame(TypeCaughtUp, cursor))
		c.catchUp = -1
	}
	if beat && c.catchUp < 0 {
		ctrl = append(ctrl, controlFrame(TypeHeartbeat, cursor))
		c.beat.Reset(c.room.hub.opts.HeartbeatInterval)
	}
	return ctrl
}

// postpone keeps a due heartbeat for a later round of the writer.
func (c *conn) postpone(beat bool) {
	if !beat {
		return
	}
	c.mu.Lock()
	c.beatDue = true
	c.mu.Unlock()
}

// replay sends events from the log until the cursor is back within the
// room's ring, a batch per round. If the cursor is older than the retained
// log the client is told to resynchronize and continues live.
func (c *conn) replay() error {
	h, r := c.room.hub, c.room
	c.replaying.Store(true)
	events, err := h.replay(c.ctx, r.topic, c.cursor.Load(), 500)
	var gone *taskwire.GoneError
	if errors.As(err, &gone) {
		if !c.v2 {
			// The seed's protocol has no way to say so: the client must
			// reconnect (with since, which is protocol 2).
			c.stop(CloseTooSlow, "missed events are no longer retained; reconnect with since", false)
			return errClosed
		}
		head := r.headSeq()
		if err := c.send(controlFrame(TypeResyncRequired, head)); err != nil {
			c.vanish()
			return errClosed
		}
		c.cursor.Store(head)
		return nil
	}
	if err != nil {
		h.logger.Error("realtime: replay failed", "stream", r.topic.id, "kind", r.topic.kind, "err", err)
		c.stop(CloseInternal, "replay failed; reconnect with since", false)
		return errClosed
	}
	if len(events) == 0 {
		// Nothing newer in the log yet: the room will have it.
		c.fromLog = 0
		c.replaying.Store(false)
		select {
		case <-time.After(10 * time.Millisecond):
		case <-c.stopped:
		}
		return nil
	}
	return c.sendReplayed(events)
}

// sendReplayed writes a batch of events read from the log with one system
// call, up to and including one that revokes this socket's access.
func (c *conn) sendReplayed(events []Message) error {
	cursor := c.cursor.Load()
	bufs := make(net.Buffers, 0, len(events))
	revoked := false
	for _, e := range events {
		if e.Seq != cursor+1 {
			continue
		}
		cursor = e.Seq
		if c.v2 || seedEvent(e.Payload) {
			bufs = append(bufs, textFrame(e.Payload))
		}
		r, err := c.revokedBy(e.Revoke)
		if err != nil {
			return err
		}
		if r {
			revoked = true
			break
		}
	}
	var err error
	if len(bufs) > 0 {
		c.wmu.Lock()
		err = net.ErrClosed
		if !c.closeSent {
			err = c.writeLocked(&bufs)
		}
		c.wmu.Unlock()
	}
	return c.sent(err, cursor, revoked)
}

// sent records the outcome of a write of every event up to cursor: a
// failed write loses the client; otherwise the cursor moves on, and a
// socket whose access the last event revoked is closed with 4403.
func (c *conn) sent(err error, cursor int64, revoked bool) error {
	if err != nil {
		c.vanish()
		return errClosed
	}
	c.cursor.Store(cursor)
	if revoked {
		c.stop(CloseAccessRevoked, "access revoked", false)
		return errClosed
	}
	return nil
}

// send writes one encoded frame.
func (c *conn) send(frame []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.closeSent {
		return net.ErrClosed
	}
	bufs := net.Buffers{frame}
	return c.writeLocked(&bufs)
}

// writeLocked writes bufs to the socket; c.wmu must be held. The hub lets a
// few writes run at once (Options.WriteConcurrency): a fan-out to ten
// thousand sockets then leaves the CPU to REST requests between writes
// instead of queueing them behind ten thousand runnable writers. A write
// that would wait for a slow client gives its turn back at once and
// finishes on its own, within WriteTimeout, so slow clients never hold the
// others up.
//
// With an io_uring (Options.IO), the first try is a send through the ring,
// batched with the sends of the other writers ready at the same moment;
// it takes no turn, as the writer only waits for the ring. What the kernel
// did not take — a full socket's EAGAIN or a short send — goes on as
// above: a non-blocking writev, then the wait.
func (c *conn) writeLocked(bufs *net.Buffers) error {
	h := c.room.hub
	err := c.tryRing(bufs)
	if err == nil && len(*bufs) > 0 {
		h.writeSlots <- struct{}{}
		err = c.tryWrite(bufs)
		<-h.writeSlots
	}
	if err == nil && len(*bufs) > 0 {
		// The client's buffer is full: wait for it, without holding a turn.
		// abort sets aborted before it moves the deadline to now, so a
		// deadline set here after that is seen to be moot.
		c.nc.SetWriteDeadline(time.Now().Add(h.opts.WriteTimeout))
		if c.aborted.Load() {
			err = errClosed
		} else if _, err = bufs.WriteTo(c.nc); err == nil {
			// A deadline outlives the write it was set for: once past, it
			// would fail the next write, even a non-blocking one.
			c.nc.SetWriteDeadline(time.Time{})
		}
	}
	if err != nil {
		// A frame may have gone out in part: a close frame after it would
		// be garbage to the client, so none is sent.
		c.closeSent = true
	}
	return err
}

// tryRing sends bufs with one send through the hub's ring, if it has one,
// and drops what was sent from bufs. It leaves bufs as they are when there
// is no ring or it is closed; a send the kernel took in part, or not at all
// because the socket's buffer is full, is counted as a fallback and its
// remainder left in bufs for the writev path.
func (c *conn) tryRing(bufs *net.Buffers) error {
	h := c.room.hub
	if h.ring == nil || c.raw == nil || h.countWriters && h.writers.Load() < int64(h.opts.RingMinWriters) {
		return nil
	}
	var werr error
	tried := false
	// Inside Write the descriptor cannot be closed (and its number reused
	// by another socket) until the kernel is done with the send.
	err := c.raw.Write(func(fd uintptr) bool {
		n, err, ok := h.ring.send(int(fd), *bufs)
		tried = ok
		switch {
		case !ok || err == unix.EAGAIN || err == unix.EINTR:
		case err != nil:
			werr = err
		default:
			consume(bufs, n)
		}
		return true
	})
	if werr != nil {
		return werr
	}
	if tried && err == nil && len(*bufs) > 0 {
		h.fallbacks.Add(1)
	}
	return err
}

// tryWrite makes one non-blocking writev of bufs and drops what was
// written from it: no timer, no waiting. What the kernel did not take stays
// in bufs.
func (c *conn) tryWrite(bufs *net.Buffers) error {
	if c.raw == nil {
		return nil // not a system socket (tests over net.Pipe): WriteTo does it
	}
	var werr error
	err := c.raw.Write(func(fd uintptr) bool {
		for len(*bufs) > 0 {
			n, err := unix.Writev(int(fd), *bufs)
			if err == unix.EINTR {
				continue
			}
			if err == unix.EAGAIN {
				return true
			}
			if err != nil {
				werr = err
				return true
			}
			consume(bufs, n)
		}
		return true
	})
	if werr != nil {
		return werr
	}
	return err
}

// consume drops the first n bytes from bufs.
func consume(bufs *net.Buffers, n int) {
	for n > 0 && len(*bufs) > 0 {
		if l := len((*bufs)[0]); l <= n {
			n -= l
			(*bufs)[0] = nil
			*bufs = (*bufs)[1:]
			continue
		}
		(*bufs)[0] = (*bufs)[0][n:]
		n = 0
	}
	for len(*bufs) > 0 && len((*bufs)[0]) == 0 {
		*bufs = (*bufs)[1:]
	}
}

// sendAll writes presence messages, log frames and control messages with
// one system call. A protocol 1 socket is sent only the seed's event types
// among the frames.
func (c *conn) sendAll(sc *scratch, eph [][]byte, fs []frame, ctrl [][]byte) error {
	all := append(sc.bufs[:0], eph...)
	for _, f := range fs {
		if c.v2 || f.seed {
			all = append(all, f.data)
		}
	}
	all = append(all, ctrl...)
	// WriteTo consumes the slice it is given; keep all to reuse.
	bufs := all
	defer func() {
		clear(all)
		sc.bufs = all[:0]
	}()
	if len(all) == 0 {
		return nil
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.closeSent {
		return net.ErrClosed
	}
	return c.writeLocked(&bufs)
}
