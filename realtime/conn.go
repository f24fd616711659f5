package realtime

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gobwas/ws"
	"github.com/taskwire/taskwire"
	"golang.org/x/sys/unix"
)

// conn is one client socket in a room, spoken to with RFC 6455 frames
// written straight to the TCP connection. An idle socket costs one
// goroutine, its reader, and a 256-byte buffer. Its writer runs only while
// there is something to do — frames after its cursor, presence messages, a
// ping, a close — and exits when caught up, so ten thousand idle sockets do
// not hold ten thousand writer stacks. Frames of the log are encoded once
// per room and written as they are to every socket.
type conn struct {
	room     *room
	nc       net.Conn
	raw      syscall.RawConn // nc's file descriptor, for non-blocking writes; nil if it has none
	userID   int64
	username string
	eph      [][]byte // encoded presence frames to send; guarded by room.mu

	ctx    context.Context    // the socket's lifetime
	cancel context.CancelFunc // ends it, after the writer has closed the socket

	cursor    atomic.Int64 // seq of the last event sent
	replaying atomic.Bool  // reading old events from the log, exempt from queue limits
	// fromLog: events up to this seq are read from the log, not the room's
	// ring. A resumed notification socket is sent the inbox as it is now
	// (a notification read since has read: true) whether or not this
	// instance's ring still holds the frame pushed when it was created.
	// Owned by the writer once the connection has joined.
	fromLog int64

	wmu         sync.Mutex // serializes writes to nc: the writer's, and the reader's control replies
	closeSent   bool       // a close frame went out; guarded by wmu
	awaitPong   atomic.Bool
	pongTimeout *time.Timer

	mu      sync.Mutex // guards running, again and pingDue
	running bool       // a writer goroutine is active
	again   bool       // work arrived while the writer was running
	pingDue bool

	ping     *time.Timer
	expiry   *time.Timer
	readDone chan struct{} // closed when the reader returns

	stopOnce sync.Once
	stopped  chan struct{} // closed by stop
	code     int           // set once by stop, read after stopped is closed
	reason   string
	flush    bool // send what is committed before closing
	gone     bool // the client is gone or closed first: no close frame to send
}

// stop asks the connection to close with code; the first call wins.
func (c *conn) stop(code int, reason string, flush bool) {
	c.stopOnce.Do(func() {
		c.code, c.reason, c.flush = code, reason, flush
		close(c.stopped)
	})
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
	go c.write()
}

// JoinRequest describes an authenticated socket joining a stream: a
// project's room (Kind ProjectStream, ID the project) or a user's
// notifications (Kind UserStream, ID the user).
type JoinRequest struct {
	Kind     Kind
	ID       int64
	UserID   int64
	Username string
	// Since, when set, asks for every event after it before live ones.
	Since *int64
	// Expires is when the caller's token expires; the socket closes then
	// with CloseTokenExpired.
	Expires time.Time
	// Buffered holds bytes the client sent right after its handshake that
	// the upgrade had already read.
	Buffered []byte
}

// Join puts a socket whose WebSocket handshake is done in a project room
// and returns; from then on the hub owns it until it closes. The caller's
// goroutine — for HTTP, the server's connection goroutine with its large
// stack — is not kept for the socket's lifetime.
func (h *Hub) Join(ctx context.Context, nc net.Conn, req JoinRequest) error {
	r, err := h.room(ctx, topic{req.Kind, req.ID})
	if err != nil {
		code := CloseInternal
		if errors.Is(err, ErrClosing) {
			code = CloseGoingAway
		}
		nc.SetWriteDeadline(time.Now().Add(time.Second))
		nc.Write(closeFrame(code, ""))
		nc.Close()
		return err
	}
	c := &conn{
		room: r, nc: nc, userID: req.UserID, username: req.Username,
		stopped: make(chan struct{}), readDone: make(chan struct{}),
	}
	// The socket outlives the HTTP request that opened it.
	c.ctx, c.cancel = context.WithCancel(context.WithoutCancel(ctx))
	if req.Since != nil {
		c.cursor.Store(*req.Since)
		c.replaying.Store(true)
		if req.Kind == UserStream {
			c.fromLog = r.headSeq()
		}
	} else {
		c.cursor.Store(r.headSeq())
	}
	c.ping = time.AfterFunc(h.opts.PingInterval, c.pingNow)
	c.pongTimeout = time.AfterFunc(time.Hour, c.checkPong)
	c.pongTimeout.Stop()
	if !req.Expires.IsZero() {
		c.expiry = time.AfterFunc(time.Until(req.Expires), func() {
			c.stop(CloseTokenExpired, "token expired", false)
		})
	}
	if sc, ok := nc.(syscall.Conn); ok {
		c.raw, _ = sc.SyscallConn()
	}
	r.add(c)
	var rd io.Reader = nc
	if len(req.Buffered) > 0 {
		rd = io.MultiReader(bytes.NewReader(req.Buffered), nc)
	}
	go c.readLoop(bufio.NewReaderSize(rd, readBufferSize))
	if req.Since != nil {
		c.wake()
	}
	return nil
}

