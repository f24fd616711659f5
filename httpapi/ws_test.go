package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/taskwire/taskwire"
	"github.com/taskwire/taskwire/realtime"
)

// wsEvent is what a project socket receives.
type wsEvent struct {
	Event     string          `json:"event"`
	Data      json.RawMessage `json:"data"`
	Seq       int64           `json:"seq"`
	ProjectID int64           `json:"project_id"`
	ActorID   int64           `json:"actor_id"`
}

func (e *env) dial(ctx context.Context, projectID int64, token, extra string) (*websocket.Conn, *http.Response, error) {
	u := strings.Replace(e.URL, "http", "ws", 1) + "/ws/projects/" + itoa(projectID) + "?token=" + token + extra
	return websocket.Dial(ctx, u, nil)
}

// read returns the next event of the log, skipping presence and
// protocol 2's control messages (caught_up, heartbeat).
func read(t *testing.T, ctx context.Context, ws *websocket.Conn) wsEvent {
	t.Helper()
	for {
		ev := readAny(t, ctx, ws)
		if !unlogged(ev.Event) {
			return ev
		}
	}
}

// unlogged reports the messages that are not events of the log: presence
// and protocol 2's control messages (caught_up, heartbeat).
func unlogged(event string) bool {
	return strings.HasPrefix(event, "presence_") || event == realtime.TypeCaughtUp || event == realtime.TypeHeartbeat
}

// readAny returns the next message, whatever it is.
func readAny(t *testing.T, ctx context.Context, ws *websocket.Conn) wsEvent {
	t.Helper()
	_, msg, err := ws.Read(ctx)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	var ev wsEvent
	if err := json.Unmarshal(msg, &ev); err != nil {
		t.Fatalf("decode %s: %v", msg, err)
	}
	return ev
}

func TestSocketRefusedAtHandshake(t *testing.T) {
	e := newEnv(t)
	owner, tok := e.user("owner")
	_, stranger := e.user("stranger")
	pid := e.project(tok)
	_ = owner
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for name, tc := range map[string]struct {
		project int64
		token   string
		extra   string
		status  int
	}{
		"no token":      {pid, "", "", http.StatusForbidden},
		"garbage token": {pid, "abc.def.ghi", "", http.StatusForbidden},
		"non-member":    {pid, stranger, "", http.StatusForbidden},
		"no project":    {pid + 100, tok, "", http.StatusForbidden},
		"since bad":     {pid, tok, "&since=abc", http.StatusUnprocessableEntity},
		"since < 0":     {pid, tok, "&since=-1", http.StatusUnprocessableEntity},
		"since future":  {pid, tok, "&since=99", http.StatusUnprocessableEntity},
	} {
		t.Run(name, func(t *testing.T) {
			_, res, err := e.dial(ctx, tc.project, tc.token, tc.extra)
			if err == nil || res == nil || res.StatusCode != tc.status {
				t.Fatalf("err %v, response %+v, want status %d", err, res, tc.status)
			}
		})
	}
}

// TestSocketOrderUnderConcurrentWriters: writers race; every socket sees
// every seq exactly once, in order.
func TestSocketOrderUnderConcurrentWriters(t *testing.T) {
	e := newEnv(t)
	_, tok := e.user("owner")
	pid := e.project(tok)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var sockets []*websocket.Conn
	for range 3 {
		ws, _, err := e.dial(ctx, pid, tok, "")
		if err != nil {
			t.Fatal(err)
		}
		defer ws.CloseNow()
		sockets = append(sockets, ws)
	}
	const writers, each = 8, 10
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				e.task(tok, pid, "t"+itoa(int64(w*100+i)))
			}
		})
	}
	wg.Wait()
	for i, ws := range sockets {
		for want := int64(1); want <= writers*each; want++ {
			ev := read(t, ctx, ws)
			if ev.Seq != want || ev.Event != "task_created" {
				t.Fatalf("socket %d: got seq %d (%s), want %d", i, ev.Seq, ev.Event, want)
			}
		}
	}
}

// lossyBroker loses every third event it is given, as a broker outage
// would; the room must repair the gap from the log.
type lossyBroker struct {
	taskwire.Publisher
	mu sync.Mutex
	n  int
}

func (b *lossyBroker) Publish(e taskwire.Event) {
	b.mu.Lock()
	b.n++
	drop := b.n%3 == 0
	b.mu.Unlock()
	if !drop {
		b.Publisher.Publish(e)
	}
}

func (b *lossyBroker) wrap(next taskwire.Publisher) { b.Publisher = next }

func TestSocketRepairsLostPublishes(t *testing.T) {
	broker := &lossyBroker{}
	e := newEnv(t, withBroker(broker))
	_, tok := e.user("owner")
	pid := e.project(tok)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws, _, err := e.dial(ctx, pid, tok, "")
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	// 3k+1 events: the last publish is never the dropped one.
	const n = 31
	for i := range n {
		e.task(tok, pid, "t"+itoa(int64(i)))
	}
	for want := int64(1); want <= n; want++ {
		if ev := read(t, ctx, ws); ev.Seq != want {
			t.Fatalf("got seq %d, want %d", ev.Seq, want)
		}
	}
}

