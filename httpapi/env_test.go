package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/taskwire/taskwire"
	"github.com/taskwire/taskwire/auth"
	"github.com/taskwire/taskwire/internal/app"
	"github.com/taskwire/taskwire/realtime"
	"github.com/taskwire/taskwire/sqlstore"
	"github.com/taskwire/taskwire/storetest"
)

// env is a whole Taskwire server — the application cmd/taskwire runs,
// built by internal/app from its configuration — over a real SQLite file
// (or PostgreSQL with TASKWIRE_TEST_STORE=postgres), serving on a real
// socket.
type env struct {
	t      testing.TB
	app    *app.App
	URL    string
	db     *sqlstore.DB
	svc    *taskwire.Service
	hub    *realtime.Hub
	tokens *auth.Tokens
}

// envSettings are what an envOption may change.
type envSettings struct {
	vars        map[string]string // configuration, as environment variables
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

// withEnv sets configuration variables (name, value, name, value, ...),
// as an operator would.
func withEnv(kv ...string) envOption {
	return func(s *envSettings) {
		for i := 0; i+1 < len(kv); i += 2 {
			s.vars[kv[i]] = kv[i+1]
		}
	}
}

func newEnv(t testing.TB, opts ...envOption) *env {
	t.Helper()
	set := envSettings{vars: map[string]string{
		"ADDR":            "127.0.0.1:0",
		"DATABASE_URL":    "sqlite:///" + filepath.Join(t.TempDir(), "taskwire.db"),
		"JWT_SECRET":      string(testSecret),
		"JWT_TTL":         "1h",
		"BCRYPT_COST":     "4",
		"RATE_LIMIT_AUTH": "1000/minute",
		// Tests open many sockets from one address; the limits' own tests
		// set them.
		"WS_MAX_PER_USER": "0",
		"WS_MAX_PER_ADDR": "0",
		"SHUTDOWN_GRACE":  "5s",
	}}
	if os.Getenv("TASKWIRE_TEST_STORE") == "postgres" {
		// The same suite on PostgreSQL (make test runs it both ways).
		set.vars["DATABASE_URL"] = storetest.PostgresURL(t)
	}
	if v := os.Getenv("TASKWIRE_TEST_WS_IO"); v != "" {
		// The socket tests again on the other way of writing sockets
		// (make test runs them both ways).
		set.vars["WS_IO"] = v
	}
	for _, o := range opts {
		o(&set)
	}
	cfg, err := app.LoadConfig(nil, func(k string) string { return set.vars[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var aopts app.Options
	if i := set.interceptor; i != nil {
		aopts.WrapPublisher = func(next taskwire.Publisher) taskwire.Publisher {
			i.wrap(next)
			return i
		}
	}
	a, err := app.New(context.Background(), cfg, aopts)
	if err != nil {
		t.Fatal(err)
	}
	ran := make(chan error, 1)
	go func() { ran <- a.Run(context.Background()) }()
	e := &env{t: t, app: a, URL: a.URL(), db: a.Store(), svc: a.Service(), hub: a.Hub(), tokens: a.Tokens()}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		if err := a.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if err := <-ran; err != nil {
			t.Errorf("run: %v", err)
		}
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
