package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/taskwire/taskwire/realtime"
)

// readFor returns every message a socket receives until quiet passes with
// nothing more.
func readFor(t *testing.T, ctx context.Context, ws *websocket.Conn, quiet time.Duration) []wsEvent {
	t.Helper()
	var out []wsEvent
	for {
		rctx, cancel := context.WithTimeout(ctx, quiet)
		_, msg, err := ws.Read(rctx)
		cancel()
		if err != nil {
			if errors.Is(err, context.DeadlineExceeded) {
				return out
			}
			t.Fatalf("read: %v (after %v)", err, names(out))
		}
		var ev wsEvent
		decode(t, msg, &ev)
		out = append(out, ev)
	}
}

// readThrough reads messages until one of type typ, and returns them all.
func readThrough(t *testing.T, ctx context.Context, ws *websocket.Conn, typ string) []wsEvent {
	t.Helper()
	var out []wsEvent
	for {
		ev := readAny(t, ctx, ws)
		out = append(out, ev)
		if ev.Event == typ {
			return out
		}
	}
}

func names(evs []wsEvent) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.Event
	}
	return out
}

// TestProtocol1IsTheSeeds: a socket that does not ask for protocol 2 gets
// the seed's three event types and nothing else — no presence when others
// connect, no other event type, no control message — while a protocol 2
// socket in the same room gets everything.
func TestProtocol1IsTheSeeds(t *testing.T) {
	e := newEnv(t, withEnv("WS_HEARTBEAT_INTERVAL", "50ms"))
	bobID, bob := e.user("bob")
	carolID, carol := e.user("carol")
	_, ada := e.user("ada")
	pid := e.project(ada, bobID)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	seed, _, err := e.dial(ctx, pid, ada, "")
	if err != nil {
		t.Fatal(err)
	}
	defer seed.CloseNow()
	explicit, _, err := e.dial(ctx, pid, ada, "&v=1")
	if err != nil {
		t.Fatal(err)
	}
	defer explicit.CloseNow()
	v2, _, err := e.dial(ctx, pid, ada, "&v=2")
	if err != nil {
		t.Fatal(err)
	}
	defer v2.CloseNow()
	if got := readAny(t, ctx, v2); got.Event != realtime.TypeCaughtUp || got.Seq != 1 {
		t.Fatalf("first protocol 2 message = %s seq %d, want caught_up seq 1", got.Event, got.Seq)
	}

	// A second member connects mid-flow, with either protocol.
	bobSeed, _, err := e.dial(ctx, pid, bob, "")
	if err != nil {
		t.Fatal(err)
	}
	defer bobSeed.CloseNow()
	tk := e.task(ada, pid, "one")
	bobV2, _, err := e.dial(ctx, pid, bob, "&v=2")
	if err != nil {
		t.Fatal(err)
	}
	e.do("PATCH", "/api/v1/tasks/"+itoa(tk.ID)+"/status", ada, map[string]string{"status": "done"})
	e.do("PUT", "/api/v1/tasks/"+itoa(tk.ID), ada, map[string]any{"assignee_id": bobID})
	e.do("POST", "/api/v1/projects/"+itoa(pid)+"/members", ada, map[string]int64{"user_id": carolID})
	e.do("PATCH", "/api/v1/projects/"+itoa(pid), ada, map[string]string{"name": "Renamed"})
	c := createdID(t, e.do("POST", "/api/v1/tasks/"+itoa(tk.ID)+"/comments", ada, map[string]string{"body": "@bob, look"}))
	e.do("PATCH", "/api/v1/comments/"+itoa(c), ada, map[string]string{"body": "@bob, look again"})
	e.do("DELETE", "/api/v1/comments/"+itoa(c), ada, nil)
	e.do("DELETE", "/api/v1/tasks/"+itoa(tk.ID), ada, nil)
	e.task(carol, pid, "two")
	bobV2.Close(websocket.StatusNormalClosure, "")
	bobSeed.Close(websocket.StatusNormalClosure, "")
	e.do("DELETE", "/api/v1/projects/"+itoa(pid)+"/members/"+itoa(carolID), ada, nil)

	want := []string{"task_created", "status_changed", "task_updated", "task_created"}
	for name, ws := range map[string]*websocket.Conn{"no v": seed, "v=1": explicit} {
		got := readFor(t, ctx, ws, 400*time.Millisecond)
		if !slices.Equal(names(got), want) {
			t.Errorf("protocol 1 socket (%s) received %v, want exactly %v", name, names(got), want)
		}
		for i, ev := range got {
			if ev.ProjectID != pid || ev.Seq == 0 || ev.ActorID == 0 {
				t.Errorf("protocol 1 %s lacks the envelope fields: %+v", ev.Event, ev)
			}
			if i > 0 && ev.Seq <= got[i-1].Seq {
				t.Errorf("protocol 1 seqs out of order: %d after %d", ev.Seq, got[i-1].Seq)
			}
		}
	}
	var logTypes []string
	for _, ev := range readThrough(t, ctx, v2, "member_removed") { // heartbeats never let it fall quiet
		if ev.Event != realtime.TypeHeartbeat && ev.Event != realtime.TypePresenceJoined && ev.Event != realtime.TypePresenceLeft {
			logTypes = append(logTypes, ev.Event)
		}
	}
	wantAll := []string{"task_created", "status_changed", "task_updated", "member_added", "project_updated",
		"comment_added", "comment_updated", "comment_deleted", "task_deleted", "task_created", "member_removed"}
	if !slices.Equal(logTypes, wantAll) {
		t.Errorf("protocol 2 socket received %v, want %v", logTypes, wantAll)
	}
}

