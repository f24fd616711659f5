package main

import (
	"context"
	"encoding/json"
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
	bin := buildBinary(t)
	a, b := startProc(t, bin, env), startProc(t, bin, env)
	ca := client{t: t, base: a.URL}
	_, ownerTok := ca.signupLogin("owner")
	userID, userTok := ca.signupLogin("roamer")
	pid := itoa(ca.call("POST", "/api/v1/projects/", ownerTok, map[string]string{"name": "presence"}, 201)["id"])
	ca.call("POST", "/api/v1/projects/"+pid+"/members", ownerTok, map[string]any{"user_id": userID}, 201)

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	dial := func(base, tok string) *websocket.Conn {
		t.Helper()
		ws, _, err := websocket.Dial(ctx, strings.Replace(base, "http", "ws", 1)+"/ws/projects/"+pid+"?token="+tok, nil)
		if err != nil {
			t.Fatal(err)
		}
		return ws
	}
	// The owner watches from both instances.
	watch := func(base string) *presenceLog {
		l := &presenceLog{}
		ws := dial(base, ownerTok)
		t.Cleanup(func() { ws.CloseNow() })
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
