package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/taskwire/taskwire/internal/smtptest"
	"github.com/taskwire/taskwire/internal/testenv"
	"github.com/taskwire/taskwire/realtime"
	"github.com/taskwire/taskwire/storetest"
)

// The multi-instance suite runs several real taskwire processes on one
// PostgreSQL and one Redis, as a load balancer would see them.

// redisURL returns TASKWIRE_TEST_REDIS_URL; the test is skipped without it,
// or fails when TASKWIRE_REQUIRE_SERVICES=1.
func redisURL(t *testing.T) string {
	t.Helper()
	return testenv.Service(t, "TASKWIRE_TEST_REDIS_URL")
}

// buildBinary builds the program into a temporary directory.
func buildBinary(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build the binary:", err)
	}
	bin := filepath.Join(t.TempDir(), "taskwire")
	if out, err := exec.Command(goBin, "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// proc is a running taskwire process.
type proc struct {
	URL    string
	cmd    *exec.Cmd
	exited chan struct{}
	stderr *lockedBuffer
}

func startProc(t *testing.T, bin string, env map[string]string) *proc {
	t.Helper()
	cmd := exec.Command(bin, "serve")
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	if v := os.Getenv("TASKWIRE_TEST_WS_IO"); v != "" && env["WS_IO"] == "" {
		// make test runs the crash suite again on the other way of
		// writing sockets.
		cmd.Env = append(cmd.Env, "WS_IO="+v)
	}
	p := &proc{cmd: cmd, exited: make(chan struct{}), stderr: &lockedBuffer{}}
	cmd.Stderr = p.stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() { p.kill() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("taskwire did not start: %v\n%s", err, p.stderr)
	}
	go io.Copy(io.Discard, stdout)
	p.URL = strings.TrimSpace(strings.TrimPrefix(line, "taskwire listening on "))
	return p
}

// kill sends SIGKILL: no graceful anything.
func (p *proc) kill() {
	_ = p.cmd.Process.Kill()
	<-p.exited
}

// multiEnv is the environment of instances sharing one PostgreSQL schema
// and one Redis key prefix, fresh for the test.
func multiEnv(t *testing.T, redis string) map[string]string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return map[string]string{
		"PORT":            "0",
		"DATABASE_URL":    storetest.PostgresURL(t),
		"REDIS_URL":       redis,
		"REDIS_PREFIX":    "twtest" + hex.EncodeToString(b[:]) + ":",
		"JWT_SECRET":      strings.Repeat("s", 40),
		"BCRYPT_COST":     "4",
		"LOG_LEVEL":       "warn",
		"RATE_LIMIT_AUTH": "1000/minute",
		// Heartbeats often enough that every reader checks some.
		"WS_HEARTBEAT_INTERVAL": "100ms",
	}
}

// reader follows one project room, through reconnections, and records
// every seq it receives.
type reader struct {
	t    *testing.T
	pid  string
	tok  string
	mu   sync.Mutex
	seqs []int64
	// beats counts the caught_up and heartbeat messages received; ahead
	// lists those that named a seq past the last event received, which
	// would mean the socket skipped events it says it sent.
	beats int
	ahead []string
}

func (r *reader) last() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.lastLocked()
}

// lastLocked is last with r.mu held.
func (r *reader) lastLocked() int64 {
	if len(r.seqs) == 0 {
		return 0
	}
	return r.seqs[len(r.seqs)-1]
}

// controlProblems describes the caught_up and heartbeat messages that
// named a seq the reader had not been sent; "" when there are none.
func (r *reader) controlProblems() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.ahead) == 0 {
		return ""
	}
	return fmt.Sprintf("%d of %d caught_up/heartbeat messages were ahead of the events: %v", len(r.ahead), r.beats, r.ahead[:min(5, len(r.ahead))])
}

func (r *reader) got() []int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.seqs)
}

