package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/taskwire/taskwire/internal/testenv"
)

// The outage suite stops a private Redis or a private PostgreSQL under a
// steady write load, with sockets open on two real instances, and checks
// what the API promises: every request is answered (never a 500, never a
// hang), /readyz tells the truth, and once the service is back every
// acknowledged write is there and every socket has every event exactly
// once, in order. The figures it logs go into RELIABILITY.md.

// replyBound is how long any request may take before the test counts it
// as a hang: far above any answer seen, well below a client giving up.
const replyBound = 30 * time.Second

var outageHTTP = &http.Client{Timeout: replyBound}

// outageFor is how long a service stays down: TASKWIRE_OUTAGE_SECONDS when
// set (a slow CI may shorten the outages), def otherwise.
func outageFor(t *testing.T, def time.Duration) time.Duration {
	t.Helper()
	s := os.Getenv("TASKWIRE_OUTAGE_SECONDS")
	if s == "" {
		return def
	}
	n, err := strconv.ParseFloat(s, 64)
	if err != nil || n <= 0 {
		t.Fatalf("TASKWIRE_OUTAGE_SECONDS=%q: want a positive number of seconds", s)
	}
	return time.Duration(n * float64(time.Second))
}

// needProgram finds a program the test cannot run without, on PATH or at
// the newest match of one of the patterns. Without it the test is skipped,
// or fails when TASKWIRE_REQUIRE_SERVICES=1.
func needProgram(t *testing.T, name string, patterns ...string) string {
	t.Helper()
	return testenv.Program(t, name, patterns...)
}

// reply is one request's outcome as the client saw it.
type reply struct {
	route  string // what was asked: "create", "readyz", "login", ...
	base   string // the instance
	key    string // the title of the task a create asked for
	status int    // 0: no answer within replyBound, or the connection failed
	body   []byte
	err    error
	start  time.Time
	took   time.Duration
}

func (r reply) end() time.Time { return r.start.Add(r.took) }

func (r reply) String() string {
	return fmt.Sprintf("%s at %s (%s): status %d after %v, err %v, body %.300s",
		r.route, r.start.Format("15:04:05.000"), r.base, r.status, r.took.Round(time.Millisecond), r.err, r.body)
}

// detailMessage returns the message of a {"detail": "..."} body, or "".
func (r reply) detailMessage() string {
	var b struct {
		Detail string `json:"detail"`
	}
	_ = json.Unmarshal(r.body, &b)
	return b.Detail
}

func send(route, method, u, token string, body any) reply {
	var rd io.Reader
	ct := "application/json"
	if form, ok := body.(url.Values); ok {
		rd, ct = strings.NewReader(form.Encode()), "application/x-www-form-urlencoded"
	} else if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	r := reply{route: route, base: u, start: time.Now()}
	if pu, err := url.Parse(u); err == nil {
		r.base = pu.Scheme + "://" + pu.Host
	}
	req, _ := http.NewRequest(method, u, rd)
	req.Header.Set("Content-Type", ct)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := outageHTTP.Do(req)
	if err == nil {
		r.status = res.StatusCode
		r.body, err = io.ReadAll(res.Body)
		res.Body.Close()
	}
	r.err, r.took = err, time.Since(r.start)
	return r
}

// dialProbe opens a project socket and closes it at once: status 101 when
// the handshake succeeded, else the refusal's status (0: no answer).
func dialProbe(base, pid, tok string) reply {
	r := reply{route: "ws-handshake", base: base, start: time.Now()}
	ctx, cancel := context.WithTimeout(context.Background(), replyBound)
	defer cancel()
	ws, res, err := websocket.Dial(ctx, wsURL(base, pid, tok, -1), nil)
	r.took, r.err = time.Since(r.start), err
	if err == nil {
		r.status = http.StatusSwitchingProtocols
		ws.CloseNow()
	} else if res != nil {
		r.status = res.StatusCode
		r.body, _ = io.ReadAll(res.Body)
	}
	return r
}

func wsURL(base, pid, tok string, since int64) string {
	u := strings.Replace(base, "http", "ws", 1) + "/ws/projects/" + pid + "?token=" + tok
	if since >= 0 {
		u += "&since=" + strconv.FormatInt(since, 10)
	}
	return u
}

