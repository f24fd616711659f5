package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/taskwire/taskwire"
	"github.com/taskwire/taskwire/auth"
	"github.com/taskwire/taskwire/realtime"
)

// This file tests the realtime layer end to end: a whole server (real
// SQLite file, real sockets), clients that resume with since, leaks,
// floods, presence, live authorization, the reconciler and retention.
//
// Sockets are opened with an explicit since wherever the test then expects
// a later event on them: a socket opened without since starts "live" from
// whatever the room's head is when the server gets round to joining it,
// which may be after the client has already seen the 101 answer.

// ---------------------------------------------------------------------------
// Helpers

// rtSend sends a JSON request without a testing.TB, so that it may be used
// from goroutines and inside fuzz functions.
func rtSend(baseURL, method, path, token string, body any) (response, error) {
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return response{}, err
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, baseURL+path, rd)
	if err != nil {
		return response{}, err
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return response{}, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return response{Status: res.StatusCode, Header: res.Header, Body: b}, err
}

// rtCreateTask creates a task without a testing.TB and returns its id.
func rtCreateTask(baseURL, token string, projectID int64, title string) (int64, error) {
	r, err := rtSend(baseURL, "POST", "/api/v1/projects/"+itoa(projectID)+"/tasks", token, map[string]string{"title": title})
	if err != nil {
		return 0, err
	}
	if r.Status != http.StatusCreated {
		return 0, fmt.Errorf("create task: %d %s", r.Status, r.Body)
	}
	var v struct{ ID int64 }
	if err := json.Unmarshal(r.Body, &v); err != nil || v.ID == 0 {
		return 0, fmt.Errorf("create task: no id in %s", r.Body)
	}
	return v.ID, nil
}

// rtLastSeq is the project's newest seq according to GET .../events.
func rtLastSeq(t testing.TB, e *env, token string, projectID int64) int64 {
	t.Helper()
	r := e.do("GET", "/api/v1/projects/"+itoa(projectID)+"/events", token, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("events of %d: %d %s", projectID, r.Status, r.Body)
	}
	var evs []struct{ Seq int64 }
	r.JSON(t, &evs)
	if len(evs) == 0 {
		return 0
	}
	return evs[len(evs)-1].Seq
}

// rtDialSince opens a project socket that resumes after since.
func rtDialSince(t testing.TB, ctx context.Context, e *env, projectID int64, token string, since int64) *websocket.Conn {
	t.Helper()
	ws, res, err := e.dial(ctx, projectID, token, "&since="+itoa(since))
	if err != nil {
		t.Fatalf("dial project %d since %d: %v (%s)", projectID, since, err, rtStatus(res))
	}
	t.Cleanup(func() { ws.CloseNow() })
	return ws
}

func rtStatus(res *http.Response) string {
	if res == nil {
		return "no HTTP answer"
	}
	return res.Status
}

// rtReadRaw returns the next message but protocol 2's control messages
// (caught_up, heartbeat), as raw members.
func rtReadRaw(t *testing.T, ctx context.Context, ws *websocket.Conn) (map[string]json.RawMessage, []byte) {
	t.Helper()
	for {
		_, msg, err := ws.Read(ctx)
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(msg, &m); err != nil {
			t.Fatalf("decode %s: %v", msg, err)
		}
		var event string
		_ = json.Unmarshal(m["event"], &event)
		if event != realtime.TypeCaughtUp && event != realtime.TypeHeartbeat {
			return m, msg
		}
	}
}

// rtCloseCode reads until the socket ends and returns how it was closed
// and the events (presence skipped) received before.
func rtCloseCode(ctx context.Context, ws *websocket.Conn) (websocket.StatusCode, []wsEvent, error) {
	var got []wsEvent
	for {
		_, msg, err := ws.Read(ctx)
		if err != nil {
			return websocket.CloseStatus(err), got, err
		}
		var ev wsEvent
		if json.Unmarshal(msg, &ev) == nil && !unlogged(ev.Event) {
			got = append(got, ev)
		}
	}
}

// rtWantClose reads until the socket ends and requires close code want.
func rtWantClose(t *testing.T, ctx context.Context, ws *websocket.Conn, want websocket.StatusCode) []wsEvent {
	t.Helper()
	code, got, err := rtCloseCode(ctx, ws)
	if code != want {
		t.Fatalf("socket closed with %d (%v), want %d; events before: %v", code, err, want, rtSeqs(got))
	}
	return got
}

func rtSeqs(evs []wsEvent) []string {
	out := make([]string, len(evs))
	for i, ev := range evs {
		out[i] = ev.Event + "#" + itoa(ev.Seq)
	}
	return out
}

// rtPresence is GET /api/v1/projects/{id}/presence.
func rtPresence(t testing.TB, e *env, token string, projectID int64) []realtime.PresenceEntry {
	t.Helper()
	r := e.do("GET", "/api/v1/projects/"+itoa(projectID)+"/presence", token, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("presence of %d: %d %s", projectID, r.Status, r.Body)
	}
	var out []realtime.PresenceEntry
	r.JSON(t, &out)
	if out == nil {
		t.Fatalf("presence of %d: %s, want an array", projectID, r.Body)
	}
	return out
}

// rtWaitPresence polls the presence of a project until it is want: joining
// and leaving a room happen on the server after the client's handshake or
// close has completed.
func rtWaitPresence(t testing.TB, e *env, token string, projectID int64, want []realtime.PresenceEntry) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := rtPresence(t, e, token, projectID)
		if slices.Equal(got, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("presence of %d is %+v, want %+v", projectID, got, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// dropBroker loses the publishes drop selects, as a broker outage would.
type dropBroker struct {
	taskwire.Publisher
	drop func(taskwire.Event) bool

	mu      sync.Mutex
	dropped []taskwire.Event
}

func (b *dropBroker) Publish(ev taskwire.Event) {
	if b.drop(ev) {
		b.mu.Lock()
		b.dropped = append(b.dropped, ev)
		b.mu.Unlock()
		return
	}
	b.Publisher.Publish(ev)
}

func (b *dropBroker) wrap(next taskwire.Publisher) { b.Publisher = next }

func (b *dropBroker) droppedOf(projectID int64) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for _, ev := range b.dropped {
		if ev.ProjectID == projectID {
			out = append(out, string(ev.Type)+"#"+itoa(ev.Seq))
		}
	}
	return out
}

// ---------------------------------------------------------------------------
// 1. Exactly-once, in-order delivery across disconnects and resumes.

const propSeedEnv = "TASKWIRE_PROP_SEED"

func propSeed(t *testing.T) uint64 {
	t.Helper()
	if s := os.Getenv(propSeedEnv); s != "" {
		seed, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("%s=%q: %v", propSeedEnv, s, err)
		}
		t.Logf("seed %d (from %s)", seed, propSeedEnv)
		return seed
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d (replay with %s=%d)", seed, propSeedEnv, seed)
	return seed
}

// propConn is one socket of a client, read by its own goroutine.
type propConn struct {
	ws      *websocket.Conn
	done    chan struct{} // closed when the reader has returned
	closing atomic.Bool   // the client is closing it
}

// propClient is a member who keeps the seq of the last event it processed
// and resumes from it.
type propClient struct {
	idx   int
	token string
	cur   *propConn // the open socket; owned by the test goroutine

	mu       sync.Mutex // guards the fields below
	seqs     []int64    // every event processed, over all connections
	last     int64      // seq of the last event processed
	conns    int
	tooSlow  int
	problems []string
}

func (c *propClient) lastSeq() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.last
}

