package realtime

import (
	"context"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// conn is one client socket in a room, spoken to with RFC 6455 frames
// written straight to the TCP connection. An idle socket costs one
// goroutine, its reader, and a 256-byte buffer. Its writer runs only while
// there is something to do — frames after its cursor, presence messages, a
// ping, a heartbeat, a close — and exits when caught up, so ten thousand
// idle sockets do not hold ten thousand writer stacks. Frames of the log
// are encoded once per room and written as they are to every socket.
type conn struct {
	room     *room
	nc       net.Conn
	raw      syscall.RawConn // nc's file descriptor, for non-blocking writes; nil if it has none
	userID   int64
	username string
	tokenID  int64 // the API token the socket was opened with; 0 for a JWT
	// v2: the socket speaks protocol 2 — every event type of the log,
	// presence, resync_required, caught_up and heartbeat. A protocol 1
	// socket is the seed's: it is sent the seed's three event types only.
	v2  bool
	eph [][]byte // encoded presence frames to send; guarded by room.mu

	ctx    context.Context    // the socket's lifetime
	cancel context.CancelFunc // ends it, after the writer has closed the socket

	cursor    atomic.Int64 // seq of the last event sent
	replaying atomic.Bool  // reading old events from the log, exempt from queue limits
	// fromLog: events up to this seq are read from the log, not the room's
	// ring. A resumed socket is given what it missed as the log has it now:
	// retention applies (an event no longer retained is not replayed from
	// memory), and a notification read since has read: true. Owned by the
	// writer once the connection has joined.
	fromLog int64
	// catchUp: protocol 2's caught_up is due once the cursor reaches this
	// seq (the stream's newest when the socket joined); -1 once it is sent.
	// Owned by the writer.
	catchUp int64

	wmu         sync.Mutex // serializes writes to nc: the writer's, and the reader's control replies
	closeSent   bool       // a close frame went out; guarded by wmu
	awaitPong   atomic.Bool
	aborted     atomic.Bool // Shutdown gave up: no write may wait for the client
	pongTimeout *time.Timer

	mu      sync.Mutex // guards running, again, pingDue and beatDue
	running bool       // a writer goroutine is active
	again   bool       // work arrived while the writer was running
	pingDue bool
	beatDue bool // a protocol 2 heartbeat is due

	ping     *time.Timer
	beat     *time.Timer // protocol 2 heartbeats; nil on protocol 1
	expiry   *time.Timer
	readDone chan struct{} // closed when the reader returns

	stopOnce sync.Once
	stopped  chan struct{} // closed by stop
	code     int           // set once by stop, read after stopped is closed
	reason   string
	gone     bool        // the client is gone or closed first: no close frame to send
	flush    atomic.Bool // send what the room has before closing; abort clears it
}

// stop asks the connection to close with code; the first call wins.
func (c *conn) stop(code int, reason string, flush bool) {
	c.stopOnce.Do(func() {
		c.code, c.reason = code, reason
		c.flush.Store(flush)
		close(c.stopped)
	})
	c.wake()
}

// abort ends the connection without waiting for its client: Shutdown's
// time is up. A flushing stop stops flushing, and a write blocked on a
// client that does not read fails now rather than after WriteTimeout.
func (c *conn) abort() {
	c.stop(CloseGoingAway, "server shutting down", false)
	c.flush.Store(false)
	c.aborted.Store(true)
	c.nc.SetWriteDeadline(time.Now())
	c.wake()
}

// vanish stops the connection without a close frame: the client closed it
// or is unreachable.
func (c *conn) vanish() {
	c.stopOnce.Do(func() {
		c.gone = true
		close(c.stopped)
	})
	c.wake()
}

func (c *conn) isStopped() bool {
	select {
	case <-c.stopped:
		return true
	default:
		return false
	}
}

// wake makes sure a writer runs: it starts one, or tells the running one to
// look again before it exits.
func (c *conn) wake() {
	c.mu.Lock()
	if c.running {
		c.again = true
		c.mu.Unlock()
		return
	}
	c.running = true
	c.mu.Unlock()
	if h := c.room.hub; h.countWriters {
		h.writers.Add(1)
	}
	go c.write()
}

func (c *conn) pingNow() {
	c.mu.Lock()
	c.pingDue = true
	c.mu.Unlock()
	c.wake()
}

// checkPong runs PongTimeout after a ping: no pong by then, the client is
// treated as gone.
func (c *conn) checkPong() {
	if c.awaitPong.Load() {
		c.vanish()
	}
}

func (c *conn) beatNow() {
	c.mu.Lock()
	c.beatDue = true
	c.mu.Unlock()
	c.wake()
}

// finish closes the socket — with a close frame unless the client is gone
// — and releases everything it held.
func (c *conn) finish() {
	if !c.gone && c.closeReply(c.code) {
		// Give the client a moment to answer the close, then hang up.
		c.nc.SetReadDeadline(time.Now().Add(closeWait))
		select {
		case <-c.readDone:
		case <-time.After(closeWait):
		}
	}
	c.nc.Close()
	c.cancel()
	<-c.readDone
	c.ping.Stop()
	c.pongTimeout.Stop()
	if c.beat != nil {
		c.beat.Stop()
	}
	if c.expiry != nil {
		c.expiry.Stop()
	}
	if c.tokenID != 0 {
		c.room.hub.tokens.remove(c)
	}
	c.room.remove(c)
	c.room.hub.release(c.room)
	c.room.hub.conns.Done() // last: Shutdown may return, and the process exit
}

// closeWait is how long a closing socket waits for the client's close.
const closeWait = 2 * time.Second

// closeReply sends a close frame once, and reports whether this call sent
// it: not when one went out before, or a failed write made sending one
// pointless.
func (c *conn) closeReply(code int) bool {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.closeSent {
		return false
	}
	c.closeSent = true
	c.nc.SetWriteDeadline(time.Now().Add(time.Second))
	_, err := c.nc.Write(closeFrame(code, c.reasonFor(code)))
	return err == nil
}

func (c *conn) reasonFor(code int) string {
	if code == c.code {
		return c.reason
	}
	return ""
}

// revokedBy reports whether a message whose Revoke is rv ends this
// socket's access: the project was deleted, or its user was removed and
// is not a member now. A user removed and then added back, resuming from
// before the removal, replays that member_removed and keeps the socket.
// A failed check closes the socket for a retry and returns errClosed.
func (c *conn) revokedBy(rv int64) (bool, error) {
	switch {
	case rv == 0 || c.room.topic.kind != ProjectStream:
		return false, nil
	case rv == -1:
		return true, nil
	case rv != c.userID:
		return false, nil
	}
	ok, err := c.room.hub.source.IsMember(c.ctx, c.room.topic.id, c.userID)
	if err != nil {
		c.room.hub.logger.Error("realtime: membership check failed", "project", c.room.topic.id, "err", err)
		c.stop(CloseInternal, "membership check failed; reconnect with since", false)
		return false, errClosed
	}
	return !ok, nil
}
