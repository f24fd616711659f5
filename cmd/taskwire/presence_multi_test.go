package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// presenceLog records the presence messages one socket receives.
type presenceLog struct {
	mu   sync.Mutex
	msgs []string // "presence_joined 2", "presence_left 2"
}

func (l *presenceLog) count(msg string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, m := range l.msgs {
		if m == msg {
			n++
		}
	}
	return n
}

// TestPresenceSpansInstances: a user with sockets on two instances is
// announced once when the first opens and once when the last closes, to a
// watcher on either instance.
func TestPresenceSpansInstances(t *testing.T) {
	redis := redisURL(t)
	env := multiEnv(t, redis)
	a, b, pid, ownerTok, userID, userTok := presenceSetup(t, env)

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	dial := func(base, tok string) *websocket.Conn { return dialProject(ctx, t, base, pid, tok) }
	// The owner watches from both instances.
	watch := func(base string) *presenceLog { return watchPresence(ctx, t, base, pid, ownerTok) }
	onA, onB := watch(a.URL), watch(b.URL)
	joined, left := "presence_joined "+itoa(userID), "presence_left "+itoa(userID)
	settle := func() { time.Sleep(time.Second) } // room for a duplicate to arrive

	first := dial(a.URL, userTok)
	waitFor(t, "the join on both watchers", 10*time.Second, func() bool { return onA.count(joined) == 1 && onB.count(joined) == 1 })
	second := dial(b.URL, userTok)
	settle()
	first.Close(websocket.StatusNormalClosure, "")
	settle()
	if n, m := onA.count(joined)+onB.count(joined), onA.count(left)+onB.count(left); n != 2 || m != 0 {
		t.Fatalf("with the user still online on B: %d joins and %d leaves seen, want 2 joins (one per watcher) and no leave", n, m)
	}
	second.Close(websocket.StatusNormalClosure, "")
	waitFor(t, "the leave on both watchers", 10*time.Second, func() bool { return onA.count(left) == 1 && onB.count(left) == 1 })
	settle()
	if onA.count(joined) != 1 || onB.count(joined) != 1 || onA.count(left) != 1 || onB.count(left) != 1 {
		t.Fatalf("watcher on A saw %v, on B saw %v; want one join and one leave each", onA.msgs, onB.msgs)
	}
}

// TestPresenceAfterRedisLoss: Redis restarts empty while a user is online;
// the instances record their sockets again, so the user's last socket
// closing is still announced as presence_left.
func TestPresenceAfterRedisLoss(t *testing.T) {
	redisURL(t) // the suite runs only where services are expected
	redis := newPrivateRedis(t)
	env := multiEnv(t, redis.URL())
	a, b, pid, ownerTok, userID, userTok := presenceSetup(t, env)

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	onB := watchPresence(ctx, t, b.URL, pid, ownerTok)
	joined, left := "presence_joined "+itoa(userID), "presence_left "+itoa(userID)
	user := dialProject(ctx, t, a.URL, pid, userTok)
	waitFor(t, "the join on B", 10*time.Second, func() bool { return onB.count(joined) == 1 })

	redis.stop()
	redis.start() // empty: nothing was saved
	// Both instances write their presence again within a heartbeat or two.
	waitFor(t, "presence recorded again", 30*time.Second, func() bool {
		req, _ := http.NewRequest("GET", b.URL+"/api/v1/projects/"+pid+"/presence", nil)
		req.Header.Set("Authorization", "Bearer "+ownerTok)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return false
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res.StatusCode == 200 && strings.Contains(string(body), `"roamer"`)
	})
	time.Sleep(2 * time.Second) // the per-user marks follow the presence lists

	user.Close(websocket.StatusNormalClosure, "")
	waitFor(t, "the leave on B", 20*time.Second, func() bool { return onB.count(left) == 1 })
}

// presenceSetup starts two instances with env; an owner's project has the
// user "roamer" as a member.
func presenceSetup(t *testing.T, env map[string]string) (a, b *proc, pid, ownerTok string, userID float64, userTok string) {
	t.Helper()
	bin := buildBinary(t)
	a, b = startProc(t, bin, env), startProc(t, bin, env)
	ca := client{t: t, base: a.URL}
	_, ownerTok = ca.signupLogin("owner")
	userID, userTok = ca.signupLogin("roamer")
	pid = itoa(ca.call("POST", "/api/v1/projects/", ownerTok, map[string]string{"name": "presence"}, 201)["id"])
	ca.call("POST", "/api/v1/projects/"+pid+"/members", ownerTok, map[string]any{"user_id": userID}, 201)
	return a, b, pid, ownerTok, userID, userTok
}

// dialProject opens a project socket speaking protocol 2, which is sent
// presence.
func dialProject(ctx context.Context, t *testing.T, base, pid, tok string) *websocket.Conn {
	t.Helper()
	ws, _, err := websocket.Dial(ctx, strings.Replace(base, "http", "ws", 1)+"/ws/projects/"+pid+"?token="+tok+"&v=2", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.CloseNow() })
	return ws
}

// watchPresence records the presence messages a project socket receives.
func watchPresence(ctx context.Context, t *testing.T, base, pid, tok string) *presenceLog {
	l := &presenceLog{}
	ws := dialProject(ctx, t, base, pid, tok)
	go func() {
		for {
			_, msg, err := ws.Read(ctx)
			if err != nil {
				return
			}
			var m struct {
				Event string `json:"event"`
				Data  struct {
					UserID int64 `json:"user_id"`
				} `json:"data"`
			}
			if json.Unmarshal(msg, &m) == nil && strings.HasPrefix(m.Event, "presence_") {
				l.mu.Lock()
				l.msgs = append(l.msgs, m.Event+" "+itoa(float64(m.Data.UserID)))
				l.mu.Unlock()
			}
		}
	}()
	return l
}