// readBufferSize is a socket's read buffer: clients send almost nothing.
const readBufferSize = 256

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

// readLoop reads client frames: text messages are ignored, pings answered,
// a close answered and ended. A binary message is a policy violation
// (1008), one over ReadLimit too big (1009), malformed frames a protocol
// error (1002).
func (c *conn) readLoop(br *bufio.Reader) {
	defer close(c.readDone)
	limit := c.room.hub.opts.ReadLimit
	var control [125]byte
	var size int64     // bytes of the message being read
	inMessage := false // a fragmented message is under way
	for {
		h, err := ws.ReadHeader(br)
		if err != nil {
			c.vanish()
			return
		}
		switch {
		case !h.Masked || h.Rsv != 0:
			c.stop(CloseProtocol, "client frames must be masked and use no extensions", false)
			return
		case h.OpCode.IsControl():
			if h.Length > 125 || !h.Fin {
				c.stop(CloseProtocol, "bad control frame", false)
				return
			}
			p := control[:h.Length]
			if _, err := io.ReadFull(br, p); err != nil {
				c.vanish()
				return
			}
			ws.Cipher(p, h.Mask, 0)
			switch h.OpCode {
			case ws.OpPing:
				if err := c.writeFrame(ws.NewPongFrame(p)); err != nil {
					c.vanish()
					return
				}
			case ws.OpPong:
				c.awaitPong.Store(false)
			case ws.OpClose:
				code, _ := ws.ParseCloseFrameData(p)
				if code == 0 {
					code = ws.StatusNormalClosure
				}
				c.closeReply(int(code))
				c.vanish()
				return
			default:
				c.stop(CloseProtocol, "unknown control frame", false)
				return
			}
			continue
		case h.OpCode == ws.OpBinary:
			c.stop(ClosePolicy, "binary messages are not accepted", false)
			return
		case h.OpCode == ws.OpText:
			if inMessage {
				c.stop(CloseProtocol, "new message inside a fragmented one", false)
				return
			}
			size = 0
		case h.OpCode == ws.OpContinuation:
			if !inMessage {
				c.stop(CloseProtocol, "continuation without a message", false)
				return
			}
		default:
			c.stop(CloseProtocol, "unknown opcode", false)
			return
		}
		size += h.Length
		if size > limit {
			c.stop(CloseTooBig, "message too big", false)
			return
		}
		if _, err := io.CopyN(io.Discard, br, h.Length); err != nil {
			c.vanish()
			return
		}
		inMessage = !h.Fin
	}
}

// write is the writer: it sends what is due, in seq order, and returns
// when there is nothing left (the socket stays open) or after closing it.
func (c *conn) write() {
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
}

var scratchPool = sync.Pool{New: func() any {
	return &scratch{frames: make([]frame, 0, 32), bufs: make(net.Buffers, 0, 40)}
}}

// Writer outcomes other than "keep going".
var (
	errIdle   = errors.New("realtime: writer idle")   // caught up, socket open
	errClosed = errors.New("realtime: socket closed") // close now
)