// TestProtocol1RevokedWithoutUnknownFrames: a removed member's protocol 1
// socket is closed with 4403 without being sent member_removed.
func TestProtocol1RevokedWithoutUnknownFrames(t *testing.T) {
	e := newEnv(t)
	bobID, bob := e.user("bob")
	_, ada := e.user("ada")
	pid := e.project(ada, bobID)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws, _, err := e.dial(ctx, pid, bob, "")
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	e.task(ada, pid, "before")
	e.do("DELETE", "/api/v1/projects/"+itoa(pid)+"/members/"+itoa(bobID), ada, nil)
	e.task(ada, pid, "after")
	if ev := readAny(t, ctx, ws); ev.Event != "task_created" {
		t.Fatalf("got %s, want task_created", ev.Event)
	}
	_, msg, err := ws.Read(ctx)
	if code := websocket.CloseStatus(err); code != realtime.CloseAccessRevoked {
		t.Fatalf("got message %s / error %v, want close 4403", msg, err)
	}
}

// TestCaughtUp: a protocol 2 socket is sent caught_up once, right after
// what it asked to be replayed, and at once when there is nothing to
// replay; live events follow it.
func TestCaughtUp(t *testing.T) {
	e := newEnv(t)
	_, ada := e.user("ada")
	pid := e.project(ada)
	for i := range 5 {
		e.task(ada, pid, "t"+itoa(int64(i)))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, tc := range []struct {
		name  string
		query string
		want  []int64 // seqs of the events before caught_up
		at    int64   // caught_up's seq
	}{
		{"Since2", "&since=2", []int64{3, 4, 5}, 5},
		{"Since0", "&since=0", []int64{1, 2, 3, 4, 5}, 5},
		{"SinceNewest", "&since=5", nil, 5},
		{"V2WithoutSince", "&v=2", nil, 5},
		{"V2AndSince", "&v=2&since=4", []int64{5}, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ws, _, err := e.dial(ctx, pid, ada, tc.query)
			if err != nil {
				t.Fatal(err)
			}
			defer ws.CloseNow()
			got := readThrough(t, ctx, ws, realtime.TypeCaughtUp)
			var seqs []int64
			for _, ev := range got[:len(got)-1] {
				seqs = append(seqs, ev.Seq)
			}
			if !slices.Equal(seqs, tc.want) || got[len(got)-1].Seq != tc.at {
				t.Errorf("before caught_up: %v, caught_up seq %d; want %v then %d", seqs, got[len(got)-1].Seq, tc.want, tc.at)
			}
		})
	}
	t.Run("LiveFollows", func(t *testing.T) {
		ws, _, err := e.dial(ctx, pid, ada, "&since=5")
		if err != nil {
			t.Fatal(err)
		}
		defer ws.CloseNow()
		readThrough(t, ctx, ws, realtime.TypeCaughtUp)
		e.task(ada, pid, "live")
		if ev := read(t, ctx, ws); ev.Event != "task_created" || ev.Seq != 6 {
			t.Errorf("after caught_up: %s seq %d, want task_created seq 6", ev.Event, ev.Seq)
		}
	})
}

