package realtime

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"syscall"
	"time"
)

// JoinRequest describes an authenticated socket joining a stream: a
// project's room (Kind ProjectStream, ID the project) or a user's
// notifications (Kind UserStream, ID the user).
type JoinRequest struct {
	Kind     Kind
	ID       int64
	UserID   int64
	Username string
	// After is where the socket starts: it is sent every event with a
	// greater seq. A client's since, or the stream's newest seq read when
	// its access was checked, so an event committed during the handshake
	// is not missed.
	After int64
	// Resume: After is the client's since. What it missed is read from the
	// log, where retention applies: older than the retained log, the
	// socket is sent resync_required and continues live.
	Resume bool
	// V2 asks for protocol 2: every event type, presence,
	// resync_required, caught_up and heartbeat. Without it the socket
	// speaks the seed's protocol: its three event types and close codes,
	// nothing else. A resuming socket speaks protocol 2.
	V2 bool
	// Expires is when the caller's token expires; the socket closes then
	// with CloseTokenExpired.
	Expires time.Time
	// TokenID is the API token the socket was opened with (0: a login
	// JWT); its revocation closes the socket with CloseTokenExpired.
	TokenID int64
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
		room: r, nc: nc, userID: req.UserID, username: req.Username, v2: req.V2 || req.Resume, tokenID: req.TokenID,
		stopped: make(chan struct{}), readDone: make(chan struct{}), catchUp: -1,
	}
	// The socket outlives the HTTP request that opened it.
	c.ctx, c.cancel = context.WithCancel(context.WithoutCancel(ctx))
	head := r.headSeq()
	c.cursor.Store(req.After)
	c.replaying.Store(true)
	if req.Resume {
		c.fromLog = head
	}
	if c.v2 {
		c.catchUp = max(req.After, head)
		c.beat = time.AfterFunc(h.opts.HeartbeatInterval, c.beatNow)
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
	if c.tokenID != 0 && !h.tokens.add(c) {
		// Revoked after the handshake checked it.
		c.stop(CloseTokenExpired, "token revoked", false)
	}
	if h.isClosing() {
		// Shutdown began after room counted c but may have stopped the
		// room's connections before add: c is stopped here instead.
		c.stop(CloseGoingAway, "server shutting down", true)
	}
	var rd io.Reader = nc
	if len(req.Buffered) > 0 {
		rd = io.MultiReader(bytes.NewReader(req.Buffered), nc)
	}
	go c.readLoop(bufio.NewReaderSize(rd, readBufferSize))
	c.wake()
	return nil
}

// readBufferSize is a socket's read buffer: clients send almost nothing.
const readBufferSize = 256