func TestSocketResumeWithSince(t *testing.T) {
	e := newEnv(t)
	_, tok := e.user("owner")
	pid := e.project(tok)
	for i := range 5 {
		e.task(tok, pid, "before"+itoa(int64(i)))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws, _, err := e.dial(ctx, pid, tok, "&since=2")
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	e.task(tok, pid, "after")
	for want := int64(3); want <= 6; want++ {
		if ev := read(t, ctx, ws); ev.Seq != want {
			t.Fatalf("got seq %d, want %d", ev.Seq, want)
		}
	}
}

func TestSocketRevocation(t *testing.T) {
	e := newEnv(t)
	ownerID, owner := e.user("owner")
	memberID, member := e.user("member")
	_ = ownerID
	pid := e.project(owner, memberID)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	// Protocol 2: a protocol 1 socket is not sent member_removed and
	// project_deleted (TestProtocol1RevokedWithoutUnknownFrames).
	mws, _, err := e.dial(ctx, pid, member, "&v=2")
	if err != nil {
		t.Fatal(err)
	}
	defer mws.CloseNow()
	ows, _, err := e.dial(ctx, pid, owner, "&v=2")
	if err != nil {
		t.Fatal(err)
	}
	defer ows.CloseNow()

	if r := e.do("DELETE", "/api/v1/projects/"+itoa(pid)+"/members/"+itoa(memberID), owner, nil); r.Status != http.StatusNoContent {
		t.Fatalf("remove member: %d %s", r.Status, r.Body)
	}
	e.task(owner, pid, "secret plans")
	if ev := read(t, ctx, mws); ev.Event != "member_removed" {
		t.Fatalf("member got %s first", ev.Event)
	}
	_, _, err = mws.Read(ctx)
	if got := websocket.CloseStatus(err); got != realtime.CloseAccessRevoked {
		t.Fatalf("removed member: close %v (%v), want 4403", got, err)
	}

	if ev := read(t, ctx, ows); ev.Event != "member_removed" {
		t.Fatalf("owner got %s", ev.Event)
	}
	if ev := read(t, ctx, ows); ev.Event != "task_created" {
		t.Fatalf("owner got %s", ev.Event)
	}
	if r := e.do("DELETE", "/api/v1/projects/"+itoa(pid), owner, nil); r.Status != http.StatusNoContent {
		t.Fatalf("delete project: %d %s", r.Status, r.Body)
	}
	if ev := read(t, ctx, ows); ev.Event != "project_deleted" {
		t.Fatalf("owner got %s", ev.Event)
	}
	_, _, err = ows.Read(ctx)
	if got := websocket.CloseStatus(err); got != realtime.CloseAccessRevoked {
		t.Fatalf("deleted project: close %v (%v), want 4403", got, err)
	}
}

func TestSocketIgnoresClientTextAndRefusesBinary(t *testing.T) {
	e := newEnv(t)
	_, tok := e.user("owner")
	pid := e.project(tok)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws, _, err := e.dial(ctx, pid, tok, "")
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	if err := ws.Write(ctx, websocket.MessageText, []byte("hello")); err != nil {
		t.Fatal(err)
	}
	e.task(tok, pid, "still delivered")
	if ev := read(t, ctx, ws); ev.Event != "task_created" {
		t.Fatalf("got %s", ev.Event)
	}
	if err := ws.Write(ctx, websocket.MessageBinary, []byte{0, 1, 2}); err != nil {
		t.Fatal(err)
	}
	_, _, err = ws.Read(ctx)
	if got := websocket.CloseStatus(err); got != websocket.StatusPolicyViolation {
		t.Fatalf("close %v (%v), want 1008", got, err)
	}
}

// TestSlowSocketIsClosedOthersUnaffected: a socket that stops reading is
// closed with 4408 once it falls behind its queue; a reading socket in the
// same room receives everything.
func TestSlowSocketIsClosedOthersUnaffected(t *testing.T) {
	// The write timeout outlasts the test's pause, so the slow socket's
	// blocked write completes when it reads again and the close frame
	// reaches it.
	e := newEnv(t, withEnv("WS_QUEUE_MESSAGES", "8", "WS_WRITE_TIMEOUT", "1m"))
	_, tok := e.user("owner")
	pid := e.project(tok)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	// A small receive buffer (no autotuning) on the slow client, so the
	// server's writes block soon after it stops reading.
	var slowConn *net.TCPConn
	smallBuffers := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err == nil {
			slowConn = c.(*net.TCPConn)
			_ = slowConn.SetReadBuffer(16 << 10)
		}
		return c, err
	}}}
	slow, _, err := websocket.Dial(ctx, strings.Replace(e.URL, "http", "ws", 1)+"/ws/projects/"+itoa(pid)+"?token="+tok,
		&websocket.DialOptions{HTTPClient: smallBuffers})
	if err != nil {
		t.Fatal(err)
	}
	defer slow.CloseNow()
	fast, _, err := e.dial(ctx, pid, tok, "")
	if err != nil {
		t.Fatal(err)
	}
	defer fast.CloseNow()
	// Big events fill the slow socket's TCP buffers (the server's send
	// buffer grows to 4 MiB here) quickly.
	desc := strings.Repeat("x", 20000)
	const n = 400
	got := make(chan error, 1)
	go func() {
		for want := int64(1); want <= n; want++ {
			_, msg, err := fast.Read(ctx)
			if err != nil {
				got <- err
				return
			}
			var ev wsEvent
			_ = json.Unmarshal(msg, &ev)
			if ev.Seq != want {
				got <- errors.New("fast socket: out of order")
				return
			}
		}
		got <- nil
	}()
	for i := range n {
		r := e.do("POST", "/api/v1/projects/"+itoa(pid)+"/tasks", tok, map[string]string{"title": "t" + itoa(int64(i)), "description": desc})
		if r.Status != http.StatusCreated {
			t.Fatalf("create: %d", r.Status)
		}
	}
	if err := <-got; err != nil {
		t.Fatal(err)
	}
	// The slow socket now reads (with a normal buffer, or delayed ACKs on a
	// tiny window make the test crawl): it gets a prefix of the events in
	// order, then the 4408 close.
	_ = slowConn.SetReadBuffer(4 << 20)
	var last int64
	for {
		_, msg, err := slow.Read(ctx)
		if err != nil {
			if got := websocket.CloseStatus(err); got != realtime.CloseTooSlow {
				t.Fatalf("slow socket closed with %v (%v), want 4408", got, err)
			}
			break
		}
		var ev wsEvent
		_ = json.Unmarshal(msg, &ev)
		if ev.Seq != last+1 {
			t.Fatalf("slow socket: seq %d after %d", ev.Seq, last)
		}
		last = ev.Seq
	}
	if last >= n {
		t.Fatalf("slow socket received everything (%d); it was never too slow", last)
	}
	// It resumes without loss.
	ws, _, err := e.dial(ctx, pid, tok, "&since="+itoa(last))
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	for want := last + 1; want <= n; want++ {
		if ev := read(t, ctx, ws); ev.Seq != want {
			t.Fatalf("resume: seq %d, want %d", ev.Seq, want)
		}
	}
}