// step does one round of the writer's work: nil to go on, errIdle when
// caught up, errClosed when the socket is to be closed.
func (c *conn) step(sc *scratch) error {
	if c.isStopped() && !c.flush {
		return errClosed
	}
	c.mu.Lock()
	ping := c.pingDue
	c.pingDue, c.again = false, false
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
	if replay {
		if err := c.sendAll(sc, eph, nil); err != nil {
			c.vanish()
			return errClosed
		}
		return c.replay()
	}
	c.replaying.Store(false)
	// Frames up to and including one that revokes this socket's access.
	revoked := false
	for i, f := range fs {
		if r, err := c.revokedBy(f.revoke); err != nil {
			return err
		} else if r {
			fs, revoked = fs[:i+1], true
			break
		}
	}
	if len(eph) > 0 || len(fs) > 0 {
		if err := c.sendAll(sc, eph, fs); err != nil {
			c.vanish()
			return errClosed
		}
		if len(fs) > 0 {
			c.cursor.Store(fs[len(fs)-1].seq)
		}
		if revoked {
			c.stop(CloseAccessRevoked, "access revoked", false)
			return errClosed
		}
		return nil
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

// finish closes the socket — with a close frame unless the client is gone
// — and releases everything it held.
func (c *conn) finish() {
	if !c.gone {
		c.closeReply(c.code)
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
	if c.expiry != nil {
		c.expiry.Stop()
	}
	c.room.remove(c)
	c.room.hub.release(c.room)
}

// closeWait is how long a closing socket waits for the client's close.
const closeWait = 2 * time.Second

// closeReply sends a close frame once.
func (c *conn) closeReply(code int) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.closeSent {
		return
	}
	c.closeSent = true
	c.nc.SetWriteDeadline(time.Now().Add(time.Second))
	c.nc.Write(closeFrame(code, c.reasonFor(code)))
}

func (c *conn) reasonFor(code int) string {
	if code == c.code {
		return c.reason
	}
	return ""
}

// replay sends events from the log until the cursor is back within the
// room's ring. If the cursor is older than the retained log the client is
// told to resynchronize and continues live.
func (c *conn) replay() error {
	h, r := c.room.hub, c.room
	c.replaying.Store(true)
	events, err := h.replay(c.ctx, r.topic, c.cursor.Load(), 500)
	var gone *taskwire.GoneError
	if errors.As(err, &gone) {
		head := r.headSeq()
		if err := c.send(textFrame([]byte(`{"event":"` + TypeResyncRequired + `","seq":` + strconv.FormatInt(head, 10) + `}`))); err != nil {
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
	for _, e := range events {
		if e.Seq != c.cursor.Load()+1 {
			continue
		}
		if err := c.send(textFrame(e.Payload)); err != nil {
			c.vanish()
			return errClosed
		}
		c.cursor.Store(e.Seq)
		if r, err := c.revokedBy(e.Revoke); err != nil {
			return err
		} else if r {
			c.stop(CloseAccessRevoked, "access revoked", false)
			return errClosed
		}
	}
	if len(events) == 0 {
		// Nothing newer in the log yet: the room will have it.
		c.fromLog = 0
		c.replaying.Store(false)
		select {
		case <-time.After(10 * time.Millisecond):
		case <-c.stopped:
		}
	}
	return nil
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
func (c *conn) writeLocked(bufs *net.Buffers) error {
	h := c.room.hub
	h.writeSlots <- struct{}{}
	err := c.tryWrite(bufs)
	<-h.writeSlots
	if err == nil && len(*bufs) > 0 {
		// The client's buffer is full: wait for it, without holding a turn.
		c.nc.SetWriteDeadline(time.Now().Add(h.opts.WriteTimeout))
		_, err = bufs.WriteTo(c.nc)
	}
	if err != nil {
		// A frame may have gone out in part: a close frame after it would
		// be garbage to the client, so none is sent.
		c.closeSent = true
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

// sendAll writes presence messages and log frames with one system call.
func (c *conn) sendAll(sc *scratch, eph [][]byte, fs []frame) error {
	if len(eph)+len(fs) == 1 {
		if len(eph) == 1 {
			return c.send(eph[0])
		}
		return c.send(fs[0].data)
	}
	all := append(sc.bufs[:0], eph...)
	for _, f := range fs {
		all = append(all, f.data)
	}
	// WriteTo consumes the slice it is given; keep all to reuse.
	bufs := all
	defer func() {
		clear(all)
		sc.bufs = all[:0]
	}()
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.closeSent {
		return net.ErrClosed
	}
	return c.writeLocked(&bufs)
}

// writeFrame writes a control frame from the reader.
func (c *conn) writeFrame(f ws.Frame) error {
	b, err := ws.CompileFrame(f)
	if err != nil {
		return err
	}
	return c.send(b)
}

var pingFrame = ws.MustCompileFrame(ws.NewPingFrame(nil))

// textFrame encodes payload as one unmasked text frame.
func textFrame(payload []byte) []byte {
	b, err := ws.CompileFrame(ws.NewTextFrame(payload))
	if err != nil {
		panic(err) // only for lengths over 2^63
	}
	return b
}

// closeFrame encodes a close frame.
func closeFrame(code int, reason string) []byte {
	if len(reason) > 123 {
		reason = reason[:123]
	}
	return ws.MustCompileFrame(ws.NewCloseFrame(ws.NewCloseFrameBody(ws.StatusCode(code), reason)))
}
