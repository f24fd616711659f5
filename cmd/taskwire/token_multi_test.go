package main

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/taskwire/taskwire/realtime"
)

// TestAPITokenRevokedOnEveryInstance: an API token revoked on instance A
// is refused by instance B at once (REST answers 401 right after the
// DELETE), and the sockets it opened on B close with 4401; a login
// token's socket of the same user on B carries on.
func TestAPITokenRevokedOnEveryInstance(t *testing.T) {
	redis := redisURL(t)
	env := multiEnv(t, redis)
	bin := buildBinary(t)
	a, b := startProc(t, bin, env), startProc(t, bin, env)
	ca, cb := client{t: t, base: a.URL}, client{t: t, base: b.URL}
	ownerID, owner := ca.signupLogin("owner")
	helperID, helper := ca.signupLogin("helper")
	created := ca.call("POST", "/api/v1/users/me/tokens", owner, map[string]string{"name": "integration"}, 201)
	tok, tokID := created["token"].(string), itoa(created["id"])
	if !strings.HasPrefix(tok, "tw_") {
		t.Fatalf("token %q", tok)
	}
	pid := itoa(ca.call("POST", "/api/v1/projects/", tok, map[string]string{"name": "tokens"}, 201)["id"]) // the token works on A
	ca.call("POST", "/api/v1/projects/"+pid+"/members", owner, map[string]any{"user_id": helperID}, 201)
	if me := cb.call("GET", "/api/v1/users/me", tok, nil, 200); me["id"] != ownerID {
		t.Fatalf("the token on B is %v, want the owner", me)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	wsBase := strings.Replace(b.URL, "http", "ws", 1)
	dial := func(path string) *websocket.Conn {
		t.Helper()
		ws, _, err := websocket.Dial(ctx, wsBase+path, nil)
		if err != nil {
			t.Fatalf("dial %s on B: %v", path, err)
		}
		t.Cleanup(func() { ws.CloseNow() })
		return ws
	}
	room := dial("/ws/projects/" + pid + "?v=2&token=" + tok)
	inbox := dial("/ws/notifications?token=" + tok)
	control := dial("/ws/projects/" + pid + "?v=2&token=" + owner)
	// next reads until an event named want (skipping presence and the
	// like); the socket must not close first.
	next := func(name string, ws *websocket.Conn, want string) {
		t.Helper()
		for {
			_, msg, err := ws.Read(ctx)
			if err != nil {
				t.Fatalf("%s socket on B ended before %s: %v (close %d)", name, want, err, websocket.CloseStatus(err))
			}
			var ev struct{ Event string }
			_ = json.Unmarshal(msg, &ev)
			if ev.Event == want {
				return
			}
		}
	}
	// The helper, on A, assigns the owner a task: every socket on B has
	// joined once it hears of it.
	ca.call("POST", "/api/v1/projects/"+pid+"/tasks", helper, map[string]any{"title": "joined", "assignee_id": ownerID}, 201)
	next("project (API token)", room, "task_created")
	next("notifications (API token)", inbox, "notification")
	next("project (login token)", control, "task_created")

	ca.call("DELETE", "/api/v1/users/me/tokens/"+tokID, owner, nil, http.StatusNoContent)
	// No wait: B reads the token from the database on every request.
	cb.call("GET", "/api/v1/users/me", tok, nil, http.StatusUnauthorized)
	ca.call("GET", "/api/v1/users/me", tok, nil, http.StatusUnauthorized)
	for name, ws := range map[string]*websocket.Conn{"project": room, "notifications": inbox} {
		for {
			_, _, err := ws.Read(ctx)
			if err == nil {
				continue
			}
			if code := websocket.CloseStatus(err); code != realtime.CloseTokenExpired {
				t.Errorf("%s socket on B ended with %d (%v), want 4401", name, code, err)
			}
			break
		}
	}
	if _, res, err := websocket.Dial(ctx, wsBase+"/ws/notifications?token="+tok, nil); err == nil || res == nil || res.StatusCode != http.StatusForbidden {
		t.Errorf("a new socket with the revoked token on B: %v, want 403", err)
	}
	ca.call("POST", "/api/v1/projects/"+pid+"/tasks", owner, map[string]any{"title": "after"}, 201)
	next("project (login token)", control, "task_created")
}