// connected reports whether the client has an open socket, forgetting one
// the server has closed (4408: too slow, reconnect with since).
func (c *propClient) connected() bool {
	if c.cur == nil {
		return false
	}
	select {
	case <-c.cur.done:
		c.cur.ws.CloseNow()
		c.cur = nil
		return false
	default:
		return true
	}
}

func (c *propClient) connect(t *testing.T, ctx context.Context, e *env, projectID int64) {
	t.Helper()
	since := c.lastSeq()
	ws, res, err := e.dial(ctx, projectID, c.token, "&since="+itoa(since))
	if err != nil {
		t.Fatalf("client %d: connect with since=%d: %v (%s)", c.idx, since, err, rtStatus(res))
	}
	pc := &propConn{ws: ws, done: make(chan struct{})}
	c.cur = pc
	c.mu.Lock()
	c.conns++
	c.mu.Unlock()
	go c.read(ctx, pc)
}

func (c *propClient) read(ctx context.Context, pc *propConn) {
	defer close(pc.done)
	for {
		_, msg, err := pc.ws.Read(ctx)
		if err != nil {
			if pc.closing.Load() {
				return
			}
			c.mu.Lock()
			if websocket.CloseStatus(err) == realtime.CloseTooSlow {
				c.tooSlow++
			} else {
				c.problems = append(c.problems, fmt.Sprintf("connection %d ended after seq %d: %v", c.conns, c.last, err))
			}
			c.mu.Unlock()
			return
		}
		var ev wsEvent
		if err := json.Unmarshal(msg, &ev); err != nil {
			c.mu.Lock()
			c.problems = append(c.problems, fmt.Sprintf("undecodable message %q", msg))
			c.mu.Unlock()
			continue
		}
		if unlogged(ev.Event) {
			continue
		}
		c.mu.Lock()
		if ev.Seq <= 0 {
			c.problems = append(c.problems, fmt.Sprintf("unexpected message after seq %d: %s", c.last, msg))
		} else {
			c.seqs = append(c.seqs, ev.Seq)
			c.last = ev.Seq
		}
		c.mu.Unlock()
	}
}

// disconnect closes the client's socket normally and waits for its reader.
func (c *propClient) disconnect() {
	if c.cur == nil {
		return
	}
	pc := c.cur
	c.cur = nil
	pc.closing.Store(true)
	_ = pc.ws.Close(websocket.StatusNormalClosure, "")
	<-pc.done
}

type propTask struct {
	id      int64
	status  string
	deleted bool
}

// TestResumeProperty: members connect, disconnect and resume with since at
// random while tasks are created, changed and deleted (some of them while
// a resume is replaying); in the end every member has processed every
// event of the project exactly once, in order.
func TestResumeProperty(t *testing.T) {
	seed := propSeed(t)
	const rounds = 5
	for round := range rounds {
		t.Run("round"+strconv.Itoa(round), func(t *testing.T) {
			runResumeRound(t, rand.New(rand.NewPCG(seed, uint64(round))), round)
		})
	}
}

