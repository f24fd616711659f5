package httpapi_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/taskwire/taskwire"
	"github.com/taskwire/taskwire/realtime"
)

// createAPIToken makes an API token with a login token (body nil: named
// "test") and returns its secret and id.
func createAPIToken(t *testing.T, e *env, login string, body any) (string, int64) {
	t.Helper()
	if body == nil {
		body = map[string]string{"name": "test"}
	}
	r := e.do("POST", "/api/v1/users/me/tokens", login, body)
	if r.Status != http.StatusCreated {
		t.Fatalf("create API token: %d %s", r.Status, r.Body)
	}
	var tok struct {
		ID    int64
		Token string
	}
	r.JSON(t, &tok)
	return tok.Token, tok.ID
}

// deleteUser deletes a user as an operator would, in the database: no
// route deletes users.
func deleteUser(t *testing.T, e *env, id int64) {
	t.Helper()
	pool, err := e.db.NewPool(1)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	q := "DELETE FROM users WHERE id = ?"
	if e.db.Postgres() {
		q = "DELETE FROM users WHERE id = $1"
	}
	if _, err := pool.ExecContext(t.Context(), q, id); err != nil {
		t.Fatalf("delete user %d: %v", id, err)
	}
}

// randomAPIToken returns a well-formed API token no server issued.
func randomAPIToken() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return "tw_" + base64.RawURLEncoding.EncodeToString(b[:])
}

func hashAPIToken(t *testing.T, secret string) string {
	t.Helper()
	h, ok := taskwire.ParseAPIToken(secret)
	if !ok {
		t.Fatalf("%q does not parse", secret)
	}
	return h
}

