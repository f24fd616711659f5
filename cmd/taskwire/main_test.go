package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/taskwire/taskwire/internal/app"
)

// instance is the real program running on :0.
type instance struct {
	URL    string
	stop   context.CancelFunc
	done   chan error
	stderr *lockedBuffer
}

func start(t *testing.T, env map[string]string) *instance {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	getenv := func(k string) string { return env[k] }
	pr, pw := io.Pipe()
	inst := &instance{stop: cancel, done: make(chan error, 1), stderr: &lockedBuffer{}}
	go func() {
		err := run(ctx, []string{"taskwire", "serve"}, getenv, pw, inst.stderr)
		pw.CloseWithError(errors.New("exited"))
		inst.done <- err
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("server did not start: %v\n%s", err, inst.stderr)
	}
	go io.Copy(io.Discard, pr)
	inst.URL = strings.TrimSpace(strings.TrimPrefix(line, "taskwire listening on "))
	t.Cleanup(func() { inst.shutdown(t) })
	return inst
}

func (i *instance) shutdown(t *testing.T) {
	t.Helper()
	if i.stop == nil {
		return
	}
	i.stop()
	i.stop = nil
	select {
	case err := <-i.done:
		if err != nil {
			t.Errorf("run: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Error("server did not stop within 15s")
	}
}

func baseEnv(t *testing.T) map[string]string {
	return map[string]string{
		"PORT":         "0",
		"DATABASE_URL": "sqlite:///" + filepath.Join(t.TempDir(), "e2e.db"),
		"BCRYPT_COST":  "4",
		"LOG_LEVEL":    "warn",
	}
}

type client struct {
	t    *testing.T
	base string
}

func (c client) call(method, path, token string, body any, want int) map[string]any {
	c.t.Helper()
	var rd io.Reader
	ct := "application/json"
	if form, ok := body.(url.Values); ok {
		rd, ct = strings.NewReader(form.Encode()), "application/x-www-form-urlencoded"
	} else if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.base+path, rd)
	req.Header.Set("Content-Type", ct)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode != want {
		c.t.Fatalf("%s %s: status %d, want %d: %s", method, path, res.StatusCode, want, raw)
	}
	out := map[string]any{}
	_ = json.Unmarshal(raw, &out)
	return out
}

func (c client) signupLogin(name string) (float64, string) {
	c.t.Helper()
	u := c.call("POST", "/api/v1/auth/signup", "", map[string]string{"email": name + "@example.com", "username": name, "password": "password123"}, 201)
	tok := c.call("POST", "/api/v1/auth/login", "", url.Values{"username": {name}, "password": {"password123"}}, 200)
	if tok["token_type"] != "bearer" {
		c.t.Fatalf("token_type %v", tok["token_type"])
	}
	return u["id"].(float64), tok["access_token"].(string)
}

// TestSeedFlow plays the seed service's flow against the real program with
// a real WebSocket client, then stops the program and expects a 1001 close.
func TestSeedFlow(t *testing.T) {
	inst := start(t, baseEnv(t))
	c := client{t: t, base: inst.URL}
	ownerID, ownerTok := c.signupLogin("owner")
	memberID, memberTok := c.signupLogin("member")

	p := c.call("POST", "/api/v1/projects/", ownerTok, map[string]string{"name": "Launch"}, 201)
	if p["owner_id"] != ownerID {
		t.Fatalf("owner_id %v, want %v", p["owner_id"], ownerID)
	}
	pid := itoa(p["id"])
	c.call("POST", "/api/v1/projects/"+pid+"/members", ownerTok, map[string]any{"user_id": memberID}, 201)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	wsURL := strings.Replace(inst.URL, "http", "ws", 1) + "/ws/projects/" + pid + "?token=" + memberTok
	ws, _, err := websocket.Dial(ctx, wsURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()

	task := c.call("POST", "/api/v1/projects/"+pid+"/tasks", ownerTok, map[string]string{"title": "Write the launch post"}, 201)
	tid := itoa(task["id"])
	c.call("PATCH", "/api/v1/tasks/"+tid+"/status", ownerTok, map[string]string{"status": "in_progress"}, 200)
	c.call("PUT", "/api/v1/tasks/"+tid, ownerTok, map[string]any{"assignee_id": memberID}, 200)

	want := []struct {
		event string
		check func(data map[string]any) bool
	}{
		{"task_created", func(d map[string]any) bool {
			return d["title"] == "Write the launch post" && d["status"] == "todo" && itoa(d["project_id"]) == pid
		}},
		{"status_changed", func(d map[string]any) bool { return itoa(d["id"]) == tid && d["status"] == "in_progress" }},
		{"task_updated", func(d map[string]any) bool { return itoa(d["id"]) == tid && d["assignee_id"] == memberID }},
	}
	var lastSeq float64
	for _, w := range want {
		_, msg, err := ws.Read(ctx)
		if err != nil {
			t.Fatalf("waiting for %s: %v", w.event, err)
		}
		var ev struct {
			Event   string         `json:"event"`
			Data    map[string]any `json:"data"`
			Seq     float64        `json:"seq"`
			Project float64        `json:"project_id"`
			TS      string         `json:"ts"`
			Actor   float64        `json:"actor_id"`
		}
		if err := json.Unmarshal(msg, &ev); err != nil {
			t.Fatal(err)
		}
		if ev.Event != w.event || !w.check(ev.Data) {
			t.Fatalf("got %s, want %s with the right fields", msg, w.event)
		}
		if ev.Seq != lastSeq+1 && lastSeq != 0 || ev.Actor != ownerID || itoa(ev.Project) != pid {
			t.Fatalf("bad envelope %s (previous seq %v)", msg, lastSeq)
		}
		if _, err := time.Parse(time.RFC3339, ev.TS); err != nil {
			t.Fatalf("ts %q: %v", ev.TS, err)
		}
		lastSeq = ev.Seq
	}

	// A stranger is refused at the handshake.
	_, strangerTok := c.signupLogin("stranger")
	_, res, err := websocket.Dial(ctx, strings.Replace(wsURL, memberTok, strangerTok, 1), nil)
	if err == nil || res == nil || res.StatusCode != http.StatusForbidden {
		t.Fatalf("stranger's socket: err %v, response %v", err, res)
	}

	// Shutdown closes the socket with 1001.
	inst.shutdown(t)
	_, _, err = ws.Read(ctx)
	if got := websocket.CloseStatus(err); got != websocket.StatusGoingAway {
		t.Fatalf("close status %v (%v), want 1001", got, err)
	}
}

func TestSecretPersistsAcrossRestarts(t *testing.T) {
	env := baseEnv(t)
	first := start(t, env)
	c := client{t: t, base: first.URL}
	_, tok := c.signupLogin("ada")
	first.shutdown(t)

	second := start(t, env)
	client{t: t, base: second.URL}.call("GET", "/api/v1/users/me", tok, nil, 200)
	path := strings.TrimPrefix(env["DATABASE_URL"], "sqlite:///") + ".secret"
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("secret file mode %v, want 0600", st.Mode().Perm())
	}
}

func TestBadConfigFailsWithOneLine(t *testing.T) {
	for _, tc := range []struct{ key, value string }{
		{"JWT_TTL", "forever"},
		{"PORT", "http"},
		{"DATABASE_URL", "mysql://x"},
		{"BCRYPT_COST", "99"},
		{"RATE_LIMIT_AUTH", "lots"},
		{"JWT_SECRET", "short"},
		{"CORS_ORIGINS", "example.com"},
		{"REDIS_URL", "http://127.0.0.1:6379"},
		{"SMTP_URL", "ftp://mail"},
		{"INVITATION_TTL", "0"},
		{"WEBHOOK_TIMEOUT", "2m"},
		{"WEBHOOK_MAX_ATTEMPTS", "0"},
		{"WEBHOOK_ALLOW_PRIVATE", "maybe"},
		{"WS_IO", "epoll"},
	} {
		t.Run(tc.key, func(t *testing.T) {
			env := baseEnv(t)
			env[tc.key] = tc.value
			var stderr bytes.Buffer
			err := run(context.Background(), []string{"taskwire"}, func(k string) string { return env[k] }, io.Discard, &stderr)
			if err == nil || !strings.Contains(err.Error(), tc.key) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("err = %v, want one line naming %s", err, tc.key)
			}
		})
	}
}

