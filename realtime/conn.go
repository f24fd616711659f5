package realtime

import (
	"context"
	"errors"
	"io"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/taskwire/taskwire"
)

type closeCode = websocket.StatusCode

// conn is one client socket in a room. Its writer pulls frames from the
// room after cursor; its reader discards client text and notices closes.
type conn struct {
	room     *room
	ws       *websocket.Conn
	userID   int64
	username string
	eph      [][]byte // presence messages to send; guarded by room.mu

	cursor    atomic.Int64 // seq of the last event sent
	replaying atomic.Bool  // reading old events from the log, exempt from queue limits

	stopOnce sync.Once
	stopped  chan struct{} // closed by stop
	code     closeCode     // set once by stop, read after stopped is closed
	reason   string
	flush    bool // send what is committed before closing
}

// stop asks the connection to close with code; the first call wins.
func (c *conn) stop(code closeCode, reason string, flush bool) {
	c.stopOnce.Do(func() {
		c.code, c.reason, c.flush = code, reason, flush
		close(c.stopped)
	})
}

// JoinRequest describes an authenticated socket joining a project room.
type JoinRequest struct {
	ProjectID int64
	UserID    int64
	Username  string
	// Since, when set, asks for every event after it before live ones.
	Since *int64
	// Expires is when the caller's token expires; the socket closes then
	// with CloseTokenExpired.
	Expires time.Time
}

// Join serves an accepted WebSocket in a project room until it closes.
func (h *Hub) Join(ctx context.Context, ws *websocket.Conn, req JoinRequest) error {
	// The socket outlives the HTTP request that opened it.
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	r, err := h.room(ctx, req.ProjectID)
	if err != nil {
		code := websocket.StatusInternalError
		if errors.Is(err, ErrClosing) {
			code = CloseGoingAway
		}
		ws.Close(code, "")
		return err
	}
	defer h.release(r)
	ws.SetReadLimit(h.opts.ReadLimit)
	c := &conn{room: r, ws: ws, userID: req.UserID, username: req.Username, stopped: make(chan struct{})}
	if req.Since != nil {
		c.cursor.Store(*req.Since)
		c.replaying.Store(true)
	} else {
		c.cursor.Store(r.headSeq())
	}
	r.add(c)
	defer r.remove(c)

	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		c.readLoop(ctx)
	}()
	err = c.writeLoop(ctx, req.Expires)
	if err == nil {
		// Close sends the close frame and waits for the client's answer,
		// which the reader receives.
		ws.Close(c.code, c.reason)
	} else {
		ws.CloseNow()
	}
	cancel()
	<-readDone
	return nil
}

// readLoop reads and ignores client text messages. A binary message is a
// protocol violation; an oversized one is closed by the library (1009).
func (c *conn) readLoop(ctx context.Context) {
	for {
		typ, rd, err := c.ws.Reader(ctx)
		if err != nil {
			c.stop(websocket.StatusNormalClosure, "", false)
			return
		}
		if typ == websocket.MessageBinary {
			c.stop(ClosePolicy, "binary messages are not accepted", false)
			return
		}
		if _, err := io.Copy(io.Discard, rd); err != nil {
			c.stop(ClosePolicy, "bad message", false)
			return
		}
	}
}

// errGone means the client went away: there is no one to send a close to.
var errGone = errors.New("realtime: client gone")

// writeLoop sends frames in seq order until the connection is stopped. It
// returns nil when the socket should be closed with c.code.
func (c *conn) writeLoop(ctx context.Context, expires time.Time) error {
	h := c.room.hub
	ping := time.NewTicker(h.opts.PingInterval)
	defer ping.Stop()
	var expiry <-chan time.Time
	if !expires.IsZero() {
		t := time.NewTimer(time.Until(expires))
		defer t.Stop()
		expiry = t.C
	}
	buf := make([]frame, 0, 64)
	for {
		select {
		case <-c.stopped:
			if !c.flush {
				return c.closeErr()
			}
		default:
		}
		eph, frames, wait, replay := c.room.next(c, cap(buf), buf)
		for _, msg := range eph {
			if err := c.write(ctx, msg); err != nil {
				return errGone
			}
		}
		if replay {
			if err := c.replay(ctx); err != nil {
				return err
			}
			continue
		}
		c.replaying.Store(false)
		for _, f := range frames {
			if err := c.write(ctx, f.data); err != nil {
				return errGone
			}
			c.cursor.Store(f.seq)
			if f.revoke == -1 || f.revoke == c.userID {
				c.stop(CloseAccessRevoked, "access revoked", false)
				return nil
			}
		}
		if len(frames) > 0 || len(eph) > 0 {
			continue
		}
		// Caught up: a flushing stop may close now.
		select {
		case <-c.stopped:
			return c.closeErr()
		default:
		}
		select {
		case <-wait:
		case <-c.stopped:
		case <-expiry:
			c.stop(CloseTokenExpired, "token expired", false)
		case <-ping.C:
			pctx, cancel := context.WithTimeout(ctx, h.opts.PongTimeout)
			err := c.ws.Ping(pctx)
			cancel()
			if err != nil {
				return errGone
			}
		case <-ctx.Done():
			return errGone
		}
	}
}

func (c *conn) closeErr() error {
	if c.code == websocket.StatusNormalClosure && c.reason == "" {
		// The reader saw the client close or vanish.
		return errGone
	}
	return nil
}

// replay sends events from the log until the cursor is back within the
// room's ring. If the cursor is older than the retained log the client is
// told to resynchronize and continues live.
func (c *conn) replay(ctx context.Context) error {
	h, r := c.room.hub, c.room
	c.replaying.Store(true)
	events, err := h.source.Replay(ctx, r.id, c.cursor.Load(), 500)
	var gone *taskwire.GoneError
	if errors.As(err, &gone) {
		head := r.headSeq()
		msg := []byte(`{"event":"` + TypeResyncRequired + `","seq":` + strconv.FormatInt(head, 10) + `}`)
		if err := c.write(ctx, msg); err != nil {
			return errGone
		}
		c.cursor.Store(head)
		return nil
	}
	if err != nil {
		h.logger.Error("realtime: replay failed", "project_id", r.id, "err", err)
		c.stop(websocket.StatusInternalError, "replay failed; reconnect with since", false)
		return nil
	}
	var buf []byte
	for _, e := range events {
		if e.Seq != c.cursor.Load()+1 {
			continue
		}
		buf = e.AppendJSON(buf[:0])
		if err := c.write(ctx, buf); err != nil {
			return errGone
		}
		c.cursor.Store(e.Seq)
		if rv := revokes(e); rv == -1 || rv == c.userID {
			c.stop(CloseAccessRevoked, "access revoked", false)
			return nil
		}
	}
	if len(events) == 0 {
		// Nothing newer in the log yet: the room will have it.
		c.replaying.Store(false)
		select {
		case <-time.After(10 * time.Millisecond):
		case <-c.stopped:
		}
	}
	return nil
}

func (c *conn) write(ctx context.Context, data []byte) error {
	ctx, cancel := context.WithTimeout(ctx, c.room.hub.opts.WriteTimeout)
	defer cancel()
	return c.ws.Write(ctx, websocket.MessageText, data)
}
