package httpapi_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/golang-jwt/jwt/v5"
	"github.com/taskwire/taskwire"
	"github.com/taskwire/taskwire/auth"
)

// This file holds the world the authorization matrix (authz_matrix_test.go)
// runs in: its users and tokens, the per-route fixture, and the markers
// that must never reach the wrong identity.

// identity is one column of the authorization matrix: who sends the request.
type identity string

const (
	idNoToken      identity = "no-token"               // no credentials at all
	idExpired      identity = "expired-token"          // the owner's token, expired an hour ago
	idBadSignature identity = "tampered-signature"     // the owner's token with its signature altered
	idBadPayload   identity = "tampered-payload"       // the member's token re-labelled as the owner's, signature kept
	idAPIRevoked   identity = "revoked-api-token"      // the owner's API token, revoked
	idAPIExpired   identity = "expired-api-token"      // the owner's API token, expired an hour ago
	idAPIOrphan    identity = "deleted-user-api-token" // the API token of a user since deleted
	idAPIUnknown   identity = "unknown-api-token"      // well-formed, never issued
	idAPIMalformed identity = "malformed-api-token"    // tw_ and something that is not 32 bytes of base64url
	idOtherUser    identity = "other-user"             // a signed-in user with data of their own and no tie to the owner
	idNonMember    identity = "non-member"             // shares another project with the owner, not this one
	idRemoved      identity = "removed-member"         // was a member of this project, then removed
	idMissing      identity = "missing-id"             // the owner, naming an id that does not exist
	idMember       identity = "member"                 // a member who is not the owner
	idOwner        identity = "owner"                  // the legitimate user: the control
)

// identities is the matrix's column order. The owner runs last: its
// requests may delete what the others were refused.
var identities = []identity{
	idNoToken, idExpired, idBadSignature, idBadPayload,
	idAPIRevoked, idAPIExpired, idAPIOrphan, idAPIUnknown, idAPIMalformed,
	idOtherUser, idNonMember, idRemoved, idMissing, idMember, idOwner,
}

// badCredentials are the identities without a valid token.
var badCredentials = []identity{idNoToken, idExpired, idBadSignature, idBadPayload,
	idAPIRevoked, idAPIExpired, idAPIOrphan, idAPIUnknown, idAPIMalformed}

// outsiders are signed-in users with no right to the owner's project.
var outsiders = []identity{idOtherUser, idNonMember, idRemoved}

// missingID is an id no fixture ever reaches.
const missingID = 987654321

// authzUser is a signed-up user with a valid token.
type authzUser struct {
	ID    int64
	Name  string
	Email string
	Token string
}

// authzMarker is a unique string planted in someone's data; only the allowed
// identities may ever receive it.
type authzMarker struct {
	text    string
	allowed []identity
}

// authzWorld is everything the matrix shares across routes.
type authzWorld struct {
	e   *env
	tag string // makes every name and marker of this run unique

	owner, member, removed, nonMember, other authzUser
	// carol acts on the owner's behalf in a project of hers, to fill the
	// owner's inbox; victim is a member the member may not remove;
	// invitee a user only the owner may add; login a user to log in as.
	carol, victim, invitee, login authzUser

	expired, badSignature, badPayload string
	// API tokens that must not work, by identity.
	badAPITokens map[identity]string

	inboxProject int64 // carol's project, the owner a member
	inboxTask    int64 // carol's task assigned to the owner
	inboxNote    int64 // the owner's notification about it

	markers []authzMarker
	n       int // numbers names

	receiver *receiver // the fixtures' webhooks post here
}

// next returns a fresh name with prefix.
func (w *authzWorld) next(prefix string) string {
	w.n++
	return prefix + "-" + w.tag + "-" + itoa(int64(w.n))
}

// plant registers text as visible to allowed only, and returns it.
func (w *authzWorld) plant(text string, allowed ...identity) string {
	w.markers = append(w.markers, authzMarker{text: text, allowed: allowed})
	return text
}

// membersOnly are the identities entitled to a project's contents.
var membersOnly = []identity{idOwner, idMember}

