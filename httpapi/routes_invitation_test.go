package httpapi_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/taskwire/taskwire"
	"github.com/taskwire/taskwire/internal/smtptest"
)

// storeInvitation stores an invitation as CreateInvitation would, with a
// token of its own and the given expiry (a past one makes it expired),
// and returns its id and token: the route's token travels only by email.
func (e *env) storeInvitation(projectID, inviterID int64, email string, expires time.Time) (int64, string) {
	e.t.Helper()
	var b [32]byte
	_, _ = rand.Read(b[:])
	token := hex.EncodeToString(b[:])
	created := time.Now().UTC()
	if expires.Before(created) {
		created = expires.Add(-time.Hour)
	}
	var inv taskwire.Invitation
	err := e.db.Update(context.Background(), func(tx taskwire.Tx) (err error) {
		inv, err = tx.CreateInvitation(context.Background(), taskwire.Invitation{ProjectID: projectID, Email: email,
			InvitedBy: inviterID, TokenHash: taskwire.InvitationTokenHash(token), CreatedAt: created, ExpiresAt: expires})
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return inv.ID, token
}

// invite invites email to the project through the route and returns the
// invitation's id.
func (e *env) invite(token string, projectID int64, email string) int64 {
	e.t.Helper()
	r := e.do("POST", "/api/v1/projects/"+itoa(projectID)+"/invitations", token, map[string]string{"email": email})
	if r.Status != http.StatusCreated {
		e.t.Fatalf("invite %s: %d %s", email, r.Status, r.Body)
	}
	return idOf(e.t, r)
}

// invitationJSON is an invitation body as the contract gives it, pending.
func invitationJSON(id, projectID int64, email string) string {
	b, _ := json.Marshal(email)
	return fmt.Sprintf(`{"id": %d, "project_id": %d, "email": %s, "created_at": "<rfc3339>", "expires_at": "<rfc3339>",
		"accepted_at": null, "accepted_by": null}`, id, projectID, b)
}

// invitationCreated is the authorization matrix's check of a create.
func invitationCreated(t *testing.T, fx *authzFixture, _ identity, r response) {
	checkBody(t, r, jsonIs(`{"id": "<int>", "project_id": `+itoa(fx.project)+`, "email": "<string>", "created_at": "<rfc3339>",
		"expires_at": "<rfc3339>", "accepted_at": null, "accepted_by": null}`))
}

// invitationListed is the authorization matrix's check of a listing: the
// fixture's project's invitations only.
func invitationListed(t *testing.T, fx *authzFixture, _ identity, r response) {
	var invs []taskwire.Invitation
	r.JSON(t, &invs)
	if len(invs) == 0 {
		t.Fatal("no invitations listed")
	}
	for _, inv := range invs {
		if inv.ProjectID != fx.project {
			t.Errorf("listed %+v of another project", inv)
		}
	}
}

// acceptPath is the route that accepts a token.
const acceptPath = "/api/v1/invitations/accept"

func TestInvitationCreate(t *testing.T) {
	e := newEnv(t, withEnv("INVITATION_TTL", "48h"))
	_, alice := e.user("alice")
	bobID, bob := e.user("bob")
	_, carol := e.user("carol")
	pid := e.project(alice, bobID)
	p := "/api/v1/projects/" + itoa(pid) + "/invitations"
	runScenarios(t, e, []scenario{
		{name: "OK", method: "POST", path: p, token: alice, body: map[string]string{"email": "dee@example.com"},
			wantStatus: 201, wantBody: jsonIs(invitationJSON(1, pid, "dee@example.com"))},
		{name: "OKAddressWithoutAccountKeptAsSent", method: "POST", path: p, token: alice, body: map[string]any{"email": "Eve.Smith+tw@Example.org", "project_id": 99},
			wantStatus: 201, wantBody: jsonIs(invitationJSON(2, pid, "Eve.Smith+tw@Example.org"))},
		{name: "OKAgainReplacesThePendingOne", method: "POST", path: p, token: alice, body: map[string]string{"email": "DEE@example.com"},
			wantStatus: 201, wantBody: jsonIs(invitationJSON(3, pid, "DEE@example.com"))},
		{name: "ErrMemberAddress", method: "POST", path: p, token: alice, body: map[string]string{"email": "Bob@Example.com"},
			wantStatus: 409, wantBody: detailIs("This address belongs to a member of this project")},
		{name: "ErrOwnAddress", method: "POST", path: p, token: alice, body: map[string]string{"email": "alice@example.com"},
			wantStatus: 409, wantBody: detailIs("This address belongs to a member of this project")},
		{name: "ErrEmailInvalid", method: "POST", path: p, token: alice, body: map[string]string{"email": "not-an-address"},
			wantStatus: 422, wantBody: invalidAt{loc: []any{"body", "email"}}},
		{name: "ErrEmailDisplayName", method: "POST", path: p, token: alice, body: map[string]string{"email": "Dee <dee@example.com>"},
			wantStatus: 422, wantBody: invalidAt{loc: []any{"body", "email"}}},
		{name: "ErrEmailLineBreak", method: "POST", path: p, token: alice, body: map[string]string{"email": "dee@example.com\r\nBcc: x@example.com"},
			wantStatus: 422, wantBody: invalidAt{loc: []any{"body", "email"}}},
		{name: "ErrEmailTooLong", method: "POST", path: p, token: alice, body: map[string]string{"email": strings.Repeat("d", 250) + "@example.com"},
			wantStatus: 422, wantBody: invalidAt{loc: []any{"body", "email"}}},
		{name: "ErrEmailMissing", method: "POST", path: p, token: alice, body: map[string]string{},
			wantStatus: 422, wantBody: invalidAt{loc: []any{"body", "email"}, typ: "missing"}},
		{name: "ErrEmailWrongType", method: "POST", path: p, token: alice, body: map[string]any{"email": 7},
			wantStatus: 422, wantBody: invalidAt{loc: []any{"body", "email"}}},
		{name: "ErrMalformed", method: "POST", path: p, token: alice, body: `{"email": `,
			wantStatus: 422, wantBody: invalidAt{}},
		{name: "ErrMember", method: "POST", path: p, token: bob, body: map[string]string{"email": "x@example.com"},
			wantStatus: 403, wantBody: detailIs("Not authorized to invite to this project")},
		{name: "ErrStranger", method: "POST", path: p, token: carol, body: map[string]string{"email": "x@example.com"},
			wantStatus: 403, wantBody: detailIs("Not a member of this project")},
		{name: "ErrProjectNotFound", method: "POST", path: "/api/v1/projects/9999/invitations", token: alice, body: map[string]string{"email": "x@example.com"},
			wantStatus: 404, wantBody: detailIs("Project not found")},
		{name: "ErrNoToken", method: "POST", path: p, body: map[string]string{"email": "x@example.com"},
			wantStatus: 401, wantBody: detailIs("Not authenticated"), wantHeaders: bearerChallenge},
		{name: "ListHasOnlyTheNewestPerAddress", method: "GET", path: p, token: alice, wantStatus: 200,
			wantBody: jsonIs(`[` + invitationJSON(2, pid, "Eve.Smith+tw@Example.org") + `, ` + invitationJSON(3, pid, "DEE@example.com") + `]`)},
	})
	t.Run("ExpiresAfterINVITATION_TTL", func(t *testing.T) {
		invs, err := e.svc.Invitations(t.Context(), taskwire.User{ID: 1}, pid)
		if err != nil || len(invs) != 2 {
			t.Fatalf("Invitations = %v, %v", invs, err)
		}
		if d := invs[1].ExpiresAt.Sub(invs[1].CreatedAt); d != 48*time.Hour {
			t.Errorf("expires %v after creation, want INVITATION_TTL (48h)", d)
		}
	})
}

func TestInvitationListAndRevoke(t *testing.T) {
	e := newEnv(t)
	aliceID, alice := e.user("alice")
	bobID, bob := e.user("bob")
	carolID, carol := e.user("carol")
	pid := e.project(alice, bobID)
	other := e.project(carol)
	first := e.invite(alice, pid, "dee@example.com")
	second, token := e.storeInvitation(pid, aliceID, "carol@example.com", time.Now().Add(time.Hour))
	e.invite(carol, other, "zed@example.com")
	p := "/api/v1/projects/" + itoa(pid) + "/invitations"
	runScenarios(t, e, []scenario{
		{name: "OKList", method: "GET", path: p, token: alice, wantStatus: 200,
			wantBody: jsonIs(`[` + invitationJSON(first, pid, "dee@example.com") + `, ` + invitationJSON(second, pid, "carol@example.com") + `]`)},
		{name: "OKEmpty", method: "GET", path: "/api/v1/projects/" + itoa(e.project(alice)) + "/invitations", token: alice,
			wantStatus: 200, wantBody: jsonIs(`[]`)},
		{name: "ErrListMember", method: "GET", path: p, token: bob, wantStatus: 403, wantBody: detailIs("Not authorized to see this project's invitations")},
		{name: "ErrListStranger", method: "GET", path: p, token: carol, wantStatus: 403, wantBody: detailIs("Not a member of this project")},
		{name: "ErrListProjectNotFound", method: "GET", path: "/api/v1/projects/9999/invitations", token: alice, wantStatus: 404, wantBody: detailIs("Project not found")},
		{name: "ErrRevokeMember", method: "DELETE", path: "/api/v1/invitations/" + itoa(second), token: bob,
			wantStatus: 403, wantBody: detailIs("Not authorized to revoke this project's invitations")},
		{name: "ErrRevokeStranger", method: "DELETE", path: "/api/v1/invitations/" + itoa(second), token: carol,
			wantStatus: 403, wantBody: detailIs("Not a member of this project")},
		{name: "ErrRevokeNotFound", method: "DELETE", path: "/api/v1/invitations/9999", token: alice,
			wantStatus: 404, wantBody: detailIs("Invitation not found")},
		{name: "ErrRevokeIDNotInteger", method: "DELETE", path: "/api/v1/invitations/x", token: alice,
			wantStatus: 422, wantBody: invalidAt{loc: []any{"path", "invitation_id"}}},
		{name: "OKRevoke", method: "DELETE", path: "/api/v1/invitations/" + itoa(second), token: alice, wantStatus: 204},
		{name: "ErrRevokeAgain", method: "DELETE", path: "/api/v1/invitations/" + itoa(second), token: alice,
			wantStatus: 404, wantBody: detailIs("Invitation not found")},
		{name: "RevokedTokenIsGone", method: "POST", path: acceptPath, token: carol, body: map[string]string{"token": token},
			wantStatus: 410, wantBody: detailIs("Invitation is no longer valid")},
		{name: "ListAfterRevoke", method: "GET", path: p, token: alice, wantStatus: 200,
			wantBody: jsonIs(`[` + invitationJSON(first, pid, "dee@example.com") + `]`)},
	})
	if ms := e.members(alice, pid); slices.Contains(ms, carolID) {
		t.Errorf("members %v: a revoked invitation let carol in", ms)
	}
}

// members lists the user ids of a project's members.
func (e *env) members(token string, projectID int64) []int64 {
	e.t.Helper()
	r := e.do("GET", "/api/v1/projects/"+itoa(projectID), token, nil)
	if r.Status != http.StatusOK {
		e.t.Fatalf("project: %d %s", r.Status, r.Body)
	}
	var p struct {
		Members []struct {
			UserID int64 `json:"user_id"`
		} `json:"members"`
	}
	r.JSON(e.t, &p)
	var ids []int64
	for _, m := range p.Members {
		ids = append(ids, m.UserID)
	}
	return ids
}

func TestInvitationAccept(t *testing.T) {
	e := newEnv(t)
	aliceID, alice := e.user("alice")
	bobID, bob := e.user("bob")
	carolID, carol := e.user("carol")
	pid := e.project(alice)
	hour := time.Now().Add(time.Hour)
	forBob, bobToken := e.storeInvitation(pid, aliceID, "BOB@Example.COM", hour)
	_, expired := e.storeInvitation(pid, aliceID, "carol@example.com", time.Now().Add(-time.Minute))
	project := `{"name": "Project", "description": null, "id": ` + itoa(pid) + `, "owner_id": ` + itoa(aliceID) + `}`
	before := len(e.eventLog(alice, pid))
	runScenarios(t, e, []scenario{
		{name: "ErrOtherAddress", method: "POST", path: acceptPath, token: carol, body: map[string]string{"token": bobToken},
			wantStatus: 403, wantBody: detailIs("This invitation is for another email address")},
		{name: "ErrOwnerIsNotTheInvitee", method: "POST", path: acceptPath, token: alice, body: map[string]string{"token": bobToken},
			wantStatus: 403, wantBody: detailIs("This invitation is for another email address")},
		{name: "ErrExpired", method: "POST", path: acceptPath, token: carol, body: map[string]string{"token": expired},
			wantStatus: 410, wantBody: detailIs("Invitation is no longer valid")},
		{name: "ErrUnknownToken", method: "POST", path: acceptPath, token: bob, body: map[string]string{"token": "no-such-token"},
			wantStatus: 410, wantBody: detailIs("Invitation is no longer valid")},
		{name: "ErrTokenEmpty", method: "POST", path: acceptPath, token: bob, body: map[string]string{"token": ""},
			wantStatus: 422, wantBody: invalidAt{loc: []any{"body", "token"}, typ: "string_too_short"}},
		{name: "ErrTokenMissing", method: "POST", path: acceptPath, token: bob, body: map[string]string{},
			wantStatus: 422, wantBody: invalidAt{loc: []any{"body", "token"}, typ: "missing"}},
		{name: "ErrTokenTooLong", method: "POST", path: acceptPath, token: bob, body: map[string]string{"token": strings.Repeat("t", 201)},
			wantStatus: 422, wantBody: invalidAt{loc: []any{"body", "token"}, typ: "string_too_long"}},
		{name: "ErrMalformed", method: "POST", path: acceptPath, token: bob, body: `{"token"`,
			wantStatus: 422, wantBody: invalidAt{}},
		{name: "ErrNoToken", method: "POST", path: acceptPath, body: map[string]string{"token": bobToken},
			wantStatus: 401, wantBody: detailIs("Not authenticated"), wantHeaders: bearerChallenge},
		{name: "NothingChangedByErrors", method: "GET", path: "/api/v1/projects/" + itoa(pid) + "/events", token: alice, wantStatus: 200,
			wantBody: func(t *testing.T, r response) {
				var evs []any
				r.JSON(t, &evs)
				if len(evs) != before {
					t.Errorf("%d events, want %d: a refused accept emitted one", len(evs), before)
				}
			}},
		// The address is compared case-insensitively.
		{name: "OK", method: "POST", path: acceptPath, token: bob, body: map[string]string{"token": bobToken},
			wantStatus: 200, wantBody: jsonIs(project)},
		{name: "ErrUsed", method: "POST", path: acceptPath, token: bob, body: map[string]string{"token": bobToken},
			wantStatus: 410, wantBody: detailIs("Invitation is no longer valid")},
		{name: "ErrUsedOtherAddress", method: "POST", path: acceptPath, token: carol, body: map[string]string{"token": bobToken},
			wantStatus: 410, wantBody: detailIs("Invitation is no longer valid")},
	})
	if ms := e.members(alice, pid); !slices.Equal(ms, []int64{aliceID, bobID}) {
		t.Errorf("members %v, want alice and bob", ms)
	}
	evs := e.eventLog(alice, pid)[before:]
	if got := eventTypes(evs); !slices.Equal(got, []string{"member_added"}) {
		t.Fatalf("accepting emitted %v, want member_added", got)
	}
	if data, _ := evs[0]["data"].(map[string]any); data["user_id"] != float64(bobID) || evs[0]["actor_id"] != float64(bobID) {
		t.Errorf("member_added %v: want bob, by bob", evs[0])
	}
	// The owner is told; bob, who joined himself, is not told he was added.
	notes := e.inbox(alice)
	if len(notes) != 1 || notes[0].Type != "invitation_accepted" || notes[0].ActorID != bobID {
		t.Fatalf("alice's inbox %+v, want one invitation_accepted by bob", notes)
	}
	r := e.do("GET", "/api/v1/notifications", alice, nil)
	if !strings.Contains(string(r.Body), `"email":"BOB@Example.COM"`) || !strings.Contains(string(r.Body), `"invitation_id":`+itoa(forBob)) {
		t.Errorf("the notification's data names neither the address nor the invitation: %s", r.Body)
	}
	if notes := e.inbox(bob); len(notes) != 0 {
		t.Errorf("bob's inbox %+v, want none", notes)
	}
	r = e.do("GET", "/api/v1/projects/"+itoa(pid)+"/invitations", alice, nil)
	var invs []taskwire.Invitation
	r.JSON(t, &invs)
	i := slices.IndexFunc(invs, func(inv taskwire.Invitation) bool { return inv.ID == forBob })
	if i < 0 || invs[i].AcceptedBy == nil || *invs[i].AcceptedBy != bobID || invs[i].AcceptedAt == nil {
		t.Errorf("invitations %s: bob's not marked accepted by him", r.Body)
	}

	t.Run("AlreadyMemberUsesItUp", func(t *testing.T) {
		e := e.as(t)
		_, tok := e.storeInvitation(pid, aliceID, "bob@example.com", hour)
		before := len(e.eventLog(alice, pid))
		if r := e.do("POST", acceptPath, bob, map[string]string{"token": tok}); r.Status != 200 {
			t.Fatalf("accept: %d %s", r.Status, r.Body)
		}
		if n := len(e.eventLog(alice, pid)); n != before {
			t.Errorf("%d new events, want none: bob was a member already", n-before)
		}
		if r := e.do("POST", acceptPath, bob, map[string]string{"token": tok}); r.Status != 410 {
			t.Errorf("second accept: %d %s, want 410", r.Status, r.Body)
		}
	})
	t.Run("ProjectDeleted", func(t *testing.T) {
		e := e.as(t)
		gone := e.project(alice)
		_, tok := e.storeInvitation(gone, aliceID, "carol@example.com", hour)
		if r := e.do("DELETE", "/api/v1/projects/"+itoa(gone), alice, nil); r.Status != 204 {
			t.Fatalf("delete: %d", r.Status)
		}
		if r := e.do("POST", acceptPath, carol, map[string]string{"token": tok}); r.Status != 410 {
			t.Errorf("accept into a deleted project: %d %s, want 410", r.Status, r.Body)
		}
		if ms := e.members(alice, pid); slices.Contains(ms, carolID) {
			t.Error("carol joined")
		}
	})
}

// TestInvitationConcurrentAccept: the invitee accepting from several
// clients at once joins once; exactly one accept wins, the others hear 410.
func TestInvitationConcurrentAccept(t *testing.T) {
	e := newEnv(t)
	aliceID, alice := e.user("alice")
	_, bob := e.user("bob")
	for round := range 3 {
		pid := e.project(alice)
		_, tok := e.storeInvitation(pid, aliceID, "bob@example.com", time.Now().Add(time.Hour))
		const n = 8
		statuses := make([]int, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				r, err := sendRaw(e.URL, "POST", acceptPath, bob, map[string]string{"token": tok})
				if err != nil {
					t.Error(err)
					return
				}
				statuses[i] = r.Status
			})
		}
		wg.Wait()
		slices.Sort(statuses)
		want := append([]int{200}, slices.Repeat([]int{410}, n-1)...)
		if !slices.Equal(statuses, want) {
			t.Errorf("round %d: statuses %v, want one 200 and %d × 410", round, statuses, n-1)
		}
		if got := eventTypes(e.eventLog(alice, pid)); !slices.Equal(got, []string{"member_added"}) {
			t.Errorf("round %d: events %v, want one member_added", round, got)
		}
	}
}

