package httpapi_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/taskwire/taskwire"
	"github.com/taskwire/taskwire/auth"
	"github.com/taskwire/taskwire/httpapi"
	"github.com/taskwire/taskwire/realtime"
	"github.com/taskwire/taskwire/sqlstore"
	"github.com/taskwire/taskwire/storetest"
)

// env is a whole Taskwire server over a real SQLite file, served by
// httptest over a real socket.
type env struct {
	t      testing.TB
	srv    *httptest.Server
	URL    string
	db     *sqlstore.DB
	svc    *taskwire.Service
	hub    *realtime.Hub
	tokens *auth.Tokens
}

// envSettings are what an envOption may change.
type envSettings struct {
	cfg         httpapi.Config
	hub         realtime.Options
	svc         taskwire.Options
	interceptor interceptor
}

type envOption func(*envSettings)

// interceptor sits between the service and the broker, to lose or delay
// publishes as a broker outage would.
type interceptor interface {
	taskwire.Publisher
	wrap(next taskwire.Publisher)
}

// withBroker puts i between the service and the in-memory broker.
func withBroker(i interceptor) envOption {
	return func(s *envSettings) { s.interceptor = i }
}

func withHubOptions(o realtime.Options) envOption {
	return func(s *envSettings) { s.hub = o }
}

func withServiceOptions(o taskwire.Options) envOption {
	return func(s *envSettings) { s.svc = o }
}

func withConfig(f func(*httpapi.Config)) envOption {
	return func(s *envSettings) { f(&s.cfg) }
}

func newEnv(t testing.TB, opts ...envOption) *env {
	t.Helper()
	ctx := context.Background()
	target := sqlstore.Target{Dialect: "sqlite", Path: filepath.Join(t.TempDir(), "taskwire.db")}
	if os.Getenv("TASKWIRE_TEST_STORE") == "postgres" {
		// The same suite on PostgreSQL (make test runs it both ways).
		target = sqlstore.Target{Dialect: "postgres", DSN: storetest.PostgresURL(t)}
	}
	db, err := sqlstore.Open(ctx, target, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	tokens, err := auth.NewTokens([]byte(strings.Repeat("k", 32)), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	hasher, _ := auth.NewBcrypt(4)
	set := envSettings{
		cfg: httpapi.Config{Version: taskwire.APIVersion, AuthRate: auth.Rate{N: 1000, Period: time.Minute}, AsyncAPI: taskwire.AsyncAPI},
	}
	for _, o := range opts {
		o(&set)
	}
	cfg := set.cfg
	broker := realtime.NewMemoryBroker()
	var pub taskwire.Publisher = realtime.Publisher{Broker: broker}
	if set.interceptor != nil {
		set.interceptor.wrap(pub)
		pub = set.interceptor
	}
	svc := taskwire.NewService(db, pub, nil, hasher, set.svc)
	logger := slog.New(slog.DiscardHandler)
	hub := realtime.NewHub(logger, svc, broker, set.hub)
	hubCtx, stopHub := context.WithCancel(ctx)
	hubDone := make(chan struct{})
	go func() { defer close(hubDone); hub.Run(hubCtx) }()
	api := httpapi.New(logger, svc, tokens, hub, map[string]httpapi.ReadyCheck{"database": db.Ping}, prometheus.NewRegistry(), cfg)
	srv := httptest.NewServer(api.Handler())
	e := &env{t: t, srv: srv, URL: srv.URL, db: db, svc: svc, hub: hub, tokens: tokens}
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		_ = hub.Shutdown(sctx)
		srv.Close()
		stopHub()
		<-hubDone
		db.Close()
	})
	return e
}

// response is a decoded answer.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into v.
func (r response) JSON(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
}

// do sends a request; body may be nil, a string (sent as is) or a value
// (sent as JSON). token may be empty.
func (e *env) do(method, path, token string, body any, headers ...string) response {
	e.t.Helper()
	r, err := sendRaw(e.URL, method, path, token, body, headers...)
	if err != nil {
		e.t.Fatal(err)
	}
	return r
}

// user signs up and logs in a user, returning its id and token.
func (e *env) user(name string) (int64, string) {
	e.t.Helper()
	r := e.do("POST", "/api/v1/auth/signup", "", map[string]string{"email": name + "@example.com", "username": name, "password": "password123"})
	if r.Status != http.StatusCreated {
		e.t.Fatalf("signup %s: %d %s", name, r.Status, r.Body)
	}
	var u struct{ ID int64 }
	r.JSON(e.t, &u)
	r = e.do("POST", "/api/v1/auth/login", "", url.Values{"username": {name}, "password": {"password123"}})
	if r.Status != http.StatusOK {
		e.t.Fatalf("login %s: %d %s", name, r.Status, r.Body)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	r.JSON(e.t, &tok)
	return u.ID, tok.AccessToken
}

// project creates a project owned by token's user, with the given members.
func (e *env) project(token string, members ...int64) int64 {
	e.t.Helper()
	r := e.do("POST", "/api/v1/projects/", token, map[string]string{"name": "Project"})
	if r.Status != http.StatusCreated {
		e.t.Fatalf("create project: %d %s", r.Status, r.Body)
	}
	var p struct{ ID int64 }
	r.JSON(e.t, &p)
	for _, m := range members {
		r := e.do("POST", "/api/v1/projects/"+itoa(p.ID)+"/members", token, map[string]int64{"user_id": m})
		if r.Status != http.StatusCreated {
			e.t.Fatalf("add member: %d %s", r.Status, r.Body)
		}
	}
	return p.ID
}

// task creates a task in a project.
func (e *env) task(token string, projectID int64, title string) taskwire.Task {
	e.t.Helper()
	r := e.do("POST", "/api/v1/projects/"+itoa(projectID)+"/tasks", token, map[string]string{"title": title})
	if r.Status != http.StatusCreated {
		e.t.Fatalf("create task: %d %s", r.Status, r.Body)
	}
	var t taskwire.Task
	r.JSON(e.t, &t)
	return t
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