func newAuthzWorld(t *testing.T) *authzWorld {
	t.Helper()
	var b [4]byte
	_, _ = rand.Read(b[:])
	w := &authzWorld{e: newEnv(t, withEnv("WEBHOOK_ALLOW_PRIVATE", "true")), tag: hex.EncodeToString(b[:])}
	w.receiver = newReceiver(t, nil)
	mk := func(role string) authzUser {
		name := role + "-" + w.tag
		id, tok := w.e.user(name)
		return authzUser{ID: id, Name: name, Email: name + "@example.com", Token: tok}
	}
	w.owner, w.member, w.removed, w.nonMember, w.other = mk("owner"), mk("member"), mk("removed"), mk("nonmember"), mk("other")
	w.carol, w.victim, w.invitee, w.login = mk("carol"), mk("victim"), mk("invitee"), mk("login")
	// The owner's email reaches fellow members through project details.
	w.plant(w.owner.Email, idOwner, idMember)

	// The other user has data of their own.
	otherProject := w.e.project(w.other.Token)
	w.e.task(w.other.Token, otherProject, w.next("other-task"))
	// The non-member shares a project with the owner: knowing the owner
	// must not open the owner's other projects.
	w.e.project(w.owner.Token, w.nonMember.ID)

	// The owner's inbox holds a notification no one else may see.
	w.inboxProject = w.e.project(w.carol.Token, w.owner.ID)
	r := w.e.do("POST", "/api/v1/projects/"+itoa(w.inboxProject)+"/tasks", w.carol.Token,
		map[string]any{"title": w.plant(w.next("inbox"), idOwner), "assignee_id": w.owner.ID})
	if r.Status != http.StatusCreated {
		t.Fatalf("assign the owner a task: %d %s", r.Status, r.Body)
	}
	w.inboxTask = createdID(t, r)
	inbox, err := w.e.svc.Notifications(t.Context(), taskwire.User{ID: w.owner.ID}, taskwire.NotificationFilter{}, taskwire.Page{})
	if ns := inbox.Notifications; err != nil || len(ns) == 0 || ns[0].Type != taskwire.NotifyTaskAssigned {
		t.Fatalf("the owner's inbox: %v %v", ns, err)
	}
	w.inboxNote = inbox.Notifications[0].ID

	w.expired = signedToken(t, testSecret, expiredClaims(w.owner.ID))
	w.badSignature = alterSignature(t, w.owner.Token)
	w.badPayload = withSubject(t, w.member.Token, w.owner.ID)
	w.checkTokens(t)
	w.badAPITokens = badAPITokens(t, w.e, w.owner, mk("deleted"))
	return w
}

// badAPITokens makes the API tokens the matrix's API token columns send,
// each checked to fail for the reason its column claims: the revoked one
// and the deleted user's worked before, the expired one is stored.
func badAPITokens(t *testing.T, e *env, owner, doomed authzUser) map[identity]string {
	t.Helper()
	works := func(tok string) {
		t.Helper()
		if r := e.do("GET", "/api/v1/users/me", tok, nil); r.Status != http.StatusOK {
			t.Fatalf("a fresh API token: %d %s", r.Status, r.Body)
		}
	}
	revoked, revokedID := createAPIToken(t, e, owner.Token, nil)
	works(revoked)
	if r := e.do("DELETE", "/api/v1/users/me/tokens/"+itoa(revokedID), owner.Token, nil); r.Status != http.StatusNoContent {
		t.Fatalf("revoke: %d %s", r.Status, r.Body)
	}
	orphan, _ := createAPIToken(t, e, doomed.Token, nil)
	works(orphan)
	deleteUser(t, e, doomed.ID)
	expired := storeAPIToken(t, e, owner.ID, time.Now().Add(-time.Hour))
	if _, _, err := e.db.APITokenByHash(t.Context(), hashAPIToken(t, expired)); err != nil {
		t.Fatalf("the expired API token is not stored: %v", err)
	}
	return map[identity]string{
		idAPIRevoked:   revoked,
		idAPIExpired:   expired,
		idAPIOrphan:    orphan,
		idAPIUnknown:   randomAPIToken(),
		idAPIMalformed: "tw_" + strings.Repeat("A", 42) + "=",
	}
}

// checkTokens makes sure each bad token fails for the reason its column
// claims: the expired one is signed with the server's secret (so only its
// expiry is wrong), the tampered ones differ from valid tokens only where
// they say.
func (w *authzWorld) checkTokens(t *testing.T) {
	t.Helper()
	now := time.Now()
	fresh := signedToken(t, testSecret, jwt.RegisteredClaims{Subject: itoa(w.owner.ID),
		IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour))})
	if c, err := w.e.tokens.Verify(fresh); err != nil || c.UserID != w.owner.ID {
		t.Fatalf("testSecret is not the server's secret: %v", err)
	}
	_, err := w.e.tokens.Verify(w.expired)
	if !errors.Is(err, auth.ErrInvalidToken) || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("expired token: %v, want an expiry error", err)
	}
	for name, tok := range map[string]string{"signature": w.badSignature, "payload": w.badPayload} {
		if _, err := w.e.tokens.Verify(tok); !errors.Is(err, auth.ErrInvalidToken) {
			t.Fatalf("tampered %s verifies: %v", name, err)
		}
	}
}

