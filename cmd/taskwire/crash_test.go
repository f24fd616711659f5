package main

// The crash-safety suite (issue 6) runs real taskwire processes under a
// steady mixed write load (tasks with due dates and labels among them),
// kills them with SIGKILL at random moments, restarts them on the same
// database, and then checks the outcome against what the clients were told:
// every acknowledged write is in the state and in the event log, every
// event is explained by a request a client sent, each project's seq runs
// 1..N without gap or duplicate, the state is the fold of the log, and
// every socket that followed a room through the crashes (resuming with
// since) received exactly 1..N in order. The checks are in
// crash_check_test.go.
//
// Settings, from the environment:
//
//	TASKWIRE_CRASH_ROUNDS  kill -9 / restart rounds per test (default 5;
//	                       `make reliability` runs 50)
//	TASKWIRE_CRASH_LOAD    longest stretch of load before each kill, a Go
//	                       duration (default 1s); each kill comes after a
//	                       random delay between a tenth of it and all of it
//	TASKWIRE_CRASH_SEED    seed of the random choices (default: the clock);
//	                       logged, so a failing run's choices (not its
//	                       timing) can be replayed

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestCrashSafetySQLite kills the only instance, on a SQLite file, again
// and again while clients write, and restarts it on the same file.
func TestCrashSafetySQLite(t *testing.T) {
	env := map[string]string{
		"PORT":         "0",
		"DATABASE_URL": "sqlite:///" + filepath.Join(t.TempDir(), "crash.db"),
	}
	runCrash(t, env, 1)
}

// TestCrashSafetyPostgresTwoInstances spreads the load over two instances
// on one PostgreSQL and one Redis and kills them in turn.
func TestCrashSafetyPostgresTwoInstances(t *testing.T) {
	env := multiEnv(t, redisURL(t))
	runCrash(t, env, 2)
}

// crashConfig is the suite's settings (see the top of the file).
type crashConfig struct {
	rounds int
	load   time.Duration
	seed   uint64
}

func loadCrashConfig(t *testing.T) crashConfig {
	t.Helper()
	c := crashConfig{rounds: 5, load: time.Second, seed: uint64(time.Now().UnixNano())}
	if v := os.Getenv("TASKWIRE_CRASH_ROUNDS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("TASKWIRE_CRASH_ROUNDS=%q: want a positive integer", v)
		}
		c.rounds = n
	}
	if v := os.Getenv("TASKWIRE_CRASH_LOAD"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			t.Fatalf("TASKWIRE_CRASH_LOAD=%q: want a positive Go duration", v)
		}
		c.load = d
	}
	if v := os.Getenv("TASKWIRE_CRASH_SEED"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("TASKWIRE_CRASH_SEED=%q: want an unsigned integer", v)
		}
		c.seed = n
	}
	return c
}

// The load: taskWorkers goroutines create, change and delete tasks (each
// only touches the tasks it created, so its requests on a task are
// totally ordered), one admin goroutine per project adds and removes
// members and renames the project, and readersPerProject sockets follow
// each room.
const (
	crashProjects     = 2
	taskWorkers       = 4
	readersPerProject = 2
	churnUsers        = 3
)

// outcome is what a client learned of a write.
type outcome int

const (
	acked    outcome = iota // 2xx: committed
	rejected                // 4xx: refused, no effect
	unknown                 // cut off, timed out or 5xx: committed or not
)

func (o outcome) String() string { return [...]string{"acknowledged", "refused", "unknown"}[o] }

// taskBody is a task as the API returns it and as task events carry it.
type taskBody struct {
	ID          int64    `json:"id"`
	ProjectID   int64    `json:"project_id"`
	Title       string   `json:"title"`
	Description *string  `json:"description"`
	Status      string   `json:"status"`
	AssigneeID  *int64   `json:"assignee_id"`
	Version     int64    `json:"version"`
	DueAt       *string  `json:"due_at"`
	Labels      []string `json:"labels"`
}

func (a taskBody) same(b taskBody) bool {
	return a.ID == b.ID && a.ProjectID == b.ProjectID && a.Title == b.Title && equalPtr(a.Description, b.Description) &&
		a.Status == b.Status && equalPtr(a.AssigneeID, b.AssigneeID) && a.Version == b.Version &&
		equalPtr(a.DueAt, b.DueAt) && slices.Equal(a.Labels, b.Labels)
}