// replies collects every answer the test's clients got.
type replies struct {
	mu  sync.Mutex // guards all
	all []reply
}

func (rs *replies) add(r reply) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	rs.all = append(rs.all, r)
}

func (rs *replies) list() []reply {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	return slices.Clone(rs.all)
}

// repeat calls each of fns on every instance every pause until stop is
// closed; it returns when they are all done.
func repeat(rs *replies, bases []string, pause time.Duration, stop <-chan struct{}, fns ...func(base string, n int) reply) func() {
	var wg sync.WaitGroup
	for i, base := range bases {
		for j, fn := range fns {
			wg.Go(func() {
				for n := 0; ; n++ {
					select {
					case <-stop:
						return
					default:
					}
					rs.add(fn(base, n*1000+i*100+j))
					select {
					case <-stop:
						return
					case <-time.After(pause):
					}
				}
			})
		}
	}
	return wg.Wait
}

// writeLoad creates tasks in project pid through every instance until the
// returned function is called; that function waits for the writers.
func writeLoad(rs *replies, bases []string, pid, tok string) func() {
	stop := make(chan struct{})
	wait := repeat(rs, bases, 25*time.Millisecond, stop, func(base string, n int) reply {
		title := fmt.Sprintf("load-%d", n)
		r := send("create", "POST", base+"/api/v1/projects/"+pid+"/tasks", tok, map[string]string{"title": title})
		r.key = title
		return r
	})
	return func() { close(stop); wait() }
}

// follower keeps a socket in a project room through reconnections,
// resuming with since, and records when each seq arrived and how every
// open socket ended.
type follower struct {
	base, pid, tok string

	mu       sync.Mutex // guards the fields below
	seqs     []int64
	at       []time.Time
	open     bool
	ended    []string // how each socket that was open ended while the test ran
	odd      []string // messages that are neither events nor presence
	dialErrs int
}

func (f *follower) run(ctx context.Context) {
	for ctx.Err() == nil {
		f.once(ctx)
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (f *follower) once(ctx context.Context) {
	dctx, cancel := context.WithTimeout(ctx, replyBound)
	ws, _, err := websocket.Dial(dctx, wsURL(f.base, f.pid, f.tok, f.last()), nil)
	cancel()
	if err != nil {
		f.mu.Lock()
		f.dialErrs++
		f.mu.Unlock()
		return
	}
	defer ws.CloseNow()
	ws.SetReadLimit(1 << 20)
	f.mu.Lock()
	f.open = true
	f.mu.Unlock()
	for {
		_, msg, err := ws.Read(ctx)
		now := time.Now()
		f.mu.Lock()
		if err != nil {
			f.open = false
			if ctx.Err() == nil {
				f.ended = append(f.ended, fmt.Sprintf("%s: %v", now.Format("15:04:05.000"), err))
			}
			f.mu.Unlock()
			return
		}
		var ev struct {
			Event string `json:"event"`
			Seq   int64  `json:"seq"`
		}
		switch {
		case json.Unmarshal(msg, &ev) != nil, ev.Event == "resync_required":
			f.odd = append(f.odd, string(msg))
		case control(ev.Event):
		case ev.Seq > 0:
			f.seqs = append(f.seqs, ev.Seq)
			f.at = append(f.at, now)
		}
		f.mu.Unlock()
	}
}

func (f *follower) last() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.seqs) == 0 {
		return 0
	}
	return f.seqs[len(f.seqs)-1]
}

func (f *follower) isOpen() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.open
}

// arrived returns when seq first arrived.
func (f *follower) arrived(seq int64) (time.Time, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if i := slices.Index(f.seqs, seq); i >= 0 {
		return f.at[i], true
	}
	return time.Time{}, false
}

// check reports whether the socket saw exactly 1..n, in order, and nothing
// else.
func (f *follower) check(n int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	ok := int64(len(f.seqs)) == n
	for i := 0; ok && i < len(f.seqs); i++ {
		ok = f.seqs[i] == int64(i)+1
	}
	if !ok || len(f.odd) > 0 {
		return fmt.Errorf("socket on %s got %d seqs %v and %d other messages %q; want 1..%d exactly once in order", f.base, len(f.seqs), f.seqs, len(f.odd), f.odd, n)
	}
	return nil
}

