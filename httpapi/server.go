// Package httpapi serves Taskwire's REST API, its WebSocket endpoints and
// its documentation. It is the only package that speaks net/http.
package httpapi

import (
	"context"
	jsonv2 "encoding/json/v2"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/taskwire/taskwire"
	"github.com/taskwire/taskwire/auth"
	"github.com/taskwire/taskwire/realtime"
)

// Config holds the HTTP layer's settings.
type Config struct {
	// Version is reported in the OpenAPI document.
	Version string
	// CORSOrigins lists allowed browser origins; ["*"] allows any origin
	// (without credentials).
	CORSOrigins []string
	// AuthRate limits signup and login per client address, each separately.
	AuthRate auth.Rate
	// TrustProxy takes the client address from X-Forwarded-For.
	TrustProxy bool
	// WSMaxPerUser and WSMaxPerAddr bound the WebSockets one user, and one
	// client address, may hold open on this instance; 0 is unlimited.
	WSMaxPerUser int
	WSMaxPerAddr int
	// RedocScriptURL is where /redoc loads ReDoc from.
	RedocScriptURL string
	// AsyncAPI is the WebSocket protocol document served at /asyncapi.yaml.
	AsyncAPI []byte
	// Limiters, when set, counts signup and login requests (shared between
	// instances through Redis); by default each instance counts in memory.
	Limiters func(route string, rate auth.Rate) Limiter
	// App, when set, serves the web app under /app/ (package web).
	App http.Handler
}

// Limiter counts requests per key (a client address) against a rate.
type Limiter interface {
	// Allow counts one request; when over the rate it answers false and
	// how long until the key may try again.
	Allow(ctx context.Context, key string) (ok bool, retryAfter time.Duration)
	Rate() auth.Rate
}

// memoryLimiter is one instance's Limiter.
type memoryLimiter struct{ *auth.Limiter }

func (m memoryLimiter) Allow(_ context.Context, key string) (bool, time.Duration) {
	return m.Limiter.Allow(key)
}

// ReadyCheck reports whether a dependency (database, broker) answers.
type ReadyCheck func(ctx context.Context) error

// Server is Taskwire's HTTP front.
type Server struct {
	logger   *slog.Logger
	svc      *taskwire.Service
	tokens   *auth.Tokens
	hub      *realtime.Hub
	ready    map[string]ReadyCheck
	cfg      Config
	metrics  *metrics
	registry *prometheus.Registry

	users       *userCache
	sockets     *socketLimits
	signupLimit Limiter
	loginLimit  Limiter

	mux *http.ServeMux
	api huma.API
}

// New returns a Server with every route registered.
func New(logger *slog.Logger, svc *taskwire.Service, tokens *auth.Tokens, hub *realtime.Hub,
	ready map[string]ReadyCheck, reg *prometheus.Registry, cfg Config) *Server {
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	installErrors(logger)
	if cfg.RedocScriptURL == "" {
		cfg.RedocScriptURL = DefaultRedocScriptURL
	}
	if cfg.AuthRate.N == 0 {
		cfg.AuthRate, _ = auth.ParseRate("5/minute")
	}
	s := &Server{
		logger:      logger,
		svc:         svc,
		tokens:      tokens,
		hub:         hub,
		ready:       ready,
		cfg:         cfg,
		metrics:     newMetrics(reg),
		registry:    reg,
		users:       newUserCache(30*time.Second, 100_000),
		sockets:     newSocketLimits(cfg.WSMaxPerUser, cfg.WSMaxPerAddr),
		signupLimit: memoryLimiter{auth.NewLimiter(cfg.AuthRate)},
		loginLimit:  memoryLimiter{auth.NewLimiter(cfg.AuthRate)},
		mux:         http.NewServeMux(),
	}
	if cfg.Limiters != nil {
		s.signupLimit, s.loginLimit = cfg.Limiters("signup", cfg.AuthRate), cfg.Limiters("login", cfg.AuthRate)
	}
	s.api = huma.NewAPI(apiConfig(cfg.Version), &adapter{mux: s.mux})
	s.api.UseMiddleware(s.requestInfo, s.authenticate)
	s.routes()
	// huma cannot derive the login form's schema from a raw body.
	s.api.OpenAPI().Paths["/api/v1/auth/login"].Post.RequestBody.Content = map[string]*huma.MediaType{
		"application/x-www-form-urlencoded": {Schema: loginFormSchema()},
	}
	return s
}

var installOnce sync.Once

// installErrors points huma's error constructors at apiError. huma keeps
// them in package variables; every Server installs the same functions.
func installErrors(logger *slog.Logger) {
	installOnce.Do(func() {
		ctor := newErrorWithContext(func(ctx huma.Context) *slog.Logger { return loggerFrom(ctx.Context(), logger) })
		huma.NewErrorWithContext = ctor
		huma.NewError = func(status int, msg string, errs ...error) huma.StatusError {
			return ctor(nil, status, msg, errs...)
		}
	})
}

func apiConfig(version string) huma.Config {
	cfg := huma.DefaultConfig("Taskwire", version)
	cfg.Info.Description = "Real-time team collaboration and notification server. " +
		"Drop-in compatible with the seed FastAPI service's REST and WebSocket API; " +
		"the WebSocket protocol is described in /asyncapi.yaml."
	cfg.CreateHooks = nil // no $schema links in response bodies
	// Bodies are decoded with encoding/json/v2: member names match exactly
	// (as FastAPI's do; v1 would let "TITLE" set title), duplicate names
	// and invalid UTF-8 are refused.
	strict := huma.Format{Marshal: huma.DefaultJSONFormat.Marshal, Unmarshal: func(data []byte, v any) error { return jsonv2.Unmarshal(data, v) }}
	cfg.Formats = map[string]huma.Format{"application/json": strict, "json": strict}
	cfg.OpenAPIPath = "/openapi"
	cfg.DocsPath = ""
	cfg.SchemasPath = ""
	cfg.Components.SecuritySchemes = map[string]*huma.SecurityScheme{
		"OAuth2PasswordBearer": {
			Type: "oauth2",
			Flows: &huma.OAuthFlows{Password: &huma.OAuthFlow{
				TokenURL: "/api/v1/auth/login",
				Scopes:   map[string]string{},
			}},
		},
	}
	return cfg
}

// OpenAPI returns the generated OpenAPI document.
func (s *Server) OpenAPI() *huma.OpenAPI { return s.api.OpenAPI() }

// Handler returns the root handler with the middleware chain.
func (s *Server) Handler() http.Handler {
	var h http.Handler = jsonFallbacks{s.mux}
	h = s.browserHome(h)
	h = s.cors(h)
	h = s.recoverPanics(h)
	h = s.logRequests(h)
	return h
}

// adapter registers huma operations on a ServeMux. Unlike humago's own, it
// makes a path with a trailing slash match exactly ("/projects/" does not
// swallow "/projects/x/y").
type adapter struct{ mux *http.ServeMux }

func (a *adapter) Handle(op *huma.Operation, handler func(huma.Context)) {
	path := op.Path
	if strings.HasSuffix(path, "/") {
		path += "{$}"
	}
	a.mux.HandleFunc(strings.ToUpper(op.Method)+" "+path, func(w http.ResponseWriter, r *http.Request) {
		handler(humago.NewContext(op, r, w))
	})
}

func (a *adapter) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.mux.ServeHTTP(w, r) }