// TestNotificationResumeShowsInboxNow: a notification socket resuming with
// since is sent the notifications as the inbox holds them now, even while
// another socket of the same user keeps the frames pushed at creation
// (read: false) in this instance's ring.
func TestNotificationResumeShowsInboxNow(t *testing.T) {
	e := newEnv(t)
	_, owner := e.user("owner")
	bobID, bob := e.user("bob")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	dialInbox := func(query string) *websocket.Conn {
		t.Helper()
		ws, _, err := websocket.Dial(ctx, strings.Replace(e.URL, "http", "ws", 1)+"/ws/notifications?token="+bob+query, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ws.CloseNow() })
		return ws
	}
	type push struct {
		Seq  int64
		Data struct {
			ID   int64
			Read bool
		}
	}
	next := func(ws *websocket.Conn) (p push) {
		t.Helper()
		ev := read(t, ctx, ws)
		p.Seq = ev.Seq
		if err := json.Unmarshal(ev.Data, &p.Data); err != nil {
			t.Fatalf("decode %s: %v", ev.Data, err)
		}
		return p
	}

	live := dialInbox("")
	pid := e.project(owner, bobID) // bob's notification 1: member_added
	r := e.do("POST", "/api/v1/projects/"+itoa(pid)+"/tasks", owner, map[string]any{"title": "t", "assignee_id": bobID})
	if r.Status != http.StatusCreated { // notification 2: task_assigned
		t.Fatalf("create task: %d %s", r.Status, r.Body)
	}
	first, second := next(live), next(live)
	if first.Seq != 1 || second.Seq != 2 || first.Data.Read || second.Data.Read {
		t.Fatalf("live pushes %+v %+v, want seqs 1 and 2 unread", first, second)
	}
	if r := e.do("POST", "/api/v1/notifications/"+itoa(first.Data.ID)+"/read", bob, nil); r.Status != http.StatusOK {
		t.Fatalf("mark read: %d %s", r.Status, r.Body)
	}

	resumed := dialInbox("&since=0")
	if p := next(resumed); p.Seq != 1 || !p.Data.Read {
		t.Errorf("resumed push %+v, want seq 1 read as the inbox has it", p)
	}
	if p := next(resumed); p.Seq != 2 || p.Data.Read {
		t.Errorf("resumed push %+v, want seq 2 unread", p)
	}
	// Live again after the replay: the next notification reaches both.
	e.do("DELETE", "/api/v1/projects/"+itoa(pid)+"/members/"+itoa(bobID), owner, nil) // 3: member_removed
	if p := next(resumed); p.Seq != 3 {
		t.Errorf("resumed socket's live push %+v, want seq 3", p)
	}
	if p := next(live); p.Seq != 3 {
		t.Errorf("first socket's live push %+v, want seq 3", p)
	}
}