func TestFlagOverridesEnv(t *testing.T) {
	cfg, err := app.LoadConfig([]string{"--jwt-ttl", "3s"}, func(k string) string {
		return map[string]string{"JWT_TTL": "1h"}[k]
	}, io.Discard)
	if err != nil || cfg.JWTTTL != 3*time.Second {
		t.Fatalf("cfg.JWTTTL = %v, err %v", cfg.JWTTTL, err)
	}
}

func TestMigrateAndVersion(t *testing.T) {
	env := baseEnv(t)
	var out bytes.Buffer
	if err := run(context.Background(), []string{"taskwire", "migrate"}, func(k string) string { return env[k] }, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "migrations applied") {
		t.Fatalf("migrate printed %q", out.String())
	}
	out.Reset()
	if err := run(context.Background(), []string{"taskwire", "version"}, func(string) string { return "" }, &out, io.Discard); err != nil || !strings.HasPrefix(out.String(), "taskwire ") {
		t.Fatalf("version: %q %v", out.String(), err)
	}
}

// TestOpenAPIFileIsCurrent fails when openapi.json at the repository root
// differs from the document the code serves. Regenerate with `make openapi`.
func TestOpenAPIFileIsCurrent(t *testing.T) {
	var served bytes.Buffer
	if err := printOpenAPI(&served); err != nil {
		t.Fatal(err)
	}
	committed, err := os.ReadFile("../../openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	var a, b any
	if err := json.Unmarshal(served.Bytes(), &a); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(committed, &b); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Fatal("openapi.json is out of date with the code; run `make openapi` and commit it")
	}
}

func itoa(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// lockedBuffer lets the server write logs while the test reads them.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