func (a taskBody) String() string {
	as := "none"
	if a.AssigneeID != nil {
		as = strconv.FormatInt(*a.AssigneeID, 10)
	}
	return fmt.Sprintf("{task %d v%d %q %s assignee %s}", a.ID, a.Version, a.Title, a.Status, as)
}

func equalPtr[T comparable](a, b *T) bool {
	return a == nil && b == nil || a != nil && b != nil && *a == *b
}

// write is one mutating request and its outcome.
type write struct {
	kind     string // create, status, update, assign, delete, comment, add_member, remove_member, rename
	pid      int64
	tid      int64    // the task (for a create: known once acknowledged)
	title    string   // create, update: unique across the run; comment: its body, unique too
	desc     *string  // create, update
	status   string   // create, status
	assignee *int64   // create, assign
	due      *string  // create, update: a due date (RFC 3339) or none
	labels   []string // create, update
	user     int64    // add_member, remove_member
	name     string   // rename: unique across the run
	key      string   // create, comment: its Idempotency-Key
	sent     bool     // the request left (false when the load stopped first)
	out      outcome
	code     int      // last HTTP status, 0 when none came back
	resp     taskBody // an acknowledged task write's answer
	retried  bool     // an unknown create retried with its key
	kills    int      // how many kills came before it was sent
}

func (w *write) String() string {
	s := fmt.Sprintf("%s %s (after kill %d, project %d", w.out, w.kind, w.kills, w.pid)
	if w.tid != 0 {
		s += fmt.Sprintf(", task %d", w.tid)
	}
	switch w.kind {
	case "create", "update":
		s += fmt.Sprintf(", title %q", w.title)
	case "status":
		s += ", status " + w.status
	case "add_member", "remove_member":
		s += fmt.Sprintf(", user %d", w.user)
	case "rename":
		s += fmt.Sprintf(", name %q", w.name)
	}
	if w.out == acked && w.resp.ID != 0 {
		s += ", answered " + w.resp.String()
	}
	return s + ")"
}

// fleet is the instances under test; an instance's URL is empty between
// its kill and its restart.
type fleet struct {
	mu      sync.Mutex
	urls    []string      // mu guards
	changed chan struct{} // mu guards; closed and replaced when urls changes
}

func (f *fleet) set(i int, url string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.urls[i] = url
	close(f.changed)
	f.changed = make(chan struct{})
}

// pick returns instance prefer if it is up, else any that is, waiting
// while none is; "" when ctx ends first.
func (f *fleet) pick(ctx context.Context, prefer int) string {
	for {
		f.mu.Lock()
		u := f.urls[prefer%len(f.urls)]
		for _, x := range f.urls {
			if u == "" {
				u = x
			}
		}
		ch := f.changed
		f.mu.Unlock()
		if u != "" {
			return u
		}
		select {
		case <-ctx.Done():
			return ""
		case <-ch:
		}
	}
}

// crashRun is one test's world: who writes, what they were told.
type crashRun struct {
	t        *testing.T
	fleet    *fleet
	hc       *http.Client
	tok      string  // the owner's: every write is the owner's
	ownerID  int64   //
	users    []int64 // members the admins add and remove
	userToks map[int64]string
	projects []int64
	names    map[int64]string // each project's name at creation

	kills atomic.Int64
	mu    sync.Mutex
	log   []*write // mu guards; in completion order
	errs5 atomic.Int64
}

func (r *crashRun) record(w *write) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.log = append(r.log, w)
}

// send makes one request as the owner; err is set when no whole answer
// came back.
func (r *crashRun) send(base, method, path string, body any, header map[string]string) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, base+path, rd)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+r.tok)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := r.hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	return res.StatusCode, raw, err
}

// do sends w's request to a live instance and records its outcome.
func (r *crashRun) do(ctx context.Context, rng *mrand.Rand, w *write, method, path string, body any, header map[string]string) []byte {
	base := r.fleet.pick(ctx, rng.IntN(len(r.fleet.urls)))
	if base == "" {
		return nil
	}
	w.sent, w.kills = true, int(r.kills.Load())
	code, raw, err := r.send(base, method, path, body, header)
	w.code = code
	switch {
	case err != nil:
		w.out = unknown
	case code >= 500:
		r.errs5.Add(1)
		w.out = unknown
	case code >= 400:
		w.out = rejected
	default:
		w.out = acked
		if len(raw) > 0 && w.kind != "add_member" && w.kind != "rename" && w.kind != "comment" {
			if err := json.Unmarshal(raw, &w.resp); err != nil {
				r.t.Errorf("%s: answer %s: %v", w, raw, err)
			}
		}
	}
	return raw
}