var inviteLink = regexp.MustCompile(`http://app\.example/app/invite/([A-Za-z0-9_-]+)`)

// TestInvitationEmail: the invitation is emailed through the durable job
// path to the in-process SMTP server, to an address with no account, with
// a link whose token a new account with that address accepts.
func TestInvitationEmail(t *testing.T) {
	srv := smtptest.New(t)
	e := newEnv(t, withEnv("SMTP_URL", "smtp://"+srv.Addr()+"?starttls=none", "MAIL_FROM", "Taskwire <noreply@taskwire.test>",
		"BASE_URL", "http://app.example", "EMAIL_RETRY_BASE", "200ms"))
	aliceID, alice := e.user("alice")
	pid := e.project(alice)
	if r := e.do("PATCH", "/api/v1/projects/"+itoa(pid), alice, map[string]string{"name": "Apollo <&>"}); r.Status != 200 {
		t.Fatalf("rename: %d %s", r.Status, r.Body)
	}
	e.invite(alice, pid, "Dee@Example.com")
	m := srv.Wait(t, 1, 30*time.Second)[0]
	if len(m.Rcpt) != 1 || m.Rcpt[0] != "Dee@Example.com" {
		t.Fatalf("invitation email to %v, want Dee@Example.com", m.Rcpt)
	}
	if m.Subject != "[Taskwire] alice invited you to Apollo <&>" {
		t.Errorf("subject %q", m.Subject)
	}
	match := inviteLink.FindStringSubmatch(m.Text)
	if match == nil {
		t.Fatalf("text part has no invitation link:\n%s", m.Text)
	}
	link, token := match[0], match[1]
	if len(token) != 43 {
		t.Errorf("token %q: want 32 random bytes in base64url (43 characters)", token)
	}
	for _, want := range []string{"alice invited you to the project Apollo <&>", "Dee@Example.com", "UTC"} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("text part lacks %q:\n%s", want, m.Text)
		}
	}
	for _, want := range []string{"<strong>alice</strong>", "Apollo &lt;&amp;&gt;", `href="` + link + `"`} {
		if !strings.Contains(m.HTML, want) {
			t.Errorf("HTML part lacks %q:\n%s", want, m.HTML)
		}
	}
	// Only the token's hash is stored.
	invs, err := e.db.Invitations(t.Context(), pid)
	if err != nil || len(invs) != 1 || invs[0].TokenHash != taskwire.InvitationTokenHash(token) || strings.Contains(invs[0].TokenHash, token) {
		t.Errorf("stored %+v, %v; want only the token's SHA-256", invs, err)
	}

	// Dee signs up with the address (any case) and accepts.
	r := e.do("POST", "/api/v1/auth/signup", "", map[string]string{"email": "dee@example.com", "username": "dee", "password": "password123"})
	if r.Status != 201 {
		t.Fatalf("signup: %d %s", r.Status, r.Body)
	}
	r = e.do("POST", "/api/v1/auth/login", "", url.Values{"username": {"dee"}, "password": {"password123"}})
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	r.JSON(t, &tok)
	if r := e.do("POST", acceptPath, tok.AccessToken, map[string]string{"token": token}); r.Status != 200 {
		t.Fatalf("accept with the emailed token: %d %s", r.Status, r.Body)
	}
	if ms := e.members(alice, pid); len(ms) != 2 || ms[0] != aliceID {
		t.Errorf("members %v, want alice and dee", ms)
	}
}