// alterSignature changes one character in the middle of a token's
// signature (the last character may only carry padding bits).
func alterSignature(t *testing.T, tok string) string {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 || len(parts[2]) < 10 {
		t.Fatalf("not a JWT: %q", tok)
	}
	sig := []byte(parts[2])
	i := len(sig) / 2
	if sig[i] == 'A' {
		sig[i] = 'B'
	} else {
		sig[i] = 'A'
	}
	parts[2] = string(sig)
	return strings.Join(parts, ".")
}

// withSubject rewrites a token's subject, keeping its header and
// signature: a member trying to pass as the owner.
func withSubject(t *testing.T, tok string, userID int64) string {
	t.Helper()
	parts := strings.Split(tok, ".")
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	if err := json.Unmarshal(raw, &claims); err != nil {
		t.Fatal(err)
	}
	claims["sub"] = itoa(userID)
	raw, _ = json.Marshal(claims)
	parts[1] = base64.RawURLEncoding.EncodeToString(raw)
	return strings.Join(parts, ".")
}

// token is what who sends ("" for nothing).
func (w *authzWorld) token(who identity) string {
	switch who {
	case idExpired:
		return w.expired
	case idBadSignature:
		return w.badSignature
	case idBadPayload:
		return w.badPayload
	}
	if tok, ok := w.badAPITokens[who]; ok {
		return tok
	}
	if u := w.viewer(who); u != nil {
		return u.Token
	}
	return ""
}

// viewer is the user a valid token of who belongs to; nil for the
// identities without one.
func (w *authzWorld) viewer(who identity) *authzUser {
	switch who {
	case idOtherUser:
		return &w.other
	case idNonMember:
		return &w.nonMember
	case idRemoved:
		return &w.removed
	case idMember:
		return &w.member
	case idOwner, idMissing:
		return &w.owner
	}
	return nil
}

// scan fails t if data, received by who, holds a marker who may not see.
func (w *authzWorld) scan(t *testing.T, who identity, what string, data []byte) {
	t.Helper()
	as := who
	if as == idMissing {
		as = idOwner
	}
	for _, m := range w.markers {
		if !slices.Contains(m.allowed, as) && strings.Contains(string(data), m.text) {
			t.Errorf("LEAK: %s received %q (visible only to %v) in %s: %s", who, m.text, m.allowed, what, truncate(data))
		}
	}
}

// scanResponse scans a response's body and header values.
func (w *authzWorld) scanResponse(t *testing.T, who identity, what string, r response) {
	t.Helper()
	w.scan(t, who, what+" body", r.Body)
	for k, vs := range r.Header {
		w.scan(t, who, what+" header "+k, []byte(strings.Join(vs, "\n")))
	}
}

// authzFixture is one route's slice of the world: a project of the
// owner's with the member and the victim in it, the removed member
// removed, a task, and the owner's comment on it.
type authzFixture struct {
	w       *authzWorld
	e       *env // reports to the route's subtest
	project int64
	task    int64
	comment int64
	webhook int64 // made on first use (webhookID)
}

func (w *authzWorld) fixture(t *testing.T) *authzFixture {
	t.Helper()
	e := w.e.as(t)
	fx := &authzFixture{w: w, e: e}
	// The removed member was told the project's name (member_added,
	// member_removed notifications), never its contents.
	r := e.do("POST", "/api/v1/projects/", w.owner.Token, map[string]string{
		"name":        w.plant(w.next("project"), idOwner, idMember, idRemoved),
		"description": w.plant(w.next("project-description"), membersOnly...),
	})
	fx.project = createdID(t, r)
	for _, u := range []authzUser{w.member, w.removed, w.victim} {
		if r := e.do("POST", fx.projectPath("/members"), w.owner.Token, map[string]int64{"user_id": u.ID}); r.Status != http.StatusCreated {
			t.Fatalf("add %s: %d %s", u.Name, r.Status, r.Body)
		}
	}
	if r := e.do("DELETE", fx.projectPath("/members/"+itoa(w.removed.ID)), w.owner.Token, nil); r.Status != http.StatusNoContent {
		t.Fatalf("remove %s: %d %s", w.removed.Name, r.Status, r.Body)
	}
	fx.task = fx.newTask(t)
	fx.comment = fx.newComment(t)
	return fx
}