func runResumeRound(t *testing.T, rng *rand.Rand, round int) {
	const (
		clients = 4
		steps   = 150
	)
	var opts []envOption
	var mode string
	switch round % 3 {
	case 0:
		mode = "default hub"
	case 1:
		// A small ring: most resumes replay from the log, and hand over to
		// the ring while events keep coming.
		mode = "ring of 16"
		opts = append(opts, withEnv("WS_QUEUE_MESSAGES", "16"))
	case 2:
		// Every 7th publish is lost: the rooms repair gaps from the log
		// (the reconciler finds a lost last one).
		mode = "ring of 16, every 7th publish lost"
		var n atomic.Int64
		opts = append(opts,
			withBroker(&dropBroker{drop: func(taskwire.Event) bool { return n.Add(1)%7 == 0 }}),
			withEnv("WS_QUEUE_MESSAGES", "16", "WS_RECONCILE_INTERVAL", "50ms"))
	}
	e := newEnv(t, opts...)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	cs := make([]*propClient, clients)
	var memberIDs []int64
	for i := range cs {
		id, tok := e.user("member" + strconv.Itoa(i))
		cs[i] = &propClient{idx: i, token: tok}
		if i > 0 {
			memberIDs = append(memberIDs, id)
		}
	}
	pid := e.project(cs[0].token, memberIDs...)
	expected := int64(len(memberIDs)) // one member_added each
	var tasks []*propTask

	var trace []string
	logf := func(format string, args ...any) {
		trace = append(trace, fmt.Sprintf("[%d] ", len(trace))+fmt.Sprintf(format, args...))
	}
	t.Cleanup(func() {
		if t.Failed() {
			from := max(0, len(trace)-60)
			t.Logf("mode %s; last steps:\n%s", mode, strings.Join(trace[from:], "\n"))
		}
	})
	defer func() {
		for _, c := range cs {
			c.disconnect()
		}
	}()

	for _, c := range cs {
		if rng.IntN(4) > 0 {
			c.connect(t, ctx, e, pid)
			logf("client %d connects with since=0", c.idx)
		}
	}

	pick := func(want bool) *propClient {
		var out []*propClient
		for _, c := range cs {
			if c.connected() == want {
				out = append(out, c)
			}
		}
		if len(out) == 0 {
			return nil
		}
		return out[rng.IntN(len(out))]
	}
	settle := func() {
		deadline := time.Now().Add(5 * time.Second)
		for _, c := range cs {
			for c.connected() && c.lastSeq() < expected {
				if time.Now().After(deadline) {
					t.Fatalf("client %d is stuck at seq %d; the log is at %d", c.idx, c.lastSeq(), expected)
				}
				time.Sleep(time.Millisecond)
			}
		}
	}
	mutate := func(step int) {
		actor := cs[rng.IntN(len(cs))]
		var live, gone []*propTask
		for _, tk := range tasks {
			if tk.deleted {
				gone = append(gone, tk)
			} else {
				live = append(live, tk)
			}
		}
		kind := rng.IntN(100)
		if len(live) == 0 || kind >= 93 && len(gone) == 0 {
			kind = 0
		}
		switch {
		case kind < 35:
			r := e.do("POST", "/api/v1/projects/"+itoa(pid)+"/tasks", actor.token, map[string]string{"title": "task " + strconv.Itoa(step)})
			if r.Status != http.StatusCreated {
				t.Fatalf("create: %d %s", r.Status, r.Body)
			}
			var v struct{ ID int64 }
			r.JSON(t, &v)
			tasks = append(tasks, &propTask{id: v.ID, status: "todo"})
			expected++
			logf("client %d creates task %d (seq %d)", actor.idx, v.ID, expected)
		case kind < 60:
			tk := live[rng.IntN(len(live))]
			statuses := slices.DeleteFunc([]string{"todo", "in_progress", "done"}, func(s string) bool { return s == tk.status })
			status := statuses[rng.IntN(len(statuses))]
			r := e.do("PATCH", "/api/v1/tasks/"+itoa(tk.id)+"/status", actor.token, map[string]string{"status": status})
			if r.Status != http.StatusOK {
				t.Fatalf("patch status: %d %s", r.Status, r.Body)
			}
			tk.status = status
			expected++
			logf("client %d sets task %d to %s (seq %d)", actor.idx, tk.id, status, expected)
		case kind < 80:
			tk := live[rng.IntN(len(live))]
			r := e.do("PUT", "/api/v1/tasks/"+itoa(tk.id), actor.token, map[string]string{"title": "renamed at " + strconv.Itoa(step)})
			if r.Status != http.StatusOK {
				t.Fatalf("put title: %d %s", r.Status, r.Body)
			}
			expected++
			logf("client %d renames task %d (seq %d)", actor.idx, tk.id, expected)
		case kind < 93:
			tk := live[rng.IntN(len(live))]
			if r := e.do("DELETE", "/api/v1/tasks/"+itoa(tk.id), actor.token, nil); r.Status != http.StatusNoContent {
				t.Fatalf("delete: %d %s", r.Status, r.Body)
			}
			tk.deleted = true
			expected++
			logf("client %d deletes task %d (seq %d)", actor.idx, tk.id, expected)
		default:
			tk := gone[rng.IntN(len(gone))]
			if r := e.do("DELETE", "/api/v1/tasks/"+itoa(tk.id), actor.token, nil); r.Status != http.StatusNotFound {
				t.Fatalf("delete again: %d %s, want 404", r.Status, r.Body)
			}
			logf("client %d deletes task %d again: 404, no event", actor.idx, tk.id)
		}
	}
	// burst reconnects c while several tasks are created concurrently,
	// started just before or just after the handshake: they commit while
	// the resume is replaying.
	burst := func(c *propClient) {
		n := 2 + rng.IntN(5)
		actors := make([]string, n)
		for i := range actors {
			actors[i] = cs[rng.IntN(len(cs))].token
		}
		ids := make([]int64, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		fire := func() {
			for i := range n {
				wg.Go(func() {
					ids[i], errs[i] = rtCreateTask(e.URL, actors[i], pid, "burst "+strconv.Itoa(i))
				})
			}
		}
		first := rng.IntN(2) == 0
		if first {
			fire()
		}
		since := c.lastSeq()
		c.connect(t, ctx, e, pid)
		if !first {
			fire()
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("burst create %d: %v", i, err)
			}
			tasks = append(tasks, &propTask{id: ids[i], status: "todo"})
		}
		expected += int64(n)
		logf("client %d reconnects with since=%d, %d creates %s the handshake (log now at %d)", c.idx, since, n, map[bool]string{true: "racing", false: "after"}[first], expected)
	}

	for step := range steps {
		switch p := rng.IntN(100); {
		case p < 50:
			mutate(step)
		case p < 62:
			if c := pick(true); c != nil {
				c.disconnect()
				logf("client %d disconnects after seq %d", c.idx, c.lastSeq())
			}
		case p < 76:
			if c := pick(false); c != nil {
				if rng.IntN(100) < 40 {
					burst(c)
				} else {
					since := c.lastSeq()
					c.connect(t, ctx, e, pid)
					logf("client %d reconnects with since=%d", c.idx, since)
				}
			}
		case p < 79:
			// Everyone leaves: the room is dropped and the next socket
			// builds a new one.
			for _, c := range cs {
				c.disconnect()
			}
			logf("every client disconnects")
		default:
			settle()
			logf("connected clients caught up with seq %d", expected)
		}
	}

	last := rtLastSeq(t, e, cs[0].token, pid)
	if last != expected {
		t.Errorf("the log ends at seq %d; the test made %d events", last, expected)
	}
	// Everyone resumes and catches up.
	for _, c := range cs {
		if !c.connected() {
			c.connect(t, ctx, e, pid)
			logf("client %d reconnects with since=%d for the final check", c.idx, c.lastSeq())
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for _, c := range cs {
		for c.lastSeq() < last {
			if !c.connected() {
				c.connect(t, ctx, e, pid)
				logf("client %d was closed as too slow; reconnects with since=%d", c.idx, c.lastSeq())
			}
			if time.Now().After(deadline) {
				t.Fatalf("client %d is stuck at seq %d after its final resume; the log is at %d", c.idx, c.lastSeq(), last)
			}
			time.Sleep(time.Millisecond)
		}
	}
	for _, c := range cs {
		c.disconnect()
	}
	for _, c := range cs {
		c.mu.Lock()
		seqs, problems, conns, slow := slices.Clone(c.seqs), slices.Clone(c.problems), c.conns, c.tooSlow
		c.mu.Unlock()
		for _, p := range problems {
			t.Errorf("client %d: %s", c.idx, p)
		}
		for i, s := range seqs {
			if s != int64(i+1) {
				from, to := max(0, i-5), min(len(seqs), i+5)
				t.Errorf("client %d: the %dth event processed has seq %d, want %d (around it: %v)", c.idx, i+1, s, i+1, seqs[from:to])
				break
			}
		}
		if int64(len(seqs)) != last {
			t.Errorf("client %d processed %d events, want %d", c.idx, len(seqs), last)
		}
		t.Logf("client %d: %d connections, %d closed as too slow, %d events", c.idx, conns, slow, len(seqs))
	}
	t.Logf("mode %s: %d steps, %d events", mode, steps, last)
}

// ---------------------------------------------------------------------------
// 2. Leaks.

// rtSettledGoroutines closes the client's idle keep-alive connections and
// returns the goroutine count once it has stopped changing.
func rtSettledGoroutines() int {
	http.DefaultClient.CloseIdleConnections()
	n, stable := ourGoroutines(), 0
	for deadline := time.Now().Add(2 * time.Second); stable < 5 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
		m := ourGoroutines()
		if m == n {
			stable++
		} else {
			n, stable = m, 0
		}
	}
	return n
}

// ourGoroutines counts the process's goroutines but the job queue's. The
// server under test is the whole application, whose River client starts
// and stops its maintenance goroutines on its own schedule (on PostgreSQL,
// once it is elected leader); they have nothing to do with sockets.
func ourGoroutines() int {
	buf := make([]byte, 4<<20)
	buf = buf[:runtime.Stack(buf, true)]
	n := 0
	for g := range strings.SplitSeq(string(buf), "\n\n") {
		if !strings.Contains(g, "github.com/riverqueue/") {
			n++
		}
	}
	return n
}

// TestSocketsAndGoroutinesReleased: 100 sockets closed by their clients,
// by the removal of their member or by the deletion of their project leave
// no goroutine and no presence behind.
func TestSocketsAndGoroutinesReleased(t *testing.T) {
	e := newEnv(t)
	ownerID, owner := e.user("owner")
	ids := make([]int64, 4)
	toks := make([]string, 4)
	for i := range ids {
		ids[i], toks[i] = e.user("m" + strconv.Itoa(i))
	}
	victimID, victim := e.user("victim")
	p1 := e.project(owner, ids[0], ids[1], ids[2], ids[3], victimID)
	p2 := e.project(owner, ids[0], ids[1])
	p3 := e.project(owner, ids[2], ids[3])
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	// Warm-up: one socket opened and closed, and the rest of the server's
	// lazily started machinery used once.
	w := rtDialSince(t, ctx, e, p1, owner, rtLastSeq(t, e, owner, p1))
	if err := w.Close(websocket.StatusNormalClosure, ""); err != nil {
		t.Fatalf("warm-up close: %v", err)
	}
	rtWaitPresence(t, e, owner, p1, nil)
	baseline := rtSettledGoroutines()
	t.Logf("baseline: %d goroutines", baseline)

	type sock struct {
		ws  *websocket.Conn
		pid int64
	}
	var byClient, byRemoval, byDeletion []sock
	open := func(list *[]sock, pid int64, n int, tokens ...string) {
		since := rtLastSeq(t, e, owner, pid)
		for i := range n {
			*list = append(*list, sock{rtDialSince(t, ctx, e, pid, tokens[i%len(tokens)], since), pid})
		}
	}
	open(&byClient, p1, 40, owner, toks[0], toks[1], toks[2], toks[3])
	open(&byClient, p2, 30, owner, toks[0], toks[1]) // m0 and m1 are in two rooms
	open(&byRemoval, p1, 10, victim)
	open(&byDeletion, p3, 20, owner, toks[2], toks[3])
	if n := len(byClient) + len(byRemoval) + len(byDeletion); n != 100 {
		t.Fatalf("%d sockets", n)
	}

	// A few events reach every socket.
	want := map[int64][]int64{}
	for _, pid := range []int64{p1, p2, p3} {
		for i := range 2 {
			want[pid] = append(want[pid], e.task(owner, pid, "t"+strconv.Itoa(i)).ID)
		}
	}
	for _, list := range [][]sock{byClient, byRemoval, byDeletion} {
		for i, s := range list {
			for _, id := range want[s.pid] {
				ev := read(t, ctx, s.ws)
				var d struct{ ID int64 }
				_ = json.Unmarshal(ev.Data, &d)
				if ev.Event != "task_created" || d.ID != id {
					t.Fatalf("socket %d of project %d: got %s %s, want task_created of %d", i, s.pid, ev.Event, ev.Data, id)
				}
			}
		}
	}

	// The owner's first socket in project 1 stays open until the others
	// are gone, so that its room stays and its presence must be exact.
	keeper := byClient[0].ws
	for _, s := range byClient[1:] {
		if err := s.ws.Close(websocket.StatusNormalClosure, ""); err != nil {
			t.Errorf("client close: %v", err)
		}
	}
	if r := e.do("DELETE", "/api/v1/projects/"+itoa(p1)+"/members/"+itoa(victimID), owner, nil); r.Status != http.StatusNoContent {
		t.Fatalf("remove member: %d %s", r.Status, r.Body)
	}
	for _, s := range byRemoval {
		got := rtWantClose(t, ctx, s.ws, realtime.CloseAccessRevoked)
		if len(got) == 0 || got[len(got)-1].Event != "member_removed" {
			t.Fatalf("removed member's socket got %v before 4403, want member_removed last", rtSeqs(got))
		}
	}
	if r := e.do("DELETE", "/api/v1/projects/"+itoa(p3), owner, nil); r.Status != http.StatusNoContent {
		t.Fatalf("delete project: %d %s", r.Status, r.Body)
	}
	for _, s := range byDeletion {
		got := rtWantClose(t, ctx, s.ws, realtime.CloseAccessRevoked)
		if len(got) == 0 || got[len(got)-1].Event != "project_deleted" {
			t.Fatalf("deleted project's socket got %v before 4403, want project_deleted last", rtSeqs(got))
		}
	}

	rtWaitPresence(t, e, owner, p1, []realtime.PresenceEntry{{UserID: ownerID, Username: "owner", Connections: 1}})
	if err := keeper.Close(websocket.StatusNormalClosure, ""); err != nil {
		t.Errorf("client close: %v", err)
	}
	rtWaitPresence(t, e, owner, p1, nil)
	rtWaitPresence(t, e, owner, p2, nil)
	if r := e.do("GET", "/api/v1/projects/"+itoa(p3)+"/presence", owner, nil); r.Status != http.StatusNotFound {
		t.Errorf("presence of the deleted project: %d %s, want 404", r.Status, r.Body)
	}

	// Wait for the count to come back to the baseline; a few more (the
	// HTTP keep-alive pool) are tolerated once the wait is over.
	const slack = 5
	var n int
	for deadline := time.Now().Add(5 * time.Second); ; {
		http.DefaultClient.CloseIdleConnections()
		n = ourGoroutines()
		if n <= baseline || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n > baseline+slack {
		buf := make([]byte, 4<<20)
		buf = buf[:runtime.Stack(buf, true)]
		t.Fatalf("%d goroutines remain, baseline %d; dump:\n%s", n, baseline, buf)
	}
	t.Logf("after: %d goroutines", n)
}

// TestClientMessageRightAfterHandshake: a client may send as soon as it
// has the 101 answer, and what it sends then must be read like anything
// later. The 101 goes out before the socket takes the connection over, so
// the first bytes of such a message may already sit in the HTTP server's
// buffers (net/http's background read holds one byte) at the hand-over; a
// hand-over that drops them misreads every later frame. Each round sends a
// text message at once, then closes normally: the server must ignore the
// text and answer the close with 1000. The window is narrow, hence many
// rounds.
func TestClientMessageRightAfterHandshake(t *testing.T) {
	e := newEnv(t)
	_, tok := e.user("owner")
	pid := e.project(tok)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const rounds = 300
	var failed []string
	for i := 0; i < rounds && len(failed) < 3; i++ {
		ws, res, err := e.dial(ctx, pid, tok, "&since=0")
		if err != nil {
			t.Fatalf("round %d: dial: %v (%s)", i, err, rtStatus(res))
		}
		if err := ws.Write(ctx, websocket.MessageText, []byte("hello")); err != nil {
			failed = append(failed, fmt.Sprintf("round %d: write: %v", i, err))
		} else if err := ws.Close(websocket.StatusNormalClosure, ""); err != nil {
			failed = append(failed, fmt.Sprintf("round %d: close: %v", i, err))
		}
		ws.CloseNow()
	}
	if len(failed) > 0 {
		t.Fatalf("a message sent right after the handshake was misread:\n%s", strings.Join(failed, "\n"))
	}
}

// ---------------------------------------------------------------------------
// 3. Fuzzed handshake queries.

// rtQueryEscape percent-encodes the bytes a client cannot put in a request
// target as they are, and keeps the rest (including '%', '&', '=', ';' and
// '+') raw for the server to parse.
func rtQueryEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-._~!$&'()*+,;=:@/?%", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// socketQueryWant is what the contract says a handshake with this query
// answers: 403 unless the token is a member's, then 422 for a since that
// is not an integer, negative or ahead of the log, else the upgrade (101).
// Where the contract leaves room (duplicated parameters, since spelled
// with spaces, a sign or leading zeros) it returns every defensible answer.
// nil means any 101 or 4xx (a request target too long to judge).
func socketQueryWant(raw string, isMember func(token string) bool, last int64) []int {
	if len(raw) > 32<<10 {
		return nil
	}
	either := func(a, b []int) []int {
		out := slices.Concat(a, b)
		slices.Sort(out)
		return slices.Compact(out)
	}
	q, _ := url.ParseQuery(raw)
	var member, stranger bool
	for _, tok := range q["token"] {
		if isMember(tok) {
			member = true
		} else {
			stranger = true
		}
	}
	if len(q["token"]) == 0 || !member {
		return []int{http.StatusForbidden}
	}
	var want []int
	if stranger { // token twice, only one of them a member's
		want = []int{http.StatusForbidden}
	}
	sinces, ok := q["since"]
	if !ok {
		return either(want, []int{http.StatusSwitchingProtocols})
	}
	var got []int
	for _, s := range sinces {
		trimmed := strings.TrimSpace(s)
		v, ok := new(big.Int).SetString(trimmed, 10)
		switch {
		case !ok || v.Sign() < 0 || v.Cmp(big.NewInt(last)) > 0:
			got = either(got, []int{http.StatusUnprocessableEntity})
		case trimmed != s || v.String() != s:
			got = either(got, []int{http.StatusSwitchingProtocols, http.StatusUnprocessableEntity})
		default:
			got = either(got, []int{http.StatusSwitchingProtocols})
		}
	}
	if len(sinces) > 1 && len(got) > 1 {
		got = []int{http.StatusSwitchingProtocols, http.StatusUnprocessableEntity}
	}
	return either(want, got)
}

// FuzzSocketQuery fuzzes the query of /ws/projects/{id}: the handshake
// upgrades or answers 403/422 as the contract says, never 5xx, never hangs.
// In the input, $TOKEN stands for the owner's token, $MEMBER for a
// member's and $STRANGER for a non-member's.
func FuzzSocketQuery(f *testing.F) {
	e := newEnv(f)
	ownerID, owner := e.user("owner")
	memberID, member := e.user("member")
	_, stranger := e.user("stranger")
	pid := e.project(owner, memberID)
	e.task(owner, pid, "a")
	e.task(owner, pid, "b")
	last := rtLastSeq(f, e, owner, pid)
	isMember := func(tok string) bool {
		c, err := e.tokens.Verify(tok)
		return err == nil && (c.UserID == ownerID || c.UserID == memberID)
	}
	long := strings.Repeat("9", 5000)
	for _, s := range []string{
		"token=$TOKEN",
		"token=$TOKEN&since=abc",
		"token=$TOKEN&since=-1",
		"token=$TOKEN&since=99999999999999999999",
		"token=$TOKEN&since=1e3",
		"token=$TOKEN&since=%00",
		"token=$TOKEN&since=1&since=2",
		"token=$TOKEN&since=1&since=abc",
		"token=$TOKEN&token=$TOKEN",
		"token=$STRANGER&token=$TOKEN",
		"token=$TOKEN&token=$STRANGER&since=1",
		"token=",
		"token=&since=0",
		"",
		"since=0",
		"token=$MEMBER&since=0",
		"token=$MEMBER&since=3",
		"token=$MEMBER&since=4",
		"token=$STRANGER&since=0",
		"token=$TOKEN&since=" + long,
		"token=" + strings.Repeat("a", 10000),
		"token=$TOKEN&since=0&pad=" + strings.Repeat("x", 10000),
		"token=$TOKEN&since=+1",
		"token=$TOKEN&since=%201%20",
		"token=$TOKEN&since=01",
		"token=$TOKEN&since=",
		"token=$TOKEN;since=1",
		"token=$TOKEN&since=%zz",
		"token=%zz&since=1",
		"token=$TOKEN%00",
		"token=$TOKEN&since=0x10",
		"token=$TOKEN&since=1.0",
		"token=$TOKEN&since=９",
	} {
		f.Add(s)
	}
	base := strings.Replace(e.URL, "http", "ws", 1) + "/ws/projects/" + itoa(pid) + "?"
	names := strings.NewReplacer("$TOKEN", owner, "$MEMBER", member, "$STRANGER", stranger)
	f.Fuzz(func(t *testing.T, q string) {
		raw := rtQueryEscape(names.Replace(q))
		want := socketQueryWant(raw, isMember, last)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		ws, res, err := websocket.Dial(ctx, base+raw, nil)
		var status int
		switch {
		case err == nil:
			status = http.StatusSwitchingProtocols
			if cerr := ws.Close(websocket.StatusNormalClosure, ""); cerr != nil {
				t.Errorf("close after upgrade: %v", cerr)
			}
		case res != nil:
			status = res.StatusCode
		case ctx.Err() != nil:
			t.Fatalf("query %q: the handshake hung: %v", raw, err)
		default:
			t.Fatalf("query %q: no HTTP answer: %v", raw, err)
		}
		if status >= 500 {
			t.Fatalf("query %q: server error %d", raw, status)
		}
		if want == nil {
			if status != http.StatusSwitchingProtocols && (status < 400 || status >= 500) {
				t.Fatalf("query of %d bytes: %d, want 101 or 4xx", len(raw), status)
			}
			return
		}
		if !slices.Contains(want, status) {
			t.Fatalf("query %q: %d, want one of %v", raw, status, want)
		}
	})
}

// ---------------------------------------------------------------------------
// 4. Fuzzed client messages.

// FuzzClientFrames sends fuzzed bytes as a text message (ignored: the
// socket stays open and still gets events; over 4 KiB: 1009) and as a
// binary message (1008) on fresh sockets, while an observer socket in the
// same room keeps receiving every event in order.
func FuzzClientFrames(f *testing.F) {
	e := newEnv(f)
	_, tok := e.user("owner")
	pid := e.project(tok)
	observer := rtDialSince(f, context.Background(), e, pid, tok, 0)
	var seq, seen int64 // the log's last seq; the observer's last event
	mutate := func(t *testing.T) int64 {
		t.Helper()
		if _, err := rtCreateTask(e.URL, tok, pid, "fuzz"); err != nil {
			t.Fatal(err)
		}
		seq++
		return seq
	}
	for _, s := range [][]byte{
		nil,
		[]byte("hello"),
		[]byte(`{"event":"task_created","seq":1}`),
		{0xff, 0xfe, 0x00},
		bytes.Repeat([]byte("x"), 4096),
		bytes.Repeat([]byte("x"), 4097),
		bytes.Repeat([]byte{0}, 20000),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		tooBig := len(msg) > 4096

		// The text socket: an ignored message leaves it open.
		ws, res, err := e.dial(ctx, pid, tok, "&since="+itoa(seq))
		if err != nil {
			t.Fatalf("dial: %v (%s)", err, rtStatus(res))
		}
		defer ws.CloseNow()
		// Text is ignored, so it must be sent whole; an oversized one may
		// be cut short by the server hanging up.
		if err := ws.Write(ctx, websocket.MessageText, msg); err != nil && !tooBig {
			t.Fatalf("write text: %v", err)
		}
		if tooBig {
			if code, _, err := rtCloseCode(ctx, ws); code != websocket.StatusMessageTooBig {
				t.Fatalf("text of %d bytes: closed with %d (%v), want 1009", len(msg), code, err)
			}
		}

		// The binary socket, opened while the text one is still open.
		bws, res, err := e.dial(ctx, pid, tok, "&since="+itoa(seq))
		if err != nil {
			t.Fatalf("dial: %v (%s)", err, rtStatus(res))
		}
		defer bws.CloseNow()
		// The server may hang up as soon as it sees a binary frame's header,
		// so the client may fail to send the rest: only the close code counts.
		_ = bws.Write(ctx, websocket.MessageBinary, msg)
		code, _, err := rtCloseCode(ctx, bws)
		if code != websocket.StatusPolicyViolation && !(tooBig && code == websocket.StatusMessageTooBig) {
			t.Fatalf("binary of %d bytes: closed with %d (%v), want 1008", len(msg), code, err)
		}

		// One mutation: the text socket (still open) and the observer get it.
		want := mutate(t)
		if !tooBig {
			if ev := read(t, ctx, ws); ev.Seq != want {
				t.Fatalf("after text of %d bytes: got %s#%d, want seq %d", len(msg), ev.Event, ev.Seq, want)
			}
			if err := ws.Close(websocket.StatusNormalClosure, ""); err != nil {
				t.Fatalf("close: %v", err)
			}
		}
		for seen < want {
			ev := read(t, ctx, observer)
			if ev.Seq != seen+1 {
				t.Fatalf("observer: got seq %d after %d", ev.Seq, seen)
			}
			seen = ev.Seq
		}
	})
}

// ---------------------------------------------------------------------------
// 5. A connect flood in one room does not disturb another.

func TestConnectFloodDoesNotDisturbOtherRooms(t *testing.T) {
	e := newEnv(t)
	_, owner := e.user("owner")
	memberID, member := e.user("member")
	_, stranger := e.user("stranger")
	pa := e.project(owner)
	pb := e.project(owner, memberID)
	e.task(owner, pb, "something to replay")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	const events = 200
	ws := rtDialSince(t, ctx, e, pa, owner, 0)
	readDone := make(chan error, 1)
	go func() {
		for want := int64(1); want <= events; want++ {
			_, msg, err := ws.Read(ctx)
			if err != nil {
				readDone <- fmt.Errorf("project A socket, waiting for seq %d: %w", want, err)
				return
			}
			var ev wsEvent
			if err := json.Unmarshal(msg, &ev); err != nil {
				readDone <- fmt.Errorf("decode %s: %w", msg, err)
				return
			}
			if unlogged(ev.Event) {
				want--
				continue
			}
			if ev.Seq != want || ev.Event != "task_created" {
				readDone <- fmt.Errorf("project A socket: got %s#%d, want task_created#%d", ev.Event, ev.Seq, want)
				return
			}
		}
		readDone <- nil
	}()

	var serverErrors atomic.Int64
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range events {
			r, err := rtSend(e.URL, "POST", "/api/v1/projects/"+itoa(pa)+"/tasks", owner, map[string]string{"title": "steady " + strconv.Itoa(i)})
			if err != nil {
				t.Errorf("create %d: %v", i, err)
				return
			}
			if r.Status >= 500 {
				serverErrors.Add(1)
			}
			if r.Status != http.StatusCreated {
				t.Errorf("create %d: %d %s", i, r.Status, r.Body)
				return
			}
		}
	})
	const flooders, each = 4, 75
	var upgraded, refused atomic.Int64
	wsB := strings.Replace(e.URL, "http", "ws", 1) + "/ws/projects/" + itoa(pb) + "?token="
	for g := range flooders {
		wg.Go(func() {
			for i := range each {
				var token, extra string
				bad := false
				switch i % 10 {
				case 3:
					token, bad = "not.a.token", true
				case 7:
					token, bad = stranger, true
				default:
					token = []string{owner, member}[(g+i)%2]
					if i%3 == 0 {
						extra = "&since=0"
					}
				}
				c, res, err := websocket.Dial(ctx, wsB+token+extra, nil)
				if err != nil {
					switch {
					case res == nil:
						t.Errorf("flooder %d, socket %d: no HTTP answer: %v", g, i, err)
					case res.StatusCode >= 500:
						serverErrors.Add(1)
						t.Errorf("flooder %d, socket %d: %s", g, i, res.Status)
					case !bad || res.StatusCode != http.StatusForbidden:
						t.Errorf("flooder %d, socket %d (bad token %v): %s", g, i, bad, res.Status)
					default:
						refused.Add(1)
					}
					continue
				}
				upgraded.Add(1)
				if bad {
					t.Errorf("flooder %d, socket %d: upgraded with a bad token", g, i)
				}
				if i%2 == 0 {
					_ = c.Close(websocket.StatusNormalClosure, "")
				} else {
					_ = c.CloseNow()
				}
			}
		})
	}
	wg.Wait()
	select {
	case err := <-readDone:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("project A socket did not receive every event")
	}
	if n := serverErrors.Load(); n > 0 {
		t.Fatalf("%d requests answered 5xx", n)
	}
	if got := upgraded.Load() + refused.Load(); got != flooders*each {
		t.Errorf("%d handshakes completed, want %d", got, flooders*each)
	}
	rtWaitPresence(t, e, owner, pb, nil)
	t.Logf("%d upgraded, %d refused", upgraded.Load(), refused.Load())
}