func follow(ctx context.Context, bases []string, perInstance int, pid, tok string) []*follower {
	var fs []*follower
	for i := range perInstance * len(bases) {
		f := &follower{base: bases[i%len(bases)], pid: pid, tok: tok}
		fs = append(fs, f)
		go f.run(ctx)
	}
	return fs
}

func allOpen(fs []*follower) bool {
	for _, f := range fs {
		if !f.isOpen() {
			return false
		}
	}
	return true
}

// socketsWhole waits until every socket has seq n, or fails.
func socketsWhole(t *testing.T, fs []*follower, n int64) {
	t.Helper()
	waitFor(t, fmt.Sprintf("every socket to have seq %d", n), 60*time.Second, func() bool {
		for _, f := range fs {
			if f.last() < n {
				return false
			}
		}
		return true
	})
}

// wholeAfter is how long after since the slowest socket received seq
// (zero for a socket that already had it).
func wholeAfter(fs []*follower, seq int64, since time.Time) time.Duration {
	var worst time.Duration
	for _, f := range fs {
		if at, ok := f.arrived(seq); ok {
			worst = max(worst, at.Sub(since))
		}
	}
	return worst
}

// loggedEvent is an event as GET /projects/{id}/events returns it.
type loggedEvent struct {
	Seq   int64  `json:"seq"`
	Event string `json:"event"`
	Data  struct {
		ID    int64  `json:"id"`
		Title string `json:"title"`
	} `json:"data"`
}

func readLog(t *testing.T, base, pid, tok string) []loggedEvent {
	t.Helper()
	r := send("events", "GET", base+"/api/v1/projects/"+pid+"/events?since=0", tok, nil)
	var out []loggedEvent
	if r.status != http.StatusOK || json.Unmarshal(r.body, &out) != nil {
		t.Fatalf("reading the event log: %v", r)
	}
	return out
}

func lastLogged(t *testing.T, base, pid, tok string) int64 {
	t.Helper()
	l := readLog(t, base, pid, tok)
	if len(l) == 0 {
		return 0
	}
	return l[len(l)-1].Seq
}

// checkDurable checks the project after the load: the log's seqs are
// 1..N without gaps; every task has exactly one task_created event and
// every such event a task; no title was created twice; every create
// acknowledged with 201 is there, with the id it was given. It returns the
// log and how many tasks exist whose create was not acknowledged.
func checkDurable(t *testing.T, base, pid, tok string, all []reply) ([]loggedEvent, int) {
	t.Helper()
	events := readLog(t, base, pid, tok)
	created := map[string]int64{}
	for i, e := range events {
		if e.Seq != int64(i)+1 {
			t.Fatalf("the log has seq %d at position %d: gap or duplicate", e.Seq, i+1)
		}
		if e.Event == "task_created" {
			if _, dup := created[e.Data.Title]; dup {
				t.Errorf("task %q was created twice (seq %d)", e.Data.Title, e.Seq)
			}
			created[e.Data.Title] = e.Data.ID
		}
	}
	r := send("tasks", "GET", base+"/api/v1/projects/"+pid+"/tasks", tok, nil)
	var tasks []struct {
		ID    int64  `json:"id"`
		Title string `json:"title"`
	}
	if r.status != http.StatusOK || json.Unmarshal(r.body, &tasks) != nil {
		t.Fatalf("listing tasks: %v", r)
	}
	stored := map[string]int64{}
	for _, task := range tasks {
		if _, dup := stored[task.Title]; dup {
			t.Errorf("two tasks titled %q", task.Title)
		}
		stored[task.Title] = task.ID
		if id, ok := created[task.Title]; !ok || id != task.ID {
			t.Errorf("task %d %q has no task_created event (log has id %d)", task.ID, task.Title, id)
		}
	}
	if len(stored) != len(created) {
		t.Errorf("%d tasks but %d task_created events", len(stored), len(created))
	}
	acked := 0
	for _, rep := range all {
		if rep.route != "create" || rep.status != http.StatusCreated {
			continue
		}
		acked++
		var task struct {
			ID int64 `json:"id"`
		}
		_ = json.Unmarshal(rep.body, &task)
		if id, ok := stored[rep.key]; !ok || id != task.ID {
			t.Errorf("acknowledged create %q (id %d) is missing after the outage", rep.key, task.ID)
		}
	}
	return events, len(stored) - acked
}

