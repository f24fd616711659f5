package realtime_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/gobwas/ws"
	"github.com/taskwire/taskwire/realtime"
)

// The realtime tests run a real Hub fed by a MemoryBroker (or a broker that
// loses or reorders publishes) and reading an in-memory log, with real
// WebSocket clients over loopback TCP: a test HTTP server upgrades with
// gobwas/ws and hands the socket to Hub.Join, and the clients are
// coder/websocket's. Nothing of the HTTP API, the database or JWT is involved.

// hubEnv is a running Hub behind a test WebSocket server.
type hubEnv struct {
	t      *testing.T
	log    *fakeLog
	hub    *realtime.Hub
	url    string
	sndBuf int

	cancelRun context.CancelFunc
	runDone   chan error
	runOnce   sync.Once
	runErr    error

	mu     sync.Mutex // guards the fields below
	joins  map[string]realtime.JoinRequest
	server []net.Conn // the server side of every socket
}

// setup configures a hubEnv; the zero value is a plain hub.
type setup struct {
	opts realtime.Options
	// broker wraps the MemoryBroker the log publishes to and the hub reads.
	broker func(*realtime.MemoryBroker) realtime.Broker
	// sndBuf, when set, is the server side's socket send buffer: small, a
	// client that does not read blocks the hub's writes to it soon.
	sndBuf int
}

// newHubEnv starts a hub and its server; the test's cleanup closes the
// clients, shuts the hub down and waits for Run to return.
func newHubEnv(t *testing.T, s setup) *hubEnv {
	t.Helper()
	mb := realtime.NewMemoryBroker()
	var broker realtime.Broker = mb
	if s.broker != nil {
		broker = s.broker(mb)
	}
	if s.opts.IO == "" {
		// make test runs this package once per way of writing sockets.
		s.opts.IO = os.Getenv("TASKWIRE_TEST_WS_IO")
	}
	e := &hubEnv{t: t, log: newFakeLog(broker), sndBuf: s.sndBuf, joins: map[string]realtime.JoinRequest{}, runDone: make(chan error, 1)}
	e.hub = realtime.NewHub(slog.New(slog.DiscardHandler), e.log, broker, s.opts)
	ctx, cancel := context.WithCancel(context.Background())
	e.cancelRun = cancel
	go func() { e.runDone <- e.hub.Run(ctx) }()
	srv := httptest.NewServer(http.HandlerFunc(e.serveSocket))
	e.url = "ws" + strings.TrimPrefix(srv.URL, "http")
	t.Cleanup(func() {
		sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer scancel()
		if err := e.hub.Shutdown(sctx); err != nil {
			t.Errorf("hub shutdown: %v", err)
		}
		if err := e.stopRun(); err != nil {
			t.Errorf("hub run: %v", err)
		}
		srv.Close()
	})
	return e
}

// stopRun ends the hub's Run and returns what it returned; the test fails
// if it does not return within 10s.
func (e *hubEnv) stopRun() error {
	e.runOnce.Do(func() {
		e.cancelRun()
		select {
		case e.runErr = <-e.runDone:
		case <-time.After(10 * time.Second):
			e.runErr = errors.New("hub.Run did not return within 10s of its context ending")
		}
	})
	return e.runErr
}

// serveSocket upgrades a request and joins the socket as the request it
// names (?join=N) says.
func (e *hubEnv) serveSocket(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	req, ok := e.joins[r.URL.Query().Get("join")]
	e.mu.Unlock()
	if !ok {
		http.Error(w, "unknown join", http.StatusNotFound)
		return
	}
	nc, rw, _, err := ws.UpgradeHTTP(r, w)
	if err != nil {
		return
	}
	if e.sndBuf > 0 {
		_ = nc.(*net.TCPConn).SetWriteBuffer(e.sndBuf)
	}
	if n := rw.Reader.Buffered(); n > 0 {
		early, _ := rw.Reader.Peek(n)
		req.Buffered = bytes.Clone(early)
	}
	e.mu.Lock()
	e.server = append(e.server, nc)
	e.mu.Unlock()
	// A refused join (the hub is shutting down) has closed the socket
	// with 1001, which is what its client sees.
	_ = e.hub.Join(r.Context(), nc, req)
}

// closeServerSides closes the server side of every socket, as the
// process's exit would.
func (e *hubEnv) closeServerSides() {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, nc := range e.server {
		_ = nc.Close()
	}
}

// dial opens a socket that joins as req says. The test's cleanup closes it.
func (e *hubEnv) dial(ctx context.Context, req realtime.JoinRequest) *client {
	e.t.Helper()
	c, err := e.open(ctx, req)
	if err != nil {
		e.t.Fatalf("dial %+v: %v", req, err)
	}
	return c
}