// storeAPIToken stores a token of the user's expiring at expires straight
// in the database (the API refuses an expiry in the past) and returns it.
func storeAPIToken(t *testing.T, e *env, userID int64, expires time.Time) string {
	t.Helper()
	secret := randomAPIToken()
	err := e.db.Update(t.Context(), func(tx taskwire.Tx) error {
		_, err := tx.CreateAPIToken(t.Context(), taskwire.APIToken{UserID: userID, Name: "stored", Hash: hashAPIToken(t, secret),
			CreatedAt: expires.Add(-time.Hour), ExpiresAt: &expires})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return secret
}

// apiTokenShape checks a created token: the secret is tw_ and 43
// characters of base64url, and the fields are those asked for.
func apiTokenShape(name string, expires *time.Time) func(*testing.T, response) {
	return func(t *testing.T, r response) {
		t.Helper()
		var tok struct {
			ID         int64      `json:"id"`
			Name       string     `json:"name"`
			Token      string     `json:"token"`
			CreatedAt  time.Time  `json:"created_at"`
			ExpiresAt  *time.Time `json:"expires_at"`
			LastUsedAt *time.Time `json:"last_used_at"`
		}
		r.JSON(t, &tok)
		checkBody(t, r, jsonIs(`{"id": "<int>", "name": "<string>", "token": "<string>", "created_at": "<rfc3339>", "expires_at": "<any>", "last_used_at": null}`))
		if tok.Name != name {
			t.Errorf("name %q, want %q", tok.Name, name)
		}
		if _, ok := taskwire.ParseAPIToken(tok.Token); !ok || len(tok.Token) != 46 {
			t.Errorf("token %q is not tw_ and 43 characters of base64url", tok.Token)
		}
		if (tok.ExpiresAt == nil) != (expires == nil) || expires != nil && !tok.ExpiresAt.Equal(*expires) {
			t.Errorf("expires_at %v, want %v", tok.ExpiresAt, expires)
		}
		if time.Since(tok.CreatedAt) > time.Minute || time.Until(tok.CreatedAt) > time.Minute {
			t.Errorf("created_at %v is not now", tok.CreatedAt)
		}
	}
}

// TestAPITokenRoutes: creating, listing and revoking API tokens, and every
// documented error.
func TestAPITokenRoutes(t *testing.T) {
	e := newEnv(t)
	_, alice := e.user("alice")
	_, bob := e.user("bob")
	const path = "/api/v1/users/me/tokens"
	expires := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Second)
	name100 := strings.Repeat("é", 100)
	runScenarios(t, e, []scenario{
		{name: "Create", method: "POST", path: path, token: alice, body: map[string]string{"name": "ci"},
			wantStatus: http.StatusCreated, wantBody: apiTokenShape("ci", nil)},
		{name: "CreateTrimsAndExpires", method: "POST", path: path, token: alice,
			body:       map[string]any{"name": "  deploy bot ", "expires_at": expires.Format(time.RFC3339)},
			wantStatus: http.StatusCreated, wantBody: apiTokenShape("deploy bot", &expires)},
		{name: "CreateExpiresNull", method: "POST", path: path, token: alice, body: `{"name": "x", "expires_at": null}`,
			wantStatus: http.StatusCreated, wantBody: apiTokenShape("x", nil)},
		{name: "Create100Characters", method: "POST", path: path, token: alice, body: map[string]string{"name": name100},
			wantStatus: http.StatusCreated, wantBody: apiTokenShape(name100, nil)},
		{name: "CreateNoToken", method: "POST", path: path, body: map[string]string{"name": "ci"},
			wantStatus: http.StatusUnauthorized, wantBody: detailIs("Not authenticated"), wantHeaders: bearerChallenge},
		{name: "CreateNameMissing", method: "POST", path: path, token: alice, body: `{}`,
			wantStatus: http.StatusUnprocessableEntity, wantBody: invalidAt{loc: []any{"body", "name"}, typ: "missing"}},
		{name: "CreateNameEmpty", method: "POST", path: path, token: alice, body: map[string]string{"name": ""},
			wantStatus: http.StatusUnprocessableEntity, wantBody: invalidAt{loc: []any{"body", "name"}}},
		{name: "CreateNameBlank", method: "POST", path: path, token: alice, body: map[string]string{"name": "   "},
			wantStatus: http.StatusUnprocessableEntity, wantBody: invalidAt{loc: []any{"body", "name"}}},
		{name: "CreateNameTooLong", method: "POST", path: path, token: alice, body: map[string]string{"name": name100 + "x"},
			wantStatus: http.StatusUnprocessableEntity, wantBody: invalidAt{loc: []any{"body", "name"}}},
		{name: "CreateNameControl", method: "POST", path: path, token: alice, body: map[string]string{"name": "a\nb"},
			wantStatus: http.StatusUnprocessableEntity, wantBody: invalidAt{loc: []any{"body", "name"}}},
		{name: "CreateNameNotString", method: "POST", path: path, token: alice, body: `{"name": 5}`,
			wantStatus: http.StatusUnprocessableEntity, wantBody: invalidAt{loc: []any{"body", "name"}}},
		{name: "CreateExpiresPast", method: "POST", path: path, token: alice,
			body:       map[string]string{"name": "ci", "expires_at": time.Now().Add(-time.Minute).UTC().Format(time.RFC3339)},
			wantStatus: http.StatusUnprocessableEntity, wantBody: invalidAt{loc: []any{"body", "expires_at"}}},
		{name: "CreateExpiresNotATime", method: "POST", path: path, token: alice, body: map[string]string{"name": "ci", "expires_at": "tomorrow"},
			wantStatus: http.StatusUnprocessableEntity, wantBody: invalidAt{loc: []any{"body", "expires_at"}}},
		{name: "CreateNotJSON", method: "POST", path: path, token: alice, body: `{"name":`,
			wantStatus: http.StatusUnprocessableEntity},
		{name: "ListNoToken", method: "GET", path: path,
			wantStatus: http.StatusUnauthorized, wantBody: detailIs("Not authenticated"), wantHeaders: bearerChallenge},
		{name: "ListEmpty", method: "GET", path: path, token: bob, wantStatus: http.StatusOK, wantBody: jsonIs(`[]`)},
	})

	// The list: the caller's own, newest first, never a secret.
	_, bobsID := createAPIToken(t, e, bob, map[string]string{"name": "bob's"})
	r := e.do("GET", path, alice, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("list: %d %s", r.Status, r.Body)
	}
	var list []map[string]any
	r.JSON(t, &list)
	var names []string
	for _, tok := range list {
		names = append(names, tok["name"].(string))
		for _, k := range []string{"token", "hash", "user_id"} {
			if _, ok := tok[k]; ok {
				t.Errorf("a listed token shows %s: %v", k, tok)
			}
		}
	}
	if want := []string{name100, "x", "deploy bot", "ci"}; strings.Join(names, "|") != strings.Join(want, "|") {
		t.Errorf("alice's tokens %q, want %q (newest first)", names, want)
	}
	checkBody(t, r, jsonIs(`[{"id": "<int>", "name": "<string>", "created_at": "<rfc3339>", "expires_at": null, "last_used_at": null},
		{"id": "<int>", "name": "<string>", "created_at": "<rfc3339>", "expires_at": null, "last_used_at": null},
		{"id": "<int>", "name": "<string>", "created_at": "<rfc3339>", "expires_at": "<rfc3339>", "last_used_at": null},
		{"id": "<int>", "name": "<string>", "created_at": "<rfc3339>", "expires_at": null, "last_used_at": null}]`))
	alicesID := int64(list[0]["id"].(float64))

	del := path + "/" + itoa(alicesID)
	runScenarios(t, e, []scenario{
		{name: "RevokeNoToken", method: "DELETE", path: del,
			wantStatus: http.StatusUnauthorized, wantBody: detailIs("Not authenticated"), wantHeaders: bearerChallenge},
		{name: "RevokeSomeoneElses", method: "DELETE", path: path + "/" + itoa(bobsID), token: alice,
			wantStatus: http.StatusNotFound, wantBody: detailIs("Token not found")},
		{name: "RevokeUnknown", method: "DELETE", path: path + "/987654321", token: alice,
			wantStatus: http.StatusNotFound, wantBody: detailIs("Token not found")},
		{name: "RevokeBadID", method: "DELETE", path: path + "/abc", token: alice,
			wantStatus: http.StatusUnprocessableEntity, wantBody: invalidAt{loc: []any{"path", "token_id"}}},
		{name: "Revoke", method: "DELETE", path: del, token: alice, wantStatus: http.StatusNoContent},
		{name: "RevokeAgain", method: "DELETE", path: del, token: alice,
			wantStatus: http.StatusNotFound, wantBody: detailIs("Token not found")},
		{name: "BobKeepsHis", method: "GET", path: path, token: bob, wantStatus: http.StatusOK,
			wantBody: jsonIs(`[{"id": ` + itoa(bobsID) + `, "name": "bob's", "created_at": "<rfc3339>", "expires_at": null, "last_used_at": null}]`)},
	})
}

// TestAPITokenAuthenticates: an API token works like a login token on REST
// routes (reads and writes, as its user) and on both sockets, and its use
// shows in last_used_at.
func TestAPITokenAuthenticates(t *testing.T) {
	e := newEnv(t)
	aliceID, alice := e.user("alice")
	bobID, bob := e.user("bob")
	tok, tokID := createAPIToken(t, e, alice, nil)

	r := e.do("GET", "/api/v1/users/me", tok, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("GET /users/me with an API token: %d %s", r.Status, r.Body)
	}
	checkBody(t, r, jsonIs(`{"id": `+itoa(aliceID)+`, "email": "alice@example.com", "username": "alice"}`))
	pid := e.project(tok, bobID) // a write, as alice
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	room, _, err := e.dial(ctx, pid, tok, "&v=2")
	if err != nil {
		t.Fatalf("project socket with an API token: %v", err)
	}
	defer room.CloseNow()
	inbox, _, err := websocket.Dial(ctx, e.wsURL("/ws/notifications?token="+tok), nil)
	if err != nil {
		t.Fatalf("notification socket with an API token: %v", err)
	}
	defer inbox.CloseNow()
	// Bob assigns alice a task: her room hears of it, her inbox too.
	r = e.do("POST", "/api/v1/projects/"+itoa(pid)+"/tasks", bob, map[string]any{"title": "for alice", "assignee_id": aliceID})
	if r.Status != http.StatusCreated {
		t.Fatalf("create task: %d %s", r.Status, r.Body)
	}
	for ev := read(t, ctx, room); ev.Event != "task_created"; ev = read(t, ctx, room) {
	}
	if ev := read(t, ctx, inbox); ev.Event != "notification" {
		t.Errorf("inbox got %s, want a notification", ev.Event)
	}

	// last_used_at is written off the request path: wait for it.
	for {
		var list []taskwire.APIToken
		e.do("GET", "/api/v1/users/me/tokens", alice, nil).JSON(t, &list)
		if len(list) == 1 && list[0].ID == tokID && list[0].LastUsedAt != nil {
			if time.Since(*list[0].LastUsedAt) > time.Minute {
				t.Errorf("last_used_at %v is not recent", list[0].LastUsedAt)
			}
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("last_used_at never set: %+v", list)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// TestAPITokenRevocation: once revoked, a token is refused at once and the
// sockets opened with it close with 4401; a login token's sockets of the
// same user carry on.
func TestAPITokenRevocation(t *testing.T) {
	e := newEnv(t)
	_, alice := e.user("alice")
	tok, tokID := createAPIToken(t, e, alice, nil)
	pid := e.project(alice)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	room, _, err := e.dial(ctx, pid, tok, "&v=2")
	if err != nil {
		t.Fatal(err)
	}
	defer room.CloseNow()
	inbox, _, err := websocket.Dial(ctx, e.wsURL("/ws/notifications?token="+tok), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer inbox.CloseNow()
	jwtRoom, _, err := e.dial(ctx, pid, alice, "&v=2")
	if err != nil {
		t.Fatal(err)
	}
	defer jwtRoom.CloseNow()
	// Both sockets have joined once they see this.
	e.task(alice, pid, "before")
	for _, ws := range []*websocket.Conn{room, jwtRoom} {
		for ev := read(t, ctx, ws); ev.Event != "task_created"; ev = read(t, ctx, ws) {
		}
	}

	// The token revokes itself.
	if r := e.do("DELETE", "/api/v1/users/me/tokens/"+itoa(tokID), tok, nil); r.Status != http.StatusNoContent {
		t.Fatalf("revoke: %d %s", r.Status, r.Body)
	}
	r := e.do("GET", "/api/v1/users/me", tok, nil)
	checkScenario(t, scenario{method: "GET", path: "/api/v1/users/me", wantStatus: http.StatusUnauthorized,
		wantBody: detailIs("Could not validate credentials"), wantHeaders: bearerChallenge}, r)
	for name, ws := range map[string]*websocket.Conn{"project": room, "notifications": inbox} {
		if code, _ := readToClose(t, ctx, ws, func([]byte) {}); code != realtime.CloseTokenExpired {
			t.Errorf("%s socket closed with %d, want 4401", name, code)
		}
	}
	if _, res, err := e.dial(ctx, pid, tok, ""); err == nil || res == nil || res.StatusCode != http.StatusForbidden {
		t.Errorf("a socket with the revoked token: %v, want 403", err)
	}
	e.task(alice, pid, "after")
	if ev := read(t, ctx, jwtRoom); ev.Event != "task_created" {
		t.Errorf("the login token's socket got %s, want task_created", ev.Event)
	}
}

// TestAPITokenExpiry: a token that expires while its socket is open closes
// it with 4401, and is refused from then on; a token stored expired never
// works.
func TestAPITokenExpiry(t *testing.T) {
	e := newEnv(t)
	aliceID, alice := e.user("alice")
	expires := time.Now().Add(3 * time.Second)
	tok, _ := createAPIToken(t, e, alice, map[string]string{"name": "brief", "expires_at": expires.UTC().Format(time.RFC3339Nano)})
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	inbox, _, err := websocket.Dial(ctx, e.wsURL("/ws/notifications?token="+tok), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer inbox.CloseNow()
	if code, _ := readToClose(t, ctx, inbox, func([]byte) {}); code != realtime.CloseTokenExpired {
		t.Errorf("socket closed with %d, want 4401", code)
	}
	if time.Now().Before(expires) {
		t.Errorf("closed before the token expired")
	}
	stored := storeAPIToken(t, e, aliceID, time.Now().Add(-time.Second))
	for name, tok := range map[string]string{"expired while open": tok, "stored expired": stored} {
		r := e.do("GET", "/api/v1/users/me", tok, nil)
		if r.Status != http.StatusUnauthorized {
			t.Errorf("%s: %d %s, want 401", name, r.Status, r.Body)
		}
		if _, res, err := websocket.Dial(ctx, e.wsURL("/ws/notifications?token="+tok), nil); err == nil || res == nil || res.StatusCode != http.StatusForbidden {
			t.Errorf("%s: socket %v, want 403", name, err)
		}
	}
}

// TestAPITokenRefused: a deleted user's token, and strings that are not
// tokens this server issued, are refused with 401 (403 on a socket).
func TestAPITokenRefused(t *testing.T) {
	e := newEnv(t)
	goneID, gone := e.user("gone")
	_, alice := e.user("alice")
	orphan, _ := createAPIToken(t, e, gone, nil)
	valid, _ := createAPIToken(t, e, alice, nil)
	deleteUser(t, e, goneID)
	// The last of the 43 characters carries the last 4 bits of the 32
	// bytes and 2 unused ones, which are zero: setting one spells the same
	// bytes another way, which must not pass.
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	aliased := valid[:len(valid)-1] + string(alphabet[strings.IndexByte(alphabet, valid[len(valid)-1])|1])
	for name, tok := range map[string]string{
		"deleted user":    orphan,
		"unknown":         randomAPIToken(),
		"prefix only":     "tw_",
		"short":           valid[:len(valid)-1],
		"long":            valid + "A",
		"padded":          valid + "=",
		"standard base64": "tw_" + strings.Repeat("+", 43),
		"trailing bits":   aliased,
		"upper prefix":    "TW_" + valid[3:],
		"space inside":    valid[:10] + " " + valid[11:],
	} {
		t.Run(name, func(t *testing.T) {
			r := e.do("GET", "/api/v1/users/me", tok, nil)
			checkScenario(t, scenario{method: "GET", path: "/api/v1/users/me", wantStatus: http.StatusUnauthorized,
				wantBody: detailIs("Could not validate credentials"), wantHeaders: bearerChallenge}, r)
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			if _, res, err := websocket.Dial(ctx, e.wsURL("/ws/notifications?token="+url.QueryEscape(tok)), nil); err == nil || res == nil || res.StatusCode != http.StatusForbidden {
				t.Errorf("socket: %v, want 403", err)
			}
		})
	}
	if r := e.do("GET", "/api/v1/users/me", valid, nil); r.Status != http.StatusOK {
		t.Errorf("the valid token: %d %s", r.Status, r.Body)
	}
}

// BenchmarkBearer compares an authenticated request (GET /users/me) with
// a login token, whose user is cached, and with an API token, which is
// read from the database every time.
func BenchmarkBearer(b *testing.B) {
	e := newEnv(b)
	_, jwt := e.user("alice")
	r := e.do("POST", "/api/v1/users/me/tokens", jwt, map[string]string{"name": "bench"})
	var tok struct{ Token string }
	r.JSON(b, &tok)
	for name, credential := range map[string]string{"JWT": jwt, "APIToken": tok.Token} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if r := e.do("GET", "/api/v1/users/me", credential, nil); r.Status != http.StatusOK {
					b.Fatalf("%d %s", r.Status, r.Body)
				}
			}
		})
	}
}

// TestAPITokenCannotMakeTokens: only a password sign-in makes API tokens,
// so a leaked token cannot mint one that outlives its revocation; the
// token still does everything else its user can.
func TestAPITokenCannotMakeTokens(t *testing.T) {
	e := newEnv(t)
	_, alice := e.user("alice")
	tok, _ := createAPIToken(t, e, alice, nil)
	r := e.do("POST", "/api/v1/users/me/tokens", tok, map[string]string{"name": "minted"})
	if r.Status != http.StatusForbidden {
		t.Fatalf("POST /users/me/tokens with an API token: %d %s", r.Status, r.Body)
	}
	checkBody(t, r, jsonIs(`{"detail": "API tokens cannot create API tokens: sign in with your password"}`))
	if r := e.do("GET", "/api/v1/users/me/tokens", tok, nil); r.Status != http.StatusOK || strings.Contains(string(r.Body), "minted") {
		t.Errorf("list with the API token: %d %s", r.Status, r.Body)
	}
}