// readiness is the body of /readyz.
type readiness struct {
	Status string            `json:"status"`
	Checks map[string]string `json:"checks"`
}

func readyProbe(base string, _ int) reply { return send("readyz", "GET", base+"/readyz", "", nil) }

func ready(r reply) (readiness, bool) {
	var rd readiness
	err := json.Unmarshal(r.body, &rd)
	return rd, err == nil && r.status == http.StatusOK && rd.Status == "ok" && rd.Checks["database"] == "ok" && rd.Checks["broker"] == "ok"
}

func waitReady(t *testing.T, bases ...string) time.Duration {
	t.Helper()
	return waitFor(t, "/readyz to answer 200 on every instance", 60*time.Second, func() bool {
		for _, b := range bases {
			if _, ok := ready(readyProbe(b, 0)); !ok {
				return false
			}
		}
		return true
	})
}

// checkAlive fails when an instance has exited.
func checkAlive(t *testing.T, ps ...*proc) {
	t.Helper()
	for _, p := range ps {
		select {
		case <-p.exited:
			t.Fatalf("taskwire at %s exited during the outage:\n%s", p.URL, tail(p.stderr.String(), 4000))
		default:
		}
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

// between reports whether r was sent and answered within [from, to].
func (r reply) between(from, to time.Time) bool {
	return !r.start.Before(from) && !r.end().After(to)
}

// statusCounts renders how many answers of each route had each status.
func statusCounts(rs []reply) string {
	counts := map[string]int{}
	for _, r := range rs {
		counts[fmt.Sprintf("%s %d", r.route, r.status)]++
	}
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s×%d ", k, counts[k])
	}
	return strings.TrimSpace(b.String())
}

// quantiles renders the median, 99th percentile and maximum of ds.
func quantiles(ds []time.Duration) string {
	if len(ds) == 0 {
		return "(none)"
	}
	ds = slices.Clone(ds)
	slices.Sort(ds)
	at := func(q float64) time.Duration { return ds[int(q*float64(len(ds)-1))].Round(time.Millisecond) }
	return fmt.Sprintf("p50 %v, p99 %v, max %v", at(0.5), at(0.99), at(1))
}

// slowestByRoute renders the slowest answer of each route among rs.
func slowestByRoute(rs []reply) string {
	slow := map[string]time.Duration{}
	for _, r := range rs {
		slow[r.route] = max(slow[r.route], r.took)
	}
	keys := make([]string, 0, len(slow))
	for k := range slow {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s %v, ", k, slow[k].Round(time.Millisecond))
	}
	return strings.TrimSuffix(b.String(), ", ")
}

// privateRedis is a redis-server of this test's own, on a free port.
type privateRedis struct {
	t      *testing.T
	server string
	dir    string
	port   int
	cmd    *exec.Cmd
}

func newPrivateRedis(t *testing.T) *privateRedis {
	r := &privateRedis{t: t, server: needProgram(t, "redis-server"), dir: t.TempDir(), port: freePort(t)}
	r.start()
	t.Cleanup(r.stop)
	return r
}

func (r *privateRedis) URL() string { return fmt.Sprintf("redis://127.0.0.1:%d/0", r.port) }

func (r *privateRedis) start() {
	r.t.Helper()
	r.cmd = exec.Command(r.server, "--port", strconv.Itoa(r.port), "--bind", "127.0.0.1", "--dir", r.dir, "--save", "", "--appendonly", "no")
	if err := r.cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	waitFor(r.t, "the private Redis to listen", 10*time.Second, func() bool {
		c, err := net.Dial("tcp", fmt.Sprint("127.0.0.1:", r.port))
		if err == nil {
			c.Close()
		}
		return err == nil
	})
}

// stop kills the server: no goodbye to its clients.
func (r *privateRedis) stop() {
	if r.cmd != nil {
		_ = r.cmd.Process.Kill()
		_ = r.cmd.Wait()
		r.cmd = nil
	}
}

// privatePG is a PostgreSQL cluster of this test's own, in a temporary
// directory, on a free port. PostgreSQL refuses to run as root, so as root
// the cluster belongs to the postgres user and its programs run through
// runuser.
type privatePG struct {
	t      *testing.T
	bin    string   // directory of initdb and pg_ctl
	as     []string // the runuser prefix, as root
	dir    string
	port   int
	closed bool
}

func newPrivatePG(t *testing.T) *privatePG {
	initdb := needProgram(t, "initdb", "/usr/lib/postgresql/*/bin/initdb")
	p := &privatePG{t: t, bin: filepath.Dir(initdb), port: freePort(t)}
	dir, err := os.MkdirTemp("", "taskwire-pg-")
	if err != nil {
		t.Fatal(err)
	}
	p.dir = dir
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	if os.Geteuid() == 0 {
		runuser := needProgram(t, "runuser")
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("running as root, PostgreSQL needs an unprivileged owner and there is no postgres user: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
		p.as = []string{runuser, "-u", "postgres", "--"}
	}
	p.run("initdb", "-D", p.data(), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync")
	p.start()
	t.Cleanup(func() {
		if !p.closed {
			_, _ = p.cmd("pg_ctl", "-D", p.data(), "-m", "immediate", "-w", "stop").CombinedOutput()
		}
	})
	return p
}

func (p *privatePG) data() string { return filepath.Join(p.dir, "data") }

func (p *privatePG) URL() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", p.port)
}

func (p *privatePG) cmd(program string, args ...string) *exec.Cmd {
	argv := append(slices.Clone(p.as), filepath.Join(p.bin, program))
	argv = append(argv, args...)
	return exec.Command(argv[0], argv[1:]...)
}

func (p *privatePG) run(program string, args ...string) {
	p.t.Helper()
	if out, err := p.cmd(program, args...).CombinedOutput(); err != nil {
		p.t.Fatalf("%s %v: %v\n%s", program, args, err, out)
	}
}

func (p *privatePG) start() {
	p.t.Helper()
	p.run("pg_ctl", "-D", p.data(), "-l", filepath.Join(p.dir, "log"), "-w", "-t", "60",
		"-o", fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1", p.port, p.dir), "start")
}

// stop is a fast shutdown: open transactions are rolled back and the
// clients disconnected.
func (p *privatePG) stop() {
	p.t.Helper()
	p.run("pg_ctl", "-D", p.data(), "-m", "fast", "-w", "-t", "60", "stop")
}

// underLoad starts two instances with env, creates a project, has six
// sockets on each instance follow it and starts the write load through
// both; it returns once the load has run for two seconds.
func underLoad(ctx context.Context, t *testing.T, env map[string]string, name string) (a, b *proc, bases []string, pid, tok string, fs []*follower, rs *replies, stopLoad func()) {
	t.Helper()
	bin := buildBinary(t)
	a, b = startProc(t, bin, env), startProc(t, bin, env)
	bases = []string{a.URL, b.URL}
	ca := client{t: t, base: a.URL}
	_, tok = ca.signupLogin("ada")
	pid = itoa(ca.call("POST", "/api/v1/projects/", tok, map[string]string{"name": name}, 201)["id"])
	fs = follow(ctx, bases, 6, pid, tok)
	waitFor(t, "every socket to open", 20*time.Second, func() bool { return allOpen(fs) })
	waitReady(t, bases...)
	rs = &replies{}
	stopLoad = writeLoad(rs, bases, pid, tok)
	time.Sleep(2 * time.Second)
	return a, b, bases, pid, tok, fs, rs, stopLoad
}

// TestRedisDownTenSeconds stops the private Redis two instances share for
// TASKWIRE_OUTAGE_SECONDS (10) under a steady write load. PostgreSQL is the
// source of truth, so every write still succeeds; signup and login go on
// (the Redis rate limiter lets requests through when Redis does not
// answer); nothing answers 500; /readyz reports the broker down. Once Redis
// is back every socket ends with every event exactly once, in order.
func TestRedisDownTenSeconds(t *testing.T) {
	redisURL(t) // the suite runs only where services are expected
	outage := outageFor(t, 10*time.Second)
	redis := newPrivateRedis(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a, b, bases, pid, tok, fs, rs, stopLoad := underLoad(ctx, t, multiEnv(t, redis.URL()), "redis outage")

	redis.stop()
	down := time.Now()
	stopProbes := make(chan struct{})
	probesDone := repeat(rs, bases, 500*time.Millisecond, stopProbes,
		readyProbe,
		func(base string, n int) reply {
			name := fmt.Sprint("probe", n)
			r := send("signup", "POST", base+"/api/v1/auth/signup", "", map[string]string{"email": name + "@example.com", "username": name, "password": "password123"})
			if r.status != http.StatusCreated {
				return r
			}
			rs.add(r)
			return send("login", "POST", base+"/api/v1/auth/login", "", url.Values{"username": {name}, "password": {"password123"}})
		},
		func(base string, _ int) reply {
			return send("presence", "GET", base+"/api/v1/projects/"+pid+"/presence", tok, nil)
		},
		func(base string, _ int) reply {
			return send("list", "GET", base+"/api/v1/projects/"+pid+"/tasks?limit=20", tok, nil)
		})
	// Sockets that open while Redis is down must end whole too.
	time.Sleep(outage / 2)
	late := follow(ctx, bases, 1, pid, tok)
	time.Sleep(outage - time.Since(down))
	close(stopProbes)
	probesDone()

	upAt := time.Now()
	redis.start()
	up := time.Now()
	seqAtRestart := lastLogged(t, a.URL, pid, tok)
	readyAfter := waitReady(t, bases...)
	time.Sleep(3 * time.Second)
	stopLoad()
	checkAlive(t, a, b)

	all := rs.list()
	events, unacked := checkDurable(t, a.URL, pid, tok, all)
	n := int64(len(events))
	socketsWhole(t, append(fs, late...), n)

	var creates, bad int
	var whileDown []reply
	ackedAt := map[string]time.Time{}
	for _, r := range all {
		inOutage := r.between(down, upAt)
		if r.route == "create" {
			creates++
			ackedAt[r.key] = r.end()
		}
		if inOutage {
			whileDown = append(whileDown, r)
		}
		want := map[string][]int{
			"create": {201}, "login": {200}, "signup": {201}, "list": {200},
			// Presence is kept in Redis: without it, an honest 503.
			"presence": {200, 503},
			"readyz":   {200, 503},
		}[r.route]
		if !slices.Contains(want, r.status) {
			bad++
			t.Errorf("unexpected answer while Redis was down or restarting: %v", r)
			continue
		}
		if r.status == http.StatusServiceUnavailable && r.route != "readyz" && r.detailMessage() == "" {
			t.Errorf("503 without a {\"detail\": ...} message: %v", r)
		}
		if r.route == "readyz" && inOutage {
			rd, _ := ready(r)
			if r.status != http.StatusServiceUnavailable || rd.Status != "unavailable" || rd.Checks["database"] != "ok" || rd.Checks["broker"] == "ok" || rd.Checks["broker"] == "" {
				t.Errorf("/readyz while Redis was down: %v; want 503 {\"status\": \"unavailable\", \"checks\": {\"database\": \"ok\", \"broker\": <the error>}}", r)
			}
		}
	}
	if bad > 0 {
		t.Errorf("answers: %s", statusCounts(all))
	}

	// How late did the events written during the outage reach the sockets
	// open all along (from their 201 to their arrival on each socket)?
	var lags []time.Duration
	var outageEvents int
	for _, e := range events {
		acked, ok := ackedAt[e.Data.Title]
		if !ok || acked.Before(down) || acked.After(upAt) {
			continue
		}
		outageEvents++
		for _, f := range fs {
			if at, ok := f.arrived(e.Seq); ok {
				lags = append(lags, max(0, at.Sub(acked)))
			}
		}
	}
	var closed []string
	for _, f := range append(fs, late...) {
		closed = append(closed, f.ended...)
		if err := f.check(n); err != nil {
			t.Error(err)
		}
	}
	if len(closed) > 0 {
		t.Errorf("%d sockets were closed during the Redis outage; they should have stayed open: %q", len(closed), closed)
	}
	t.Logf("Redis down %v under load on 2 instances, %d sockets and %d more opened during the outage: "+
		"%d creates (%d during the outage, %d committed without an answer), slowest answers during the outage: %s; answers: %s; "+
		"events written during the outage reached the sockets %s after their 201; "+
		"after Redis was back (restart took %v): /readyz 200 on both after %v, every socket had every event up to seq %d after %v; all %d sockets ended with 1..%d exactly once, in order; %d sockets closed",
		outage.Round(time.Millisecond), len(fs), len(late), creates, outageEvents, unacked, slowestByRoute(whileDown), statusCounts(all),
		quantiles(lags), up.Sub(upAt).Round(time.Millisecond), readyAfter.Round(time.Millisecond),
		seqAtRestart, wholeAfter(append(fs, late...), seqAtRestart, up).Round(time.Millisecond), len(fs)+len(late), n, len(closed))
	if t.Failed() {
		t.Logf("instance A log:\n%s\ninstance B log:\n%s", tail(a.stderr.String(), 3000), tail(b.stderr.String(), 3000))
	}
}

// TestPostgresRestartUnderLoad stops a private PostgreSQL (fast shutdown)
// for a few seconds under a steady write load on two instances with
// sockets open. While it is down every request is answered in bounded time
// with 503 and {"detail": "<a message naming the database>"} (or a success
// that needs no database), never 500; /readyz says not ready. After it
// restarts, writes succeed again without restarting taskwire, every create
// acknowledged with 201 is stored, the log's seq has no gaps, and every
// socket ends with every event exactly once, in order.
func TestPostgresRestartUnderLoad(t *testing.T) {
	redis := redisURL(t)
	outage := outageFor(t, 5*time.Second)
	pg := newPrivatePG(t)
	env := multiEnv(t, redis) // skips or fails like the others without PostgreSQL
	env["DATABASE_URL"] = pg.URL()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a, b, bases, pid, tok, fs, rs, stopLoad := underLoad(ctx, t, env, "database outage")

	stopping := time.Now()
	pg.stop()
	down := time.Now()
	stopProbes := make(chan struct{})
	probesDone := repeat(rs, bases, 300*time.Millisecond, stopProbes,
		readyProbe,
		func(base string, _ int) reply {
			return send("list", "GET", base+"/api/v1/projects/"+pid+"/tasks?limit=20", tok, nil)
		},
		func(base string, _ int) reply { return send("me", "GET", base+"/api/v1/users/me", tok, nil) },
		func(base string, _ int) reply {
			return send("login", "POST", base+"/api/v1/auth/login", "", url.Values{"username": {"ada"}, "password": {"password123"}})
		},
		func(base string, n int) reply {
			name := fmt.Sprint("probe", n)
			return send("signup", "POST", base+"/api/v1/auth/signup", "", map[string]string{"email": name + "@example.com", "username": name, "password": "password123"})
		},
		func(base string, _ int) reply { return dialProbe(base, pid, tok) })
	time.Sleep(outage)
	close(stopProbes)
	probesDone()

	upAt := time.Now()
	pg.start()
	up := time.Now()
	readyAfter := waitReady(t, bases...)
	// Keep writing until each instance has acknowledged a few creates
	// since the restart.
	waitFor(t, "creates to succeed again on both instances", 60*time.Second, func() bool {
		after := map[string]int{}
		for _, r := range rs.list() {
			if r.route == "create" && r.status == http.StatusCreated && r.start.After(up) {
				after[r.base]++
			}
		}
		return after[a.URL] >= 20 && after[b.URL] >= 20
	})
	stopLoad()
	checkAlive(t, a, b)

	all := rs.list()
	// After the restart, every route answers as usual again.
	for _, base := range bases {
		for _, r := range []reply{
			send("list", "GET", base+"/api/v1/projects/"+pid+"/tasks?limit=20", tok, nil),
			send("me", "GET", base+"/api/v1/users/me", tok, nil),
			send("login", "POST", base+"/api/v1/auth/login", "", url.Values{"username": {"ada"}, "password": {"password123"}}),
			dialProbe(base, pid, tok),
		} {
			if r.status != http.StatusOK && r.status != http.StatusSwitchingProtocols {
				t.Errorf("after PostgreSQL restarted: %v", r)
			}
		}
	}

	events, unacked := checkDurable(t, a.URL, pid, tok, all)
	n := int64(len(events))
	socketsWhole(t, fs, n)

	var unavailable int
	var whileDown []reply
	var firstOK time.Time
	firstTitle := ""
	messages := map[string]int{}
	for _, r := range all {
		if r.between(down, upAt) {
			whileDown = append(whileDown, r)
		}
		if r.route == "create" && r.status == http.StatusCreated && r.start.After(up) && (firstOK.IsZero() || r.end().Before(firstOK)) {
			firstOK, firstTitle = r.end(), r.key
		}
		switch {
		case r.status == http.StatusServiceUnavailable:
			unavailable++
			if r.route == "readyz" {
				rd := readiness{}
				if json.Unmarshal(r.body, &rd) != nil || rd.Status != "unavailable" || rd.Checks["database"] == "ok" || rd.Checks["database"] == "" || rd.Checks["broker"] != "ok" {
					t.Errorf("/readyz while PostgreSQL was down: %v; want 503 {\"status\": \"unavailable\", \"checks\": {\"database\": <the error>, \"broker\": \"ok\"}}", r)
				}
				continue
			}
			msg := r.detailMessage()
			messages[r.route+": "+msg]++
			if !strings.Contains(strings.ToLower(msg), "database") {
				t.Errorf("503 without a {\"detail\": ...} message naming the database: %v", r)
			}
		case r.status == 0 || r.status >= 500:
			t.Errorf("no answer or a server error (never acceptable): %v", r)
		case r.between(down, upAt) && r.route != "me" && r.status < 400:
			// /users/me may be served from the token cache; everything
			// else needs the database.
			t.Errorf("succeeded while PostgreSQL was down: %v", r)
		case r.status >= 400:
			t.Errorf("unexpected error answer: %v", r)
		}
	}
	if len(whileDown) == 0 {
		t.Error("no request was made while PostgreSQL was down")
	}
	var firstSeq int64
	for _, e := range events {
		if e.Event == "task_created" && e.Data.Title == firstTitle {
			firstSeq = e.Seq
		}
	}
	var closed []string
	for _, f := range fs {
		closed = append(closed, f.ended...)
		if err := f.check(n); err != nil {
			t.Error(err)
		}
	}
	if len(closed) > 0 {
		t.Errorf("%d sockets were closed during the PostgreSQL outage; they should have stayed open: %q", len(closed), closed)
	}
	t.Logf("PostgreSQL stopped (fast shutdown took %v) and down %v under load on 2 instances, %d sockets: "+
		"%d answers while down, %d answers 503 in all, slowest answers while down: %s; answers: %s; 503 messages: %v; "+
		"%d creates committed without an answer; after the restart (pg_ctl start took %v): first 201 after %v, /readyz 200 on both after %v, "+
		"every socket had that first event (seq %d) after %v; all %d sockets ended with 1..%d exactly once, in order; %d sockets closed",
		down.Sub(stopping).Round(time.Millisecond), outage.Round(time.Millisecond), len(fs), len(whileDown), unavailable, slowestByRoute(whileDown),
		statusCounts(all), messages, unacked, up.Sub(upAt).Round(time.Millisecond), firstOK.Sub(up).Round(time.Millisecond),
		readyAfter.Round(time.Millisecond), firstSeq, wholeAfter(fs, firstSeq, up).Round(time.Millisecond), len(fs), n, len(closed))
	if t.Failed() {
		t.Logf("instance A log:\n%s\ninstance B log:\n%s", tail(a.stderr.String(), 3000), tail(b.stderr.String(), 3000))
	}
}