// newTask creates a task in the fixture's project, its title and
// description for members' eyes only.
func (fx *authzFixture) newTask(t *testing.T) int64 {
	t.Helper()
	r := fx.e.do("POST", fx.projectPath("/tasks"), fx.w.owner.Token, map[string]string{
		"title":       fx.w.plant(fx.w.next("task-title"), membersOnly...),
		"description": fx.w.plant(fx.w.next("task-description"), membersOnly...),
	})
	return createdID(t, r)
}

// newComment adds the owner's comment to the fixture's task, its body for
// members' eyes only.
func (fx *authzFixture) newComment(t *testing.T) int64 {
	t.Helper()
	r := fx.e.do("POST", "/api/v1/tasks/"+itoa(fx.task)+"/comments", fx.w.owner.Token, map[string]string{
		"body": fx.w.plant(fx.w.next("comment"), membersOnly...),
	})
	return createdID(t, r)
}

// newAPIToken makes an API token of the owner's, its name for the
// owner's eyes only, and returns its id.
func (fx *authzFixture) newAPIToken(t *testing.T) int64 {
	t.Helper()
	_, id := createAPIToken(t, fx.e, fx.w.owner.Token, map[string]string{"name": fx.w.plant(fx.w.next("api-token"), idOwner)})
	return id
}

// newInvitation invites a fresh address, the owner's to see only, to the
// fixture's project, and returns its id and token. It is stored directly,
// as the route would store it, because the token travels only by email.
func (fx *authzFixture) newInvitation(t *testing.T) (int64, string) {
	t.Helper()
	email := fx.w.plant(fx.w.next("invitee"), idOwner) + "@example.com"
	id, token := fx.e.storeInvitation(fx.project, fx.w.owner.ID, email, time.Now().Add(time.Hour))
	return id, token
}

func (fx *authzFixture) projectPath(suffix string) string {
	return "/api/v1/projects/" + itoa(fx.project) + suffix
}

// state summarizes what a refused request must not change: the project's
// log and the owner's inbox.
func (fx *authzFixture) state(t *testing.T) string {
	t.Helper()
	ctx := t.Context()
	seq, err := fx.e.svc.LastSeq(ctx, fx.project)
	if err != nil && taskwire.ErrorKind(err) != taskwire.NotFound {
		t.Fatal(err)
	}
	inbox, err := fx.e.svc.Notifications(ctx, taskwire.User{ID: fx.w.owner.ID}, taskwire.NotificationFilter{}, taskwire.Page{})
	if err != nil {
		t.Fatal(err)
	}
	return "project seq " + itoa(seq) + ", owner's notifications " + itoa(int64(len(inbox.Notifications))) + " (" + itoa(inbox.Unread) + " unread)"
}

// wsURL is the WebSocket URL of a path on the test server.
func (e *env) wsURL(path string) string {
	return strings.Replace(e.URL, "http", "ws", 1) + path
}

// readUntil reads frames until done says so, scanning each for who; it
// fails t if the socket closes first.
func (w *authzWorld) readUntil(t *testing.T, ctx context.Context, ws *websocket.Conn, who identity, done func(ev map[string]any) bool) {
	t.Helper()
	for {
		_, msg, err := ws.Read(ctx)
		if err != nil {
			t.Fatalf("socket of %s ended before the expected frame: %v (close %d)", who, err, websocket.CloseStatus(err))
		}
		w.scan(t, who, "socket frame", msg)
		var ev map[string]any
		if err := json.Unmarshal(msg, &ev); err != nil {
			t.Fatalf("frame is not JSON: %q", msg)
		}
		if done(ev) {
			return
		}
	}
}

// readToClose reads frames until the server closes the socket, scanning
// each, and returns the close code and the event names received.
func readToClose(t *testing.T, ctx context.Context, ws *websocket.Conn, scan func(msg []byte)) (websocket.StatusCode, []string) {
	t.Helper()
	var events []string
	for {
		_, msg, err := ws.Read(ctx)
		if err != nil {
			return websocket.CloseStatus(err), events
		}
		scan(msg)
		var ev struct {
			Event string `json:"event"`
		}
		_ = json.Unmarshal(msg, &ev)
		events = append(events, ev.Event)
	}
}

// eventField returns ev.data[name] (or ev[name] without data) as an int64.
func eventField(ev map[string]any, name string) int64 {
	m := ev
	if d, ok := ev["data"].(map[string]any); ok {
		m = d
	}
	f, _ := m[name].(float64)
	return int64(f)
}