// follow reads from base's room (resuming after the last seq seen) until
// the socket fails or ctx ends.
func (r *reader) follow(ctx context.Context, base string) error {
	u := strings.Replace(base, "http", "ws", 1) + "/ws/projects/" + r.pid + "?token=" + r.tok + "&since=" + strconv.FormatInt(r.last(), 10)
	ws, _, err := websocket.Dial(ctx, u, nil)
	if err != nil {
		return err
	}
	defer ws.CloseNow()
	for {
		_, msg, err := ws.Read(ctx)
		if err != nil {
			return err
		}
		var ev struct {
			Event string `json:"event"`
			Seq   int64  `json:"seq"`
		}
		if json.Unmarshal(msg, &ev) != nil {
			continue
		}
		r.mu.Lock()
		switch {
		case control(ev.Event):
			r.beats++
			if last := r.lastLocked(); ev.Seq > last {
				r.ahead = append(r.ahead, fmt.Sprintf("%s seq %d after event %d", ev.Event, ev.Seq, last))
			}
		case ev.Seq > 0:
			r.seqs = append(r.seqs, ev.Seq)
		}
		r.mu.Unlock()
	}
}

// control reports protocol 2's control messages (caught_up, heartbeat),
// whose seq names a point in the stream, not an event.
func control(event string) bool {
	return event == realtime.TypeCaughtUp || event == realtime.TypeHeartbeat
}