// TestHeartbeat: every heartbeat's seq is one the socket has been sent
// every event up to, on project and notification sockets; protocol 1
// sockets are sent none.
func TestHeartbeat(t *testing.T) {
	e := newEnv(t, withEnv("WS_HEARTBEAT_INTERVAL", "30ms"))
	bobID, bob := e.user("bob")
	_, ada := e.user("ada")
	pid := e.project(ada, bobID)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	project, _, err := e.dial(ctx, pid, bob, "&v=2")
	if err != nil {
		t.Fatal(err)
	}
	defer project.CloseNow()
	inbox, _, err := websocket.Dial(ctx, e.wsURL("/ws/notifications?token="+bob), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer inbox.CloseNow()
	seed, _, err := e.dial(ctx, pid, bob, "")
	if err != nil {
		t.Fatal(err)
	}
	defer seed.CloseNow()

	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 20 {
			tk := e.task(ada, pid, "t"+itoa(int64(i)))
			e.do("PUT", "/api/v1/tasks/"+itoa(tk.ID), ada, map[string]any{"assignee_id": bobID}) // notifies bob
			time.Sleep(5 * time.Millisecond)
		}
	}()
	check := func(name string, ws *websocket.Conn, last int64) {
		var seen int64
		beats := 0
		for seen < last || beats < 3 {
			ev := readAny(t, ctx, ws)
			switch ev.Event {
			case realtime.TypeHeartbeat:
				beats++
				if ev.Seq != seen {
					t.Errorf("%s: heartbeat seq %d, but the last event sent was %d", name, ev.Seq, seen)
				}
			case realtime.TypeCaughtUp:
				seen = ev.Seq
			case realtime.TypePresenceJoined, realtime.TypePresenceLeft:
			default:
				if ev.Seq != seen+1 {
					t.Errorf("%s: event seq %d after %d", name, ev.Seq, seen)
				}
				seen = ev.Seq
			}
		}
	}
	<-done
	check("project", project, 1+40)   // member_added, then 20 × (task_created, task_updated)
	check("notifications", inbox, 20) // 20 × task_assigned
	for _, ev := range readFor(t, ctx, seed, 200*time.Millisecond) {
		if ev.Event == realtime.TypeHeartbeat || ev.Event == realtime.TypeCaughtUp {
			t.Fatalf("protocol 1 socket was sent %s", ev.Event)
		}
	}
}

// TestSocketResumeRespectsRetention: a socket resuming from before the
// retained log is told to resynchronize, exactly as the REST log answers
// 410, even though the room still holds the events in memory.
func TestSocketResumeRespectsRetention(t *testing.T) {
	e := newEnv(t, withEnv("EVENT_RETENTION_COUNT", "10"))
	_, ada := e.user("ada")
	pid := e.project(ada)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// A socket keeps the room, and its ring of 30 events, alive.
	keep, _, err := e.dial(ctx, pid, ada, "&v=2")
	if err != nil {
		t.Fatal(err)
	}
	defer keep.CloseNow()
	for i := range 30 {
		e.task(ada, pid, "t"+itoa(int64(i)))
	}
	if r := e.do("GET", "/api/v1/projects/"+itoa(pid)+"/events?since=0", ada, nil); r.Status != http.StatusGone {
		t.Fatalf("REST log since=0: %d, want 410", r.Status)
	}
	for _, tc := range []struct {
		since int64
		want  []string
	}{
		{0, []string{"resync_required:30", "caught_up:30"}},
		{19, []string{"resync_required:30", "caught_up:30"}},
		{27, []string{"task_created:28", "task_created:29", "task_created:30", "caught_up:30"}},
	} {
		ws, _, err := e.dial(ctx, pid, ada, "&since="+itoa(tc.since))
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, ev := range readThrough(t, ctx, ws, realtime.TypeCaughtUp) {
			got = append(got, ev.Event+":"+itoa(ev.Seq))
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("since=%d: %v, want %v", tc.since, got, tc.want)
		}
		ws.CloseNow()
	}
}

// TestSocketProtocolRefusals: a bad v or since is refused at the handshake
// with 422 and FastAPI's error shape.
func TestSocketProtocolRefusals(t *testing.T) {
	e := newEnv(t)
	_, ada := e.user("ada")
	pid := e.project(ada)
	e.task(ada, pid, "one")
	for _, tc := range []struct {
		name, path string
		loc        string
	}{
		{"V3", "/ws/projects/" + itoa(pid) + "?v=3", "v"},
		{"VWord", "/ws/projects/" + itoa(pid) + "?v=two", "v"},
		{"VEmpty", "/ws/projects/" + itoa(pid) + "?v=", "v"},
		{"V1WithSince", "/ws/projects/" + itoa(pid) + "?v=1&since=0", "v"},
		{"V2SinceNegative", "/ws/projects/" + itoa(pid) + "?v=2&since=-1", "since"},
		{"V2SinceAhead", "/ws/projects/" + itoa(pid) + "?v=2&since=2", "since"},
		{"V2SinceWord", "/ws/projects/" + itoa(pid) + "?v=2&since=x", "since"},
		{"NotificationsV1", "/ws/notifications?v=1", "v"},
		{"NotificationsV9", "/ws/notifications?v=9", "v"},
		{"NotificationsSinceAhead", "/ws/notifications?v=2&since=1", "since"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do("GET", tc.path+"&token="+ada, "", nil)
			if r.Status != http.StatusUnprocessableEntity {
				t.Fatalf("status %d, want 422: %s", r.Status, r.Body)
			}
			checkBody(t, r, invalidAt{loc: []any{"query", tc.loc}})
		})
	}
}

func decode(t *testing.T, msg []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(msg, v); err != nil {
		t.Fatalf("decode %s: %v", msg, err)
	}
}