// ---------------------------------------------------------------------------
// 6. Presence.

func TestPresence(t *testing.T) {
	e := newEnv(t)
	aliceID, alice := e.user("alice")
	bobID, bob := e.user("bob")
	_, carol := e.user("carol")
	pid := e.project(alice, bobID)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	since := rtLastSeq(t, e, alice, pid)

	// Alice opens two tabs; she is present once, with two connections.
	tab1 := rtDialSince(t, ctx, e, pid, alice, since)
	tab2 := rtDialSince(t, ctx, e, pid, alice, since)
	rtWaitPresence(t, e, alice, pid, []realtime.PresenceEntry{{UserID: aliceID, Username: "alice", Connections: 2}})

	// Bob joins: both of Alice's tabs hear of it.
	bws := rtDialSince(t, ctx, e, pid, bob, since)
	checkPresenceMsg := func(who string, m map[string]json.RawMessage, raw []byte, typ string, userID int64, username string) {
		t.Helper()
		var event string
		_ = json.Unmarshal(m["event"], &event)
		if event != typ {
			t.Fatalf("%s: got %s, want %s", who, raw, typ)
		}
		if _, has := m["seq"]; has {
			t.Errorf("%s: %s has a seq; presence is not in the log", who, raw)
		}
		var d map[string]any
		if err := json.Unmarshal(m["data"], &d); err != nil {
			t.Fatalf("%s: data of %s: %v", who, raw, err)
		}
		if d["user_id"] != float64(userID) || d["username"] != username {
			t.Errorf("%s: %s, want data user_id %d, username %q", who, raw, userID, username)
		}
	}
	for name, tab := range map[string]*websocket.Conn{"tab 1": tab1, "tab 2": tab2} {
		m, raw := rtReadRaw(t, ctx, tab)
		checkPresenceMsg(name, m, raw, realtime.TypePresenceJoined, bobID, "bob")
	}

	// GET presence: sorted by user id, exactly three fields.
	r := e.do("GET", "/api/v1/projects/"+itoa(pid)+"/presence", bob, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("presence: %d %s", r.Status, r.Body)
	}
	var entries []map[string]any
	r.JSON(t, &entries)
	want := []map[string]any{
		{"user_id": float64(aliceID), "username": "alice", "connections": float64(2)},
		{"user_id": float64(bobID), "username": "bob", "connections": float64(1)},
	}
	if aliceID > bobID {
		want[0], want[1] = want[1], want[0]
	}
	if fmt.Sprint(entries) != fmt.Sprint(want) {
		t.Fatalf("presence: %s, want %v", r.Body, want)
	}

	// Bob was sent nothing on connect: his first message is the next event.
	task := e.task(alice, pid, "first")
	m, raw := rtReadRaw(t, ctx, bws)
	if !bytes.Contains(m["event"], []byte(`"task_created"`)) || string(m["seq"]) != itoa(since+1) {
		t.Fatalf("bob's first message: %s, want task_created#%d", raw, since+1)
	}
	for _, tab := range []*websocket.Conn{tab1, tab2} {
		if ev := read(t, ctx, tab); ev.Seq != since+1 {
			t.Fatalf("alice: got %s#%d, want seq %d", ev.Event, ev.Seq, since+1)
		}
	}

	// Alice closes one tab: she is still present, nobody is told anything.
	if err := tab1.Close(websocket.StatusNormalClosure, ""); err != nil {
		t.Fatalf("close tab 1: %v", err)
	}
	rtWaitPresence(t, e, bob, pid, []realtime.PresenceEntry{
		{UserID: aliceID, Username: "alice", Connections: 1},
		{UserID: bobID, Username: "bob", Connections: 1},
	})
	if r := e.do("PATCH", "/api/v1/tasks/"+itoa(task.ID)+"/status", alice, map[string]string{"status": "done"}); r.Status != http.StatusOK {
		t.Fatalf("patch: %d %s", r.Status, r.Body)
	}
	m, raw = rtReadRaw(t, ctx, bws)
	if !bytes.Contains(m["event"], []byte(`"status_changed"`)) || string(m["seq"]) != itoa(since+2) {
		t.Fatalf("bob after alice closed one tab: %s, want status_changed#%d", raw, since+2)
	}
	if ev := read(t, ctx, tab2); ev.Seq != since+2 {
		t.Fatalf("alice's second tab: got %s#%d, want seq %d", ev.Event, ev.Seq, since+2)
	}

	// Alice closes her last tab: Bob is told she left.
	if err := tab2.Close(websocket.StatusNormalClosure, ""); err != nil {
		t.Fatalf("close tab 2: %v", err)
	}
	m, raw = rtReadRaw(t, ctx, bws)
	checkPresenceMsg("bob", m, raw, realtime.TypePresenceLeft, aliceID, "alice")
	rtWaitPresence(t, e, bob, pid, []realtime.PresenceEntry{{UserID: bobID, Username: "bob", Connections: 1}})

	// Only members may look.
	r = e.do("GET", "/api/v1/projects/"+itoa(pid)+"/presence", carol, nil)
	if r.Status != http.StatusForbidden || strings.TrimSpace(string(r.Body)) != `{"detail":"Not a member of this project"}` {
		t.Errorf("non-member: %d %s, want 403 Not a member of this project", r.Status, r.Body)
	}
	r = e.do("GET", "/api/v1/projects/"+itoa(pid+1000)+"/presence", alice, nil)
	if r.Status != http.StatusNotFound || strings.TrimSpace(string(r.Body)) != `{"detail":"Project not found"}` {
		t.Errorf("unknown project: %d %s, want 404 Project not found", r.Status, r.Body)
	}
	r = e.do("GET", "/api/v1/projects/"+itoa(pid)+"/presence", "", nil)
	if r.Status != http.StatusUnauthorized {
		t.Errorf("no token: %d %s, want 401", r.Status, r.Body)
	}
}