// open is dial for any goroutine: it returns the error.
func (e *hubEnv) open(ctx context.Context, req realtime.JoinRequest) (*client, error) {
	e.mu.Lock()
	key := strconv.Itoa(len(e.joins))
	e.joins[key] = req
	e.mu.Unlock()
	ws, _, err := websocket.Dial(ctx, e.url+"/?join="+key, nil)
	if err != nil {
		return nil, err
	}
	ws.SetReadLimit(1 << 20)
	e.t.Cleanup(func() { _ = ws.CloseNow() })
	return &client{t: e.t, ws: ws}, nil
}

// member returns a project socket's join request for a user (named
// "user<id>"), starting after seq after, protocol 2 when v2.
func member(projectID, userID, after int64, v2 bool) realtime.JoinRequest {
	return realtime.JoinRequest{Kind: realtime.ProjectStream, ID: projectID, UserID: userID,
		Username: "user" + strconv.FormatInt(userID, 10), After: after, V2: v2}
}

// resume returns the join request of a socket resuming with since.
func resume(projectID, userID, since int64) realtime.JoinRequest {
	req := member(projectID, userID, since, true)
	req.Resume = true
	return req
}

// waitPresence waits until Hub.Presence lists want for a project: the hub
// has taken in the joins and leaves that announce it.
func (e *hubEnv) waitPresence(ctx context.Context, projectID int64, want ...realtime.PresenceEntry) {
	e.t.Helper()
	for {
		got, err := e.hub.Presence(ctx, projectID)
		if err != nil {
			e.t.Fatal(err)
		}
		if fmt.Sprint(got) == fmt.Sprint(want) {
			return
		}
		select {
		case <-ctx.Done():
			e.t.Fatalf("presence %v, want %v", got, want)
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// client is a test's end of a socket.
type client struct {
	t  *testing.T
	ws *websocket.Conn
}

// message is one message a socket received: an event of the log, presence
// (no seq), or a protocol 2 control message.
type message struct {
	Event string          `json:"event"`
	Seq   *int64          `json:"seq"`
	Data  json.RawMessage `json:"data"`
	raw   []byte
}

func (m message) seq() int64 {
	if m.Seq == nil {
		return 0
	}
	return *m.Seq
}

func (m message) String() string {
	if m.Seq == nil {
		return m.Event
	}
	return m.Event + "#" + strconv.FormatInt(*m.Seq, 10)
}

// control reports protocol 2's control messages.
func (m message) control() bool {
	return m.Event == realtime.TypeCaughtUp || m.Event == realtime.TypeHeartbeat
}

// presence reports presence messages.
func (m message) presence() bool { return strings.HasPrefix(m.Event, "presence_") }

// read returns the next message, or the error that ended the socket.
func (c *client) read(ctx context.Context) (message, error) {
	_, raw, err := c.ws.Read(ctx)
	if err != nil {
		return message{}, err
	}
	m := message{raw: raw}
	if err := json.Unmarshal(raw, &m); err != nil {
		return message{}, fmt.Errorf("decode %s: %w", raw, err)
	}
	return m, nil
}

// next returns the next message; the test fails if there is none.
func (c *client) next(ctx context.Context) message {
	c.t.Helper()
	m, err := c.read(ctx)
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	return m
}

// nextEvent returns the next event of the log, skipping presence and
// control messages.
func (c *client) nextEvent(ctx context.Context) message {
	c.t.Helper()
	for {
		if m := c.next(ctx); !m.presence() && !m.control() {
			return m
		}
	}
}

// wantSeqs reads the events from..to, in order, skipping presence and
// control messages.
func (c *client) wantSeqs(ctx context.Context, from, to int64) {
	c.t.Helper()
	for want := from; want <= to; want++ {
		if m := c.nextEvent(ctx); m.seq() != want {
			c.t.Fatalf("got %s, want seq %d", m, want)
		}
	}
}

// untilClose reads every message until the socket ends and returns them
// with the close code (-1 when it ended without a close frame) and the
// error that ended it.
func (c *client) untilClose(ctx context.Context) ([]message, int, error) {
	var got []message
	for {
		m, err := c.read(ctx)
		if err != nil {
			return got, int(websocket.CloseStatus(err)), err
		}
		got = append(got, m)
	}
}

// wantClose reads until the socket closes and fails unless it closes with
// code; it returns what came before the close.
func (c *client) wantClose(ctx context.Context, code int) []message {
	c.t.Helper()
	got, status, err := c.untilClose(ctx)
	if status != code {
		c.t.Fatalf("closed with %d (%v) after %v, want %d", status, err, got, code)
	}
	return got
}

// testCtx is a test's overall deadline: generous, only to turn a hang
// into a failure.
func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}