// getJSON reads path from a live instance into v, retrying while the
// instance answers 5xx or not at all.
func (r *crashRun) getJSON(path string, v any) {
	r.t.Helper()
	r.getJSONAs(r.tok, path, v)
}

// getJSONAs is getJSON with another user's token.
func (r *crashRun) getJSONAs(tok, path string, v any) {
	r.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		code, raw, err := r.send(r.fleet.pick(context.Background(), 0), "GET", path, nil, map[string]string{"Authorization": "Bearer " + tok})
		if err == nil && code == 200 {
			if err := json.Unmarshal(raw, v); err != nil {
				r.t.Fatalf("GET %s: %v: %s", path, err, raw)
			}
			return
		}
		if err == nil && code < 500 || time.Now().After(deadline) {
			r.t.Fatalf("GET %s: status %d, err %v: %s", path, code, err, raw)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (r *crashRun) randomAssignee(rng *mrand.Rand) *int64 {
	switch i := rng.IntN(len(r.users) + 2); {
	case i < len(r.users):
		return &r.users[i]
	case i == len(r.users):
		return &r.ownerID
	}
	return nil
}

var statuses = []string{"todo", "in_progress", "done"}

// createBody is a create's request body; a retry sends the same.
func createBody(w *write) map[string]any {
	body := map[string]any{"title": w.title, "status": w.status}
	if w.desc != nil {
		body["description"] = *w.desc
	}
	if w.assignee != nil {
		body["assignee_id"] = *w.assignee
	}
	if w.due != nil {
		body["due_at"] = *w.due
	}
	if w.labels != nil {
		body["labels"] = w.labels
	}
	return body
}

// randomDueAndLabels gives w a due date (or none) and a set of labels (or
// none), as the server keeps them: UTC to the second, distinct labels.
func randomDueAndLabels(rng *mrand.Rand, w *write) {
	if rng.IntN(2) == 0 {
		d := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(rng.IntN(1e6)) * time.Second).Format(time.RFC3339)
		w.due = &d
	}
	for _, l := range []string{"bug", "ui", "Ναΐβ", "日本語"} {
		if rng.IntN(3) == 0 {
			w.labels = append(w.labels, l)
		}
	}
}

// ownedTask is a task a worker created and has not seen deleted.
type ownedTask struct {
	pid, id, version int64
}

// taskWorker writes until ctx ends; it only touches the tasks it created.
func (r *crashRun) taskWorker(ctx context.Context, n int, rng *mrand.Rand) {
	var tasks []*ownedTask
	var retry []*write // unknown creates to send again with their key
	seq := 0
	for ctx.Err() == nil {
		seq++
		if len(retry) > 0 {
			w := retry[0]
			probe := &write{kind: "create"}
			r.do(ctx, rng, probe, "POST", fmt.Sprintf("/api/v1/projects/%d/tasks", w.pid), createBody(w), map[string]string{"Idempotency-Key": w.key})
			if !probe.sent {
				return
			}
			switch probe.out {
			case acked:
				w.out, w.resp, w.tid, w.code, w.retried = acked, probe.resp, probe.resp.ID, probe.code, true
				tasks = append(tasks, &ownedTask{pid: w.pid, id: w.tid, version: w.resp.Version})
				retry = retry[1:]
			case rejected:
				retry = retry[1:] // the first attempt stays unknown
			}
			continue
		}
		op := "create"
		if len(tasks) >= 3 {
			op = []string{"create", "create", "status", "status", "status", "update", "update", "assign", "assign", "delete", "comment"}[rng.IntN(11)]
		}
		if op == "create" {
			pid := r.projects[rng.IntN(len(r.projects))]
			w := &write{kind: "create", pid: pid, title: fmt.Sprintf("w%d-c%d", n, seq), status: statuses[rng.IntN(3)], key: fmt.Sprintf("w%d-k%d", n, seq)}
			if rng.IntN(2) == 0 {
				d := fmt.Sprint("d", seq)
				w.desc = &d
			}
			if rng.IntN(3) == 0 {
				w.assignee = r.randomAssignee(rng)
			}
			if rng.IntN(3) == 0 {
				randomDueAndLabels(rng, w)
			}
			r.do(ctx, rng, w, "POST", fmt.Sprintf("/api/v1/projects/%d/tasks", pid), createBody(w), map[string]string{"Idempotency-Key": w.key})
			if !w.sent {
				return
			}
			r.record(w)
			switch {
			case w.out == acked:
				w.tid = w.resp.ID
				tasks = append(tasks, &ownedTask{pid: pid, id: w.tid, version: w.resp.Version})
			case w.out == unknown && rng.IntN(2) == 0:
				retry = append(retry, w)
			}
			continue
		}
		i := rng.IntN(len(tasks))
		tk := tasks[i]
		w := &write{kind: op, pid: tk.pid, tid: tk.id}
		path := fmt.Sprint("/api/v1/tasks/", tk.id)
		var header map[string]string
		switch op {
		case "status":
			w.status = statuses[rng.IntN(3)]
			if rng.IntN(4) == 0 {
				header = map[string]string{"If-Match": fmt.Sprintf("%q", strconv.FormatInt(tk.version, 10))}
			}
			r.do(ctx, rng, w, "PATCH", path+"/status", map[string]any{"status": w.status}, header)
		case "update":
			w.title = fmt.Sprintf("w%d-u%d", n, seq)
			if rng.IntN(2) == 0 {
				d := fmt.Sprint("d", seq)
				w.desc = &d
			}
			randomDueAndLabels(rng, w)
			r.do(ctx, rng, w, "PUT", path, map[string]any{"title": w.title, "description": w.desc, "due_at": w.due, "labels": w.labels}, nil)
		case "assign":
			w.assignee = r.randomAssignee(rng)
			r.do(ctx, rng, w, "PUT", path, map[string]any{"assignee_id": w.assignee}, nil)
		case "delete":
			r.do(ctx, rng, w, "DELETE", path, nil, nil)
		case "comment":
			w.title, w.key = fmt.Sprintf("w%d-m%d @olga", n, seq), fmt.Sprintf("w%d-k%d", n, seq)
			r.do(ctx, rng, w, "POST", path+"/comments", map[string]any{"body": w.title}, map[string]string{"Idempotency-Key": w.key})
		}
		if !w.sent {
			return
		}
		r.record(w)
		switch {
		case w.out == acked && op == "delete", w.code == http.StatusNotFound:
			tasks = slices.Delete(tasks, i, i+1)
		case w.out == acked:
			tk.version = w.resp.Version
		case w.code == http.StatusPreconditionFailed:
			var cur taskBody
			if code, raw, err := r.send(r.fleet.pick(ctx, 0), "GET", path, nil, nil); err == nil && code == 200 && json.Unmarshal(raw, &cur) == nil {
				tk.version = cur.Version
			}
		}
		time.Sleep(time.Millisecond)
	}
}

// admin churns the project's members and renames it until ctx ends.
func (r *crashRun) admin(ctx context.Context, pid int64, rng *mrand.Rand) {
	for seq := 1; ctx.Err() == nil; seq++ {
		w := &write{pid: pid}
		switch rng.IntN(5) {
		case 0, 1:
			w.kind, w.user = "add_member", r.users[rng.IntN(len(r.users))]
			r.do(ctx, rng, w, "POST", fmt.Sprintf("/api/v1/projects/%d/members", pid), map[string]any{"user_id": w.user}, nil)
		case 2, 3:
			w.kind, w.user = "remove_member", r.users[rng.IntN(len(r.users))]
			r.do(ctx, rng, w, "DELETE", fmt.Sprintf("/api/v1/projects/%d/members/%d", pid, w.user), nil, nil)
		default:
			w.kind, w.name = "rename", fmt.Sprintf("p%d-n%d", pid, seq)
			r.do(ctx, rng, w, "PATCH", fmt.Sprint("/api/v1/projects/", pid), map[string]any{"name": w.name}, nil)
		}
		if !w.sent {
			return
		}
		r.record(w)
		time.Sleep(5 * time.Millisecond)
	}
}

// runCrash is the whole scenario on len(instances) processes sharing env's
// database: load, rounds of kill -9 and restart, then the checks.
func runCrash(t *testing.T, env map[string]string, instances int) {
	cfg := loadCrashConfig(t)
	defaults := map[string]string{
		"BCRYPT_COST": "4", "LOG_LEVEL": "warn", "RATE_LIMIT_AUTH": "1000/minute",
		// Every event stays readable: a resume must never need a resync.
		"EVENT_RETENTION_COUNT": "1000000000",
		// Heartbeats under load and across kills, each checked by the readers.
		"WS_HEARTBEAT_INTERVAL": "100ms",
	}
	for k, v := range defaults {
		if _, ok := env[k]; !ok {
			env[k] = v
		}
	}
	t.Logf("seed %d (TASKWIRE_CRASH_SEED), %d rounds, load up to %v before each kill", cfg.seed, cfg.rounds, cfg.load)
	rng := mrand.New(mrand.NewPCG(cfg.seed, 0))
	bin := buildBinary(t)
	procs := make([]*proc, instances)
	f := &fleet{urls: make([]string, instances), changed: make(chan struct{})}
	for i := range procs {
		procs[i] = startProc(t, bin, env)
		f.set(i, procs[i].URL)
	}

	c := client{t: t, base: procs[0].URL}
	var b [3]byte
	_, _ = rand.Read(b[:])
	tag := hex.EncodeToString(b[:])
	ownerID, tok := c.signupLogin("owner" + tag)
	run := &crashRun{
		t: t, fleet: f, tok: tok, ownerID: int64(ownerID), names: map[int64]string{}, userToks: map[int64]string{},
		hc: &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 32}},
	}
	defer run.hc.CloseIdleConnections()
	for i := range churnUsers {
		id, utok := c.signupLogin(fmt.Sprintf("user%d%s", i, tag))
		run.users = append(run.users, int64(id))
		run.userToks[int64(id)] = utok
	}
	for i := range crashProjects {
		name := fmt.Sprintf("crash %d", i)
		p := c.call("POST", "/api/v1/projects/", tok, map[string]string{"name": name}, 201)
		pid := int64(p["id"].(float64))
		run.projects = append(run.projects, pid)
		run.names[pid] = name
	}

	// Sockets follow each room through every crash, resuming with since.
	readCtx, stopReading := context.WithCancel(context.Background())
	var readWG sync.WaitGroup
	defer func() { stopReading(); readWG.Wait() }()
	type follower struct {
		r     *reader
		pid   int64
		dials atomic.Int64
	}
	var followers []*follower
	for _, pid := range run.projects {
		for i := range readersPerProject {
			fl := &follower{r: &reader{t: t, pid: strconv.FormatInt(pid, 10), tok: tok}, pid: pid}
			followers = append(followers, fl)
			readWG.Go(func() {
				for readCtx.Err() == nil {
					base := f.pick(readCtx, i)
					if base == "" {
						return
					}
					fl.dials.Add(1)
					_ = fl.r.follow(readCtx, base)
					time.Sleep(20 * time.Millisecond)
				}
			})
		}
	}

	loadCtx, stopLoad := context.WithCancel(context.Background())
	var loadWG sync.WaitGroup
	for n := range taskWorkers {
		wr := mrand.New(mrand.NewPCG(cfg.seed, uint64(n)+1))
		loadWG.Go(func() { run.taskWorker(loadCtx, n, wr) })
	}
	for i, pid := range run.projects {
		wr := mrand.New(mrand.NewPCG(cfg.seed, uint64(100+i)))
		loadWG.Go(func() { run.admin(loadCtx, pid, wr) })
	}
	pause := func() time.Duration {
		return cfg.load/10 + time.Duration(rng.Int64N(int64(cfg.load-cfg.load/10)+1))
	}
	for round := 1; round <= cfg.rounds; round++ {
		time.Sleep(pause())
		i := round % instances
		f.set(i, "")
		procs[i].kill()
		run.kills.Store(int64(round))
		procs[i] = startProc(t, bin, env)
		f.set(i, procs[i].URL)
	}
	time.Sleep(pause())
	stopLoad()
	loadWG.Wait()

	run.verify(t, cfg, func(pid, last int64) readerReport {
		var rep readerReport
		deadline := time.Now().Add(90 * time.Second)
		for _, fl := range followers {
			for fl.pid == pid && fl.r.last() < last && time.Now().Before(deadline) {
				time.Sleep(20 * time.Millisecond)
			}
		}
		time.Sleep(500 * time.Millisecond) // let a duplicate, if any, arrive
		for _, fl := range followers {
			if fl.pid != pid {
				continue
			}
			got := fl.r.got()
			rep.readers++
			rep.deliveries += len(got)
			if fl.dials.Load() > 1 {
				rep.resumed++
			}
			if p := seqProblem(got, last); p != "" {
				rep.problems = append(rep.problems, fmt.Sprintf("socket reader of project %d (connected %d times): %s", pid, fl.dials.Load(), p))
			}
			if p := fl.r.controlProblems(); p != "" {
				rep.problems = append(rep.problems, fmt.Sprintf("socket reader of project %d: %s", pid, p))
			}
		}
		return rep
	})
}