// TestInvitationEmailDue: when its job runs, an invitation's email is due
// only while the invitation is pending and the job's token is its own.
func TestInvitationEmailDue(t *testing.T) {
	e := newEnv(t)
	aliceID, alice := e.user("alice")
	_, bob := e.user("bob")
	pid := e.project(alice)
	due := func(t *testing.T, job taskwire.EmailJob, want bool) taskwire.Email {
		t.Helper()
		m, ok, err := e.svc.PrepareEmail(t.Context(), job)
		if err != nil || ok != want {
			t.Fatalf("PrepareEmail = %v, %v; want due %v", ok, err, want)
		}
		return m
	}
	job := func(id int64, token string) taskwire.EmailJob {
		return taskwire.EmailJob{Kind: taskwire.EmailInvitation, ProjectID: pid, ActorID: aliceID, InvitationID: id, Token: token}
	}
	id, tok := e.storeInvitation(pid, aliceID, "bob@example.com", time.Now().Add(time.Hour))
	m := due(t, job(id, tok), true)
	if m.To != "bob@example.com" || m.ActorUsername != "alice" || m.ProjectName != "Project" || m.Token != tok || m.ExpiresAt.IsZero() {
		t.Errorf("email %+v", m)
	}
	due(t, job(id, tok+"x"), false)
	t.Run("Expired", func(t *testing.T) {
		id, tok := e.as(t).storeInvitation(pid, aliceID, "carol@example.com", time.Now().Add(-time.Second))
		due(t, job(id, tok), false)
	})
	t.Run("Revoked", func(t *testing.T) {
		id, tok := e.as(t).storeInvitation(pid, aliceID, "dee@example.com", time.Now().Add(time.Hour))
		e.as(t).do("DELETE", "/api/v1/invitations/"+itoa(id), alice, nil)
		due(t, job(id, tok), false)
	})
	t.Run("Accepted", func(t *testing.T) {
		if r := e.as(t).do("POST", acceptPath, bob, map[string]string{"token": tok}); r.Status != 200 {
			t.Fatalf("accept: %d %s", r.Status, r.Body)
		}
		due(t, job(id, tok), false)
	})
}
