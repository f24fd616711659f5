package httpapi

import (
	"bytes"
	"errors"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gobwas/ws"
	"github.com/taskwire/taskwire"
	"github.com/taskwire/taskwire/realtime"
)

// projectSocket serves /ws/projects/{project_id}?token=<JWT or API token>[&v=2][&since=SEQ].
// A bad token, an unknown project or a non-member is refused at the
// handshake with 403, as the seed did; nothing is sent on connect. Without
// v=2 or since the socket speaks the seed's protocol (asyncapi.yaml).
func (s *Server) projectSocket(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	logger := loggerFrom(ctx, s.logger)
	forbidden := detail(http.StatusForbidden, "Forbidden")
	projectID, err := strconv.ParseInt(r.PathValue("project_id"), 10, 64)
	if err != nil || projectID <= 0 {
		writeError(w, forbidden)
		return
	}
	who, ok := s.socketUser(w, r)
	if !ok {
		return
	}
	user := who.user
	p, err := s.svc.CheckMember(ctx, user, projectID)
	if err != nil {
		if k := taskwire.ErrorKind(err); k == taskwire.NotFound || k == taskwire.Forbidden {
			writeError(w, forbidden)
			return
		}
		writeError(w, fromDomain(logger, err))
		return
	}
	// Without since, start from the log as it was when access was checked:
	// an event committed between this read and the socket joining its room
	// (the client may already be acting on its open socket) is still
	// delivered.
	req := realtime.JoinRequest{Kind: realtime.ProjectStream, ID: projectID, UserID: user.ID, Username: user.Username,
		Expires: who.expires, TokenID: who.tokenID}
	if !s.streamParams(w, r, p.LastSeq, false, &req) {
		return
	}
	s.upgrade(w, r, req)
}

// streamParams reads a socket's ?v= and ?since= into req: v is 1 or 2
// (only 2 when v2Only: the notification socket), since a seq from 0 to
// last, which asks for protocol 2 (v=1 with since is refused). Without
// since the socket starts at last. It answers 422 itself and reports false
// for anything else.
func (s *Server) streamParams(w http.ResponseWriter, r *http.Request, last int64, v2Only bool, req *realtime.JoinRequest) bool {
	q := r.URL.Query()
	v, hasV := q["v"]
	rawSince, resume := q["since"]
	switch {
	case hasV && v[0] == "2":
		req.V2 = true
	case hasV && v[0] == "1" && !v2Only && !resume:
	case hasV && v[0] == "1" && !v2Only:
		writeError(w, invalid(issue{Loc: []any{"query", "v"}, Msg: "since needs protocol 2: leave out v or ask v=2", Type: "value_error"}))
		return false
	case hasV && v2Only:
		writeError(w, invalid(issue{Loc: []any{"query", "v"}, Msg: "This socket speaks protocol 2 only: leave out v or ask v=2", Type: "value_error"}))
		return false
	case hasV:
		writeError(w, invalid(issue{Loc: []any{"query", "v"}, Msg: "v must be 1 or 2", Type: "value_error"}))
		return false
	default:
		req.V2 = v2Only || resume
	}
	req.After = last
	if !resume {
		return true
	}
	since, err := strconv.ParseInt(rawSince[0], 10, 64)
	switch {
	case err != nil || since < 0:
		writeError(w, invalid(issue{Loc: []any{"query", "since"}, Msg: "since must be a non-negative integer", Type: "value_error"}))
		return false
	case since > last:
		writeError(w, invalid(issue{Loc: []any{"query", "since"}, Msg: "since is ahead of the newest seq (" + strconv.FormatInt(last, 10) + ")", Type: "value_error"}))
		return false
	}
	req.After, req.Resume, req.V2 = since, true, true
	return true
}

// socketUser authenticates a WebSocket handshake by its ?token= (a login
// JWT or an API token). A bad token is refused with 403 before any
// upgrade, as the seed did; it answers the client itself when it reports
// false.
func (s *Server) socketUser(w http.ResponseWriter, r *http.Request) (caller, bool) {
	who, aerr := s.userForToken(r.Context(), r.URL.Query().Get("token"))
	if aerr == nil {
		return who, true
	}
	if aerr.status < 500 {
		aerr = detail(http.StatusForbidden, "Forbidden")
	}
	writeError(w, aerr)
	return caller{}, false
}