// ---------------------------------------------------------------------------
// 7. Token expiry.

func TestTokenExpiryClosesSocket(t *testing.T) {
	e := newEnv(t)
	uid, long := e.user("owner")
	pid := e.project(long)
	// JWT expiry has whole seconds: this token expires 2 to 3 s from now.
	short, err := auth.NewTokens([]byte(strings.Repeat("k", 32)), 3*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := short.Issue(uid)
	if err != nil {
		t.Fatal(err)
	}
	claims, err := short.Verify(tok)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sws := rtDialSince(t, ctx, e, pid, tok, 0)
	lws := rtDialSince(t, ctx, e, pid, long, 0)

	e.task(long, pid, "before expiry")
	for name, ws := range map[string]*websocket.Conn{"short-lived": sws, "long-lived": lws} {
		if ev := read(t, ctx, ws); ev.Seq != 1 {
			t.Fatalf("%s socket: got %s#%d, want seq 1", name, ev.Event, ev.Seq)
		}
	}

	got := rtWantClose(t, ctx, sws, realtime.CloseTokenExpired)
	closed := time.Now()
	if len(got) > 0 {
		t.Errorf("short-lived socket got %v before closing", rtSeqs(got))
	}
	if closed.Before(claims.ExpiresAt.Add(-100 * time.Millisecond)) {
		t.Errorf("closed at %v, before the token expired at %v", closed, claims.ExpiresAt)
	}
	if late := closed.Sub(claims.ExpiresAt); late > 2*time.Second {
		t.Errorf("closed %v after the token expired", late)
	}

	// The long-lived socket is still open and still gets events.
	e.task(long, pid, "after expiry")
	if ev := read(t, ctx, lws); ev.Seq != 2 {
		t.Fatalf("long-lived socket: got %s#%d, want seq 2", ev.Event, ev.Seq)
	}
}

// ---------------------------------------------------------------------------
// 8. The reconciler delivers a lost last event.

func TestReconcilerDeliversLostLastEvent(t *testing.T) {
	broker := &dropBroker{drop: func(ev taskwire.Event) bool {
		return ev.Type == taskwire.EventProjectDeleted || ev.Type == taskwire.EventTaskCreated && ev.Seq%5 == 0
	}}
	e := newEnv(t, withBroker(broker), withEnv("WS_RECONCILE_INTERVAL", "100ms"))
	ownerID, owner := e.user("owner")
	memberID, member := e.user("member")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	// The fifth and last event of a burst is lost: nothing later reveals
	// the gap, only the reconciler can.
	pid := e.project(owner)
	ws := rtDialSince(t, ctx, e, pid, owner, 0)
	for i := range 5 {
		e.task(owner, pid, "t"+strconv.Itoa(i))
	}
	rctx, rcancel := context.WithTimeout(ctx, 2*time.Second)
	for want := int64(1); want <= 5; want++ {
		ev := read(t, rctx, ws)
		if ev.Seq != want {
			t.Fatalf("got %s#%d, want seq %d", ev.Event, ev.Seq, want)
		}
	}
	rcancel()
	if d := broker.droppedOf(pid); !slices.Equal(d, []string{"task_created#5"}) {
		t.Fatalf("dropped %v, want task_created#5", d)
	}

	// project_deleted is lost: the sockets still get it, then 4403.
	p2 := e.project(owner, memberID)
	e.task(owner, p2, "doomed")
	last := rtLastSeq(t, e, owner, p2)
	ows := rtDialSince(t, ctx, e, p2, owner, last)
	mws := rtDialSince(t, ctx, e, p2, member, last)
	presence := []realtime.PresenceEntry{{UserID: ownerID, Username: "owner", Connections: 1}, {UserID: memberID, Username: "member", Connections: 1}}
	slices.SortFunc(presence, func(a, b realtime.PresenceEntry) int { return int(a.UserID - b.UserID) })
	rtWaitPresence(t, e, owner, p2, presence)
	if r := e.do("DELETE", "/api/v1/projects/"+itoa(p2), owner, nil); r.Status != http.StatusNoContent {
		t.Fatalf("delete project: %d %s", r.Status, r.Body)
	}
	dctx, dcancel := context.WithTimeout(ctx, 2*time.Second)
	defer dcancel()
	for name, s := range map[string]*websocket.Conn{"owner": ows, "member": mws} {
		got := rtWantClose(t, dctx, s, realtime.CloseAccessRevoked)
		if len(got) != 1 || got[0].Event != "project_deleted" || got[0].Seq != last+1 {
			t.Fatalf("%s: got %v before 4403, want project_deleted#%d", name, rtSeqs(got), last+1)
		}
	}
	if d := broker.droppedOf(p2); !slices.Equal(d, []string{"project_deleted#" + itoa(last+1)}) {
		t.Fatalf("dropped %v, want project_deleted#%d", d, last+1)
	}
}

// ---------------------------------------------------------------------------
// 9. Resume from beyond the retained log.

func TestResyncRequired(t *testing.T) {
	e := newEnv(t, withEnv("EVENT_RETENTION_COUNT", "5"))
	_, tok := e.user("owner")
	pid := e.project(tok)
	for i := range 12 {
		e.task(tok, pid, "t"+strconv.Itoa(i))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	// The log keeps 8..12.
	r := e.do("GET", "/api/v1/projects/"+itoa(pid)+"/events?since=0", tok, nil)
	var gone struct {
		Detail    string `json:"detail"`
		OldestSeq *int64 `json:"oldest_seq"`
	}
	if r.Status != http.StatusGone {
		t.Fatalf("events since 0: %d %s, want 410", r.Status, r.Body)
	}
	r.JSON(t, &gone)
	if gone.OldestSeq == nil || *gone.OldestSeq != 8 || gone.Detail == "" {
		t.Fatalf("events since 0: %s, want oldest_seq 8 and a detail", r.Body)
	}
	r = e.do("GET", "/api/v1/projects/"+itoa(pid)+"/events?since=7", tok, nil)
	var evs []struct{ Seq int64 }
	if r.Status != http.StatusOK {
		t.Fatalf("events since 7: %d %s", r.Status, r.Body)
	}
	r.JSON(t, &evs)
	if len(evs) != 5 || evs[0].Seq != 8 || evs[4].Seq != 12 {
		t.Fatalf("events since 7: %s, want 8..12", r.Body)
	}

	// Within retention: replayed as usual.
	resumed := map[int64]*websocket.Conn{}
	for _, since := range []int64{7, 8} {
		ws := rtDialSince(t, ctx, e, pid, tok, since)
		for want := since + 1; want <= 12; want++ {
			if ev := read(t, ctx, ws); ev.Seq != want {
				t.Fatalf("since=%d: got %s#%d, want seq %d", since, ev.Event, ev.Seq, want)
			}
		}
		resumed[since] = ws
	}
	// Beyond it: one resync_required with the current seq, then live.
	for _, since := range []int64{0, 2} {
		ws := rtDialSince(t, ctx, e, pid, tok, since)
		_, raw := rtReadRaw(t, ctx, ws)
		var got, want any
		_ = json.Unmarshal(raw, &got)
		_ = json.Unmarshal([]byte(`{"event":"resync_required","seq":12}`), &want)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("since=%d: first message %s, want {\"event\":\"resync_required\",\"seq\":12}", since, raw)
		}
		resumed[since] = ws
	}
	e.task(tok, pid, "live")
	for since, ws := range resumed {
		if ev := read(t, ctx, ws); ev.Seq != 13 || ev.Event != "task_created" {
			t.Fatalf("since=%d: got %s#%d, want task_created#13", since, ev.Event, ev.Seq)
		}
	}
}
