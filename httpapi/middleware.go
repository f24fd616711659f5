package httpapi

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"
	"github.com/taskwire/taskwire"
)

type ctxKey int

const (
	loggerKey ctxKey = iota
	callerKey
	requestKey
	routeKey
)

// loggerFrom returns the request's logger (carrying its request id).
func loggerFrom(ctx context.Context, fallback *slog.Logger) *slog.Logger {
	if l, ok := ctx.Value(loggerKey).(*slog.Logger); ok {
		return l
	}
	return fallback
}

// userFrom returns the authenticated caller; authenticate guarantees one
// on every operation with security requirements.
func userFrom(ctx context.Context) taskwire.User {
	c, _ := ctx.Value(callerKey).(caller)
	return c.user
}

// apiTokenFrom returns the id of the API token the caller authenticated
// with, or 0 for a login token.
func apiTokenFrom(ctx context.Context) int64 {
	c, _ := ctx.Value(callerKey).(caller)
	return c.tokenID
}

// requestFrom returns the *http.Request behind a huma handler's context.
func requestFrom(ctx context.Context) *http.Request {
	r, _ := ctx.Value(requestKey).(*http.Request)
	return r
}

// statusWriter records the status and size of a response.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Hijack hands the connection to a WebSocket upgrade, which answers 101
// itself; the log records that.
func (w *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, rw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err == nil {
		w.status = http.StatusSwitchingProtocols
	}
	return conn, rw, err
}

// logRequests gives every request an id (X-Request-ID, kept if the client
// sent a sane one), a logger carrying it, and one log line when it ends.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-ID")
		if !saneRequestID(id) {
			var b [8]byte
			_, _ = rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		w.Header().Set("X-Request-ID", id)
		logger := s.logger.With("request_id", id)
		route := "unmatched" // set by jsonFallbacks
		ctx := context.WithValue(r.Context(), loggerKey, logger)
		ctx = context.WithValue(ctx, routeKey, &route)
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r.WithContext(ctx))
		elapsed := time.Since(start)
		s.metrics.observe(route, sw.status, elapsed)
		if logger.Enabled(ctx, slog.LevelInfo) {
			logger.LogAttrs(ctx, slog.LevelInfo, "request",
				slog.String("method", r.Method), slog.String("path", loggedPath(r.URL.Path)),
				slog.Int("status", sw.status), slog.Int("bytes", sw.bytes),
				slog.Duration("took", elapsed), slog.String("remote", r.RemoteAddr))
		}
	})
}

// loggedPath is a request's path as the log shows it: an invitation link's
// token is a secret (only its hash is stored), so it is left out.
func loggedPath(p string) string {
	if rest, ok := strings.CutPrefix(p, "/app/invite/"); ok && rest != "" {
		return "/app/invite/…"
	}
	return p
}

func saneRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range id {
		if !(c == '-' || c == '_' || c == '.' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// recoverPanics answers 500 instead of dropping the connection, and logs.
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				loggerFrom(r.Context(), s.logger).Error("panic", "panic", p)
				writeError(w, detail(http.StatusInternalServerError, "Internal Server Error"))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// exposedHeaders are the response headers a browser client may read.
const exposedHeaders = "ETag, Link, Retry-After, X-Request-ID, X-Unread-Count, WWW-Authenticate"

// cors answers preflights and marks responses for allowed origins.
func (s *Server) cors(next http.Handler) http.Handler {
	anyOrigin := len(s.cfg.CORSOrigins) == 0
	allowed := map[string]bool{}
	for _, o := range s.cfg.CORSOrigins {
		if o == "*" {
			anyOrigin = true
		}
		allowed[strings.TrimSuffix(o, "/")] = true
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin == "" {
			next.ServeHTTP(w, r)
			return
		}
		h := w.Header()
		h.Add("Vary", "Origin")
		if anyOrigin {
			h.Set("Access-Control-Allow-Origin", "*")
		} else if allowed[origin] {
			h.Set("Access-Control-Allow-Origin", origin)
		} else {
			next.ServeHTTP(w, r)
			return
		}
		h.Set("Access-Control-Expose-Headers", exposedHeaders)
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			h.Set("Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE, OPTIONS")
			if rh := r.Header.Get("Access-Control-Request-Headers"); rh != "" {
				h.Set("Access-Control-Allow-Headers", rh)
			}
			h.Set("Access-Control-Max-Age", "600")
			w.WriteHeader(http.StatusOK)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// jsonFallbacks answers unknown paths and methods with the seed's JSON
// bodies instead of ServeMux's plain text.
type jsonFallbacks struct{ mux *http.ServeMux }

func (j jsonFallbacks) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if _, pattern := j.mux.Handler(r); pattern != "" {
		if route, ok := r.Context().Value(routeKey).(*string); ok {
			*route = pattern
		}
		j.mux.ServeHTTP(w, r)
		return
	}
	j.mux.ServeHTTP(&fallbackWriter{ResponseWriter: w}, r)
}

// fallbackWriter replaces the mux's 404/405 text with JSON.
type fallbackWriter struct {
	http.ResponseWriter
	replaced bool
}

func (f *fallbackWriter) WriteHeader(code int) {
	if code == http.StatusNotFound || code == http.StatusMethodNotAllowed {
		f.replaced = true
		f.Header().Del("X-Content-Type-Options")
		writeError(f.ResponseWriter, detail(code, http.StatusText(code)))
		return
	}
	f.ResponseWriter.WriteHeader(code)
}

func (f *fallbackWriter) Write(b []byte) (int, error) {
	if f.replaced {
		return len(b), nil
	}
	return f.ResponseWriter.Write(b)
}

// requestInfo is a huma middleware that gives handlers the *http.Request
// (its URL for Link headers, its address for rate limits).
func (s *Server) requestInfo(ctx huma.Context, next func(huma.Context)) {
	r, _ := humago.Unwrap(ctx)
	next(huma.WithValue(ctx, requestKey, r))
}

// authenticate is a huma middleware that requires a valid bearer token on
// every operation that declares security, and puts the caller in context.
func (s *Server) authenticate(ctx huma.Context, next func(huma.Context)) {
	if len(ctx.Operation().Security) == 0 {
		next(ctx)
		return
	}
	c, err := s.bearer(ctx.Context(), ctx.Header("Authorization"))
	if err != nil {
		ctx.SetHeader("WWW-Authenticate", "Bearer")
		_ = huma.WriteErr(s.api, ctx, err.status, err.Detail.(string))
		return
	}
	next(huma.WithValue(ctx, callerKey, c))
}

// bearer resolves an Authorization header to a user.
func (s *Server) bearer(ctx context.Context, header string) (caller, *apiError) {
	scheme, token, _ := strings.Cut(header, " ")
	if header == "" || !strings.EqualFold(scheme, "bearer") || strings.TrimSpace(token) == "" {
		return caller{}, detail(http.StatusUnauthorized, "Not authenticated")
	}
	return s.userForToken(ctx, strings.TrimSpace(token))
}

// caller is who a credential authenticates.
type caller struct {
	user taskwire.User
	// expires is when the credential stops working (zero: never).
	expires time.Time
	// tokenID is the API token used (0: a login JWT).
	tokenID int64
}

// userForToken verifies a login JWT or an API token (tw_...) and loads its
// user. An API token is looked up on every request, never cached, so its
// revocation or its user's deletion takes effect at once on every
// instance; a JWT's user is cached for a short while.
func (s *Server) userForToken(ctx context.Context, token string) (caller, *apiError) {
	bad := detail(http.StatusUnauthorized, "Could not validate credentials")
	if taskwire.IsAPIToken(token) {
		u, t, err := s.svc.AuthenticateAPIToken(ctx, token)
		if taskwire.ErrorKind(err) == taskwire.Unauthenticated {
			return caller{}, bad
		}
		if err != nil {
			return caller{}, fromDomain(loggerFrom(ctx, s.logger), err)
		}
		c := caller{user: u, tokenID: t.ID}
		if t.ExpiresAt != nil {
			c.expires = *t.ExpiresAt
		}
		return c, nil
	}
	claims, err := s.tokens.Verify(token)
	if err != nil {
		return caller{}, bad
	}
	now := time.Now()
	if u, ok := s.users.get(claims.UserID, now); ok {
		return caller{user: u, expires: claims.ExpiresAt}, nil
	}
	u, err := s.svc.User(ctx, claims.UserID)
	if err == nil {
		s.users.put(u, now)
	}
	if taskwire.ErrorKind(err) == taskwire.NotFound {
		return caller{}, bad
	}
	if err != nil {
		return caller{}, fromDomain(loggerFrom(ctx, s.logger), err)
	}
	return caller{user: u, expires: claims.ExpiresAt}, nil
}

// clientAddr is the address rate limits count against.
func (s *Server) clientAddr(r *http.Request) string {
	if s.cfg.TrustProxy {
		// The last address is the one our proxy saw; those before it are
		// the client's own say and could be anything.
		if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
			last := xff[len(xff)-1]
			if i := strings.LastIndexByte(last, ','); i >= 0 {
				last = last[i+1:]
			}
			if ip := net.ParseIP(strings.TrimSpace(last)); ip != nil {
				return ip.String()
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// retryAfter renders a wait as whole seconds, rounded up.
func retryAfter(d time.Duration) string {
	return strconv.FormatInt(int64((d+time.Second-1)/time.Second), 10)
}