// upgrade completes the WebSocket handshake and hands the socket to the hub.
// A user or address already holding as many sockets as its limit allows is
// refused with 429 before the upgrade.
func (s *Server) upgrade(w http.ResponseWriter, r *http.Request, req realtime.JoinRequest) {
	if !s.originAllowed(r) {
		writeError(w, detail(http.StatusForbidden, "Forbidden"))
		return
	}
	release, refused := s.sockets.acquire(req.UserID, s.clientAddr(r))
	if refused != "" {
		s.metrics.socketsRefused.WithLabelValues(refused).Inc()
		msg := "Too many open WebSockets for this user (limit " + strconv.Itoa(s.sockets.maxUser) + ")"
		if refused == "address" {
			msg = "Too many open WebSockets from this address (limit " + strconv.Itoa(s.sockets.maxAddr) + ")"
		}
		writeError(w, detail(http.StatusTooManyRequests, msg))
		return
	}
	nc, rw, _, err := ws.HTTPUpgrader{Timeout: 10 * time.Second}.Upgrade(r, w)
	if err != nil {
		if nc != nil {
			nc.Close() // the upgrader has answered the client
		}
		release()
		return
	}
	if s.sockets.limited() {
		// The hub closes the socket when it ends, whatever ends it.
		nc = &countedConn{Conn: nc, release: release}
	}
	if n := rw.Reader.Buffered(); n > 0 {
		early, _ := rw.Reader.Peek(n)
		req.Buffered = bytes.Clone(early)
	}
	if err := s.hub.Join(r.Context(), nc, req); err != nil {
		loggerFrom(r.Context(), s.logger).Warn("socket join failed", "stream", req.ID, "err", err)
	}
}

// originAllowed applies CORS_ORIGINS to WebSocket handshakes from
// browsers; clients that send no Origin (servers, scripts) are not
// browsers and pass.
func (s *Server) originAllowed(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" || len(s.cfg.CORSOrigins) == 0 {
		return true
	}
	for _, o := range s.cfg.CORSOrigins {
		if o == "*" || strings.TrimSuffix(o, "/") == origin {
			return true
		}
	}
	return false
}

// socketLimits counts the open WebSockets of each user and of each client
// address on this instance, against Config.WSMaxPerUser and
// Config.WSMaxPerAddr.
type socketLimits struct {
	maxUser, maxAddr int // 0: unlimited

	mu     sync.Mutex // guards byUser and byAddr
	byUser map[int64]int
	byAddr map[string]int
}

func newSocketLimits(maxUser, maxAddr int) *socketLimits {
	return &socketLimits{maxUser: maxUser, maxAddr: maxAddr, byUser: map[int64]int{}, byAddr: map[string]int{}}
}

func (l *socketLimits) limited() bool { return l.maxUser > 0 || l.maxAddr > 0 }

// acquire counts one more socket for user and addr and returns the
// function that uncounts it. When either is at its limit nothing is
// counted, and refused names the limit: "user" or "address".
func (l *socketLimits) acquire(user int64, addr string) (release func(), refused string) {
	if !l.limited() {
		return func() {}, ""
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.maxUser > 0 && l.byUser[user] >= l.maxUser:
		return nil, "user"
	case l.maxAddr > 0 && l.byAddr[addr] >= l.maxAddr:
		return nil, "address"
	}
	l.byUser[user]++
	l.byAddr[addr]++
	return func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		if l.byUser[user]--; l.byUser[user] <= 0 {
			delete(l.byUser, user)
		}
		if l.byAddr[addr]--; l.byAddr[addr] <= 0 {
			delete(l.byAddr, addr)
		}
	}, ""
}

// countedConn is a socket counted against the limits until it is closed.
type countedConn struct {
	net.Conn
	release func()
	once    sync.Once
}

// Close closes the socket and uncounts it; only the first call uncounts.
func (c *countedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}

// SyscallConn exposes the socket's descriptor, which the hub writes to
// without blocking.
func (c *countedConn) SyscallConn() (syscall.RawConn, error) {
	sc, ok := c.Conn.(syscall.Conn)
	if !ok {
		return nil, errors.ErrUnsupported
	}
	return sc.SyscallConn()
}