// wantAll checks that r saw 1..n exactly once, in order.
func (r *reader) wantAll(t *testing.T, n int64) {
	t.Helper()
	got := r.got()
	want := make([]int64, n)
	for i := range want {
		want[i] = int64(i) + 1
	}
	if !slices.Equal(got, want) {
		t.Fatalf("reader got %d seqs %v, want 1..%d exactly once in order", len(got), got, n)
	}
	if p := r.controlProblems(); p != "" {
		t.Fatal(p)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.beats < 2 {
		t.Fatalf("reader got %d caught_up/heartbeat messages, want caught_up and heartbeats", r.beats)
	}
}

func waitFor(t *testing.T, what string, timeout time.Duration, ok func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !ok() {
		if time.Since(start) > timeout {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return time.Since(start)
}

// TestInstancesBehaveAsOne: a socket on instance A receives, in order and
// exactly once, what is done through instance B; A is killed with SIGKILL
// while mutations go on, and the client resumes on B with since — nothing
// lost, nothing duplicated.
func TestInstancesBehaveAsOne(t *testing.T) {
	redis := redisURL(t)
	env := multiEnv(t, redis)
	bin := buildBinary(t)
	a, b := startProc(t, bin, env), startProc(t, bin, env)
	cb := client{t: t, base: b.URL}
	_, tok := cb.signupLogin("ada")
	pid := itoa(cb.call("POST", "/api/v1/projects/", tok, map[string]string{"name": "multi"}, 201)["id"])

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	r := &reader{t: t, pid: pid, tok: tok}
	followDone := make(chan error, 1)
	go func() { followDone <- r.follow(ctx, a.URL) }()
	time.Sleep(300 * time.Millisecond) // the socket is in A's room

	const n = 60
	mutated := make(chan struct{})
	go func() {
		defer close(mutated)
		for i := range n {
			cb.call("POST", "/api/v1/projects/"+pid+"/tasks", tok, map[string]string{"title": fmt.Sprint("t", i)}, 201)
			time.Sleep(10 * time.Millisecond)
		}
	}()
	waitFor(t, "20 events on A", 20*time.Second, func() bool { return r.last() >= 20 })
	a.kill()
	if err := <-followDone; err == nil {
		t.Fatal("the socket on the killed instance did not fail")
	}
	go func() { followDone <- r.follow(ctx, b.URL) }()
	<-mutated
	waitFor(t, "every event after resuming on B", 20*time.Second, func() bool { return r.last() >= n })
	r.wantAll(t, n)
}

// TestRedisRestartMidBurst restarts a private Redis in the middle of a
// burst: every socket on both instances still ends with every event, in
// order; the test logs how long the sockets took to be whole again.
func TestRedisRestartMidBurst(t *testing.T) {
	redisURL(t) // the suite runs only where services are expected
	server, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("no redis-server to run a private Redis:", err)
	}
	port := freePort(t)
	startRedis := func() *exec.Cmd {
		cmd := exec.Command(server, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "Redis to listen", 10*time.Second, func() bool {
			c, err := net.Dial("tcp", fmt.Sprint("127.0.0.1:", port))
			if err == nil {
				c.Close()
			}
			return err == nil
		})
		return cmd
	}
	redis := startRedis()
	t.Cleanup(func() { _ = redis.Process.Kill(); _ = redis.Wait() })

	env := multiEnv(t, fmt.Sprintf("redis://127.0.0.1:%d/0", port))
	bin := buildBinary(t)
	a, b := startProc(t, bin, env), startProc(t, bin, env)
	ca := client{t: t, base: a.URL}
	_, tok := ca.signupLogin("ada")
	pid := itoa(ca.call("POST", "/api/v1/projects/", tok, map[string]string{"name": "restart"}, 201)["id"])

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	var readers []*reader
	for i := range 20 {
		r := &reader{t: t, pid: pid, tok: tok}
		readers = append(readers, r)
		base := []string{a.URL, b.URL}[i%2]
		go func() {
			for ctx.Err() == nil {
				_ = r.follow(ctx, base)
				time.Sleep(50 * time.Millisecond)
			}
		}()
	}
	time.Sleep(500 * time.Millisecond)

	const n = 100
	whole := make(chan time.Duration, 1)
	for i := range n {
		base := []string{a.URL, b.URL}[i%2]
		client{t: t, base: base}.call("POST", "/api/v1/projects/"+pid+"/tasks", tok, map[string]string{"title": fmt.Sprint("t", i)}, 201)
		if i == 40 {
			_ = redis.Process.Kill()
			_ = redis.Wait()
		}
		if i == 60 {
			redis = startRedis()
			// How long, from Redis being back, until every socket has every
			// event committed so far (including those published while it was
			// down).
			back, upTo := time.Now(), int64(i+1)
			go func() {
				for {
					done := true
					for _, r := range readers {
						done = done && r.last() >= upTo
					}
					if done {
						whole <- time.Since(back)
						return
					}
					time.Sleep(5 * time.Millisecond)
				}
			}()
		}
		time.Sleep(5 * time.Millisecond)
	}
	waitFor(t, "every socket to have every event", 30*time.Second, func() bool {
		for _, r := range readers {
			if r.last() < n {
				return false
			}
		}
		return true
	})
	t.Logf("all %d sockets had every event %v after Redis came back (it was down for 20 of 100 mutations)", len(readers), (<-whole).Round(time.Millisecond))
	for _, r := range readers {
		r.wantAll(t, n)
	}
}

// TestEmailOnceWithTwoWorkers: both instances work jobs, and each
// assignment email is sent exactly once.
func TestEmailOnceWithTwoWorkers(t *testing.T) {
	redis := redisURL(t)
	env := multiEnv(t, redis)
	smtp := smtptest.New(t)
	env["SMTP_URL"] = "smtp://" + smtp.Addr() + "?starttls=none"
	env["EMAIL_DEBOUNCE"] = "0"
	bin := buildBinary(t)
	a, b := startProc(t, bin, env), startProc(t, bin, env)
	ca, cb := client{t: t, base: a.URL}, client{t: t, base: b.URL}
	_, owner := ca.signupLogin("olga")
	bobID, bobTok := cb.signupLogin("bob")
	cb.call("PUT", "/api/v1/users/me/notification-settings", bobTok, map[string]any{"email": map[string]bool{"member_added": false}}, 200)
	pid := itoa(ca.call("POST", "/api/v1/projects/", owner, map[string]string{"name": "mail"}, 201)["id"])
	ca.call("POST", "/api/v1/projects/"+pid+"/members", owner, map[string]any{"user_id": bobID}, 201)
	const n = 20
	for i := range n {
		c := []client{ca, cb}[i%2]
		c.call("POST", "/api/v1/projects/"+pid+"/tasks", owner, map[string]any{"title": fmt.Sprint("mail ", i), "assignee_id": bobID}, 201)
	}
	waitFor(t, "20 emails", 60*time.Second, func() bool { return len(smtp.Messages()) >= n })
	time.Sleep(2 * time.Second) // a duplicate would arrive by now
	msgs := smtp.Messages()
	subjects := map[string]int{}
	for _, m := range msgs {
		subjects[m.Subject]++
	}
	if len(msgs) != n || len(subjects) != n {
		t.Fatalf("%d messages with %d distinct subjects, want %d each:%s", len(msgs), len(subjects), n, describe(msgs))
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
