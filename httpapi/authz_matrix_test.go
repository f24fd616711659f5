package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/golang-jwt/jwt/v5"
	"github.com/taskwire/taskwire/realtime"
)

// The authorization matrix: every route the server serves, crossed with
// every kind of caller (identities, in authz_matrix_helpers_test.go), and
// the answer docs/API.md promises each. The routes are taken from
// the server's own OpenAPI document (every huma operation, and the raw
// routes documentRawRoutes adds — sockets, metrics, docs); a route there
// without an entry in authzRoutes fails the test, so a new route cannot
// ship without deciding who may call it. The few routes the document
// leaves out on purpose (the hidden no-slash alias, the spec files) are
// listed as undocumented and checked all the same.
//
// Every response and socket frame an identity receives is scanned for
// markers planted in data that identity has no right to see.

// authzOutcome is one cell of the matrix.
type authzOutcome struct {
	status int
	// detail is the exact {"detail": ...} of an error answer.
	detail string
	// check inspects a success (REST).
	check func(t *testing.T, fx *authzFixture, who identity, r response)
	// live exercises an open socket (101).
	live func(t *testing.T, ctx context.Context, fx *authzFixture, who identity, ws *websocket.Conn)
}

func deny(status int, detail string) authzOutcome {
	return authzOutcome{status: status, detail: detail}
}

func allow(status int, check func(t *testing.T, fx *authzFixture, who identity, r response)) authzOutcome {
	return authzOutcome{status: status, check: check}
}

// authzRoute is one row of the matrix.
type authzRoute struct {
	method, path string // as the OpenAPI document spells them
	// undocumented marks a route served but left out of the OpenAPI
	// document on purpose.
	undocumented bool
	// public routes take no credentials: every identity, whatever it
	// sends, gets the owner's answer. Sockets authenticate by ?token= and
	// refuse bad credentials with 403 at the handshake; other routes
	// answer bad credentials with 401.
	public, socket bool
	// outsider answers other-user, non-member and removed-member; member a
	// member who is not the owner; owner the owner; missing the owner
	// naming an id that does not exist (nil: the route names no id).
	outsider, member, owner authzOutcome
	missing                 *authzOutcome
	// request returns the path (with query) and body of one case.
	request func(t *testing.T, fx *authzFixture, who identity) (string, any)
}

// want is the matrix cell for who; false when who does not apply.
func (r authzRoute) want(who identity) (authzOutcome, bool) {
	switch {
	case who == idMissing:
		if r.missing == nil {
			return authzOutcome{}, false
		}
		return *r.missing, true
	case r.public:
		return r.owner, true
	case slices.Contains(badCredentials, who) && r.socket:
		return deny(http.StatusForbidden, "Forbidden"), true
	case who == idNoToken:
		return deny(http.StatusUnauthorized, "Not authenticated"), true
	case slices.Contains(badCredentials, who):
		return deny(http.StatusUnauthorized, "Could not validate credentials"), true
	case slices.Contains(outsiders, who):
		return r.outsider, true
	case who == idMember:
		return r.member, true
	}
	return r.owner, true
}

func (r authzRoute) key() string { return r.method + " " + r.path }

// Messages of the contract.
const (
	msgNotMember       = "Not a member of this project"
	msgProjectNotFound = "Project not found"
	msgTaskNotFound    = "Task not found"
	msgNoteNotFound    = "Notification not found"
	msgCommentNotFound = "Comment not found"
	msgTokenNotFound   = "Token not found"
)

// fixedPath returns a request builder for a path without ids.
func fixedPath(path string, body any) func(*testing.T, *authzFixture, identity) (string, any) {
	return func(*testing.T, *authzFixture, identity) (string, any) { return path, body }
}

// inProject builds a path under the fixture's project (or a missing one).
func inProject(suffix string, body func(fx *authzFixture) any) func(*testing.T, *authzFixture, identity) (string, any) {
	return func(_ *testing.T, fx *authzFixture, who identity) (string, any) {
		id := fx.project
		if who == idMissing {
			id = missingID
		}
		var b any
		if body != nil {
			b = body(fx)
		}
		return "/api/v1/projects/" + itoa(id) + suffix, b
	}
}

// onTask builds a path on the fixture's task; fresh gives each case a task
// of its own (for deletes, which the member may also do).
func onTask(suffix string, fresh bool, body func(fx *authzFixture) any) func(*testing.T, *authzFixture, identity) (string, any) {
	return func(t *testing.T, fx *authzFixture, who identity) (string, any) {
		id := fx.task
		switch {
		case who == idMissing:
			id = missingID
		case fresh:
			id = fx.newTask(t)
		}
		var b any
		if body != nil {
			b = body(fx)
		}
		return "/api/v1/tasks/" + itoa(id) + suffix, b
	}
}

// member routes: any member may act; others are told they are not members.
func memberRoute(method, path string, success authzOutcome, missing string, req func(*testing.T, *authzFixture, identity) (string, any)) authzRoute {
	m := deny(http.StatusNotFound, missing)
	return authzRoute{method: method, path: path, outsider: deny(http.StatusForbidden, msgNotMember),
		member: success, owner: success, missing: &m, request: req}
}

// owner routes: only the owner may act; a member gets 403 with denied.
func ownerRoute(method, path, denied string, success authzOutcome, req func(*testing.T, *authzFixture, identity) (string, any)) authzRoute {
	m := deny(http.StatusNotFound, msgProjectNotFound)
	return authzRoute{method: method, path: path, outsider: deny(http.StatusForbidden, msgNotMember),
		member: deny(http.StatusForbidden, denied), owner: success, missing: &m, request: req}
}

// authorRoute: routes on the fixture's comment, which the owner wrote:
// the owner may act, a member gets 403 with denied, an unknown comment is
// 404 "Comment not found".
func authorRoute(method, path, denied string, success authzOutcome, req func(*testing.T, *authzFixture, identity) (string, any)) authzRoute {
	r := ownerRoute(method, path, denied, success, req)
	m := deny(http.StatusNotFound, msgCommentNotFound)
	r.missing = &m
	return r
}

// onComment builds a path on the fixture's comment; fresh gives each case
// a comment of its own (for deletes).
func onComment(fresh bool, body func(fx *authzFixture) any) func(*testing.T, *authzFixture, identity) (string, any) {
	return func(t *testing.T, fx *authzFixture, who identity) (string, any) {
		id := fx.comment
		switch {
		case who == idMissing:
			id = missingID
		case fresh:
			id = fx.newComment(t)
		}
		var b any
		if body != nil {
			b = body(fx)
		}
		return "/api/v1/comments/" + itoa(id), b
	}
}

// selfRoute: any signed-in user acts on their own data.
func selfRoute(method, path string, success authzOutcome, req func(*testing.T, *authzFixture, identity) (string, any)) authzRoute {
	return authzRoute{method: method, path: path, outsider: success, member: success, owner: success, request: req}
}

func publicRoute(method, path string, success authzOutcome, req func(*testing.T, *authzFixture, identity) (string, any)) authzRoute {
	return authzRoute{method: method, path: path, public: true, owner: success, request: req}
}

// authzRoutes is the matrix, one row per route.
func authzRoutes() []authzRoute {
	page := allow(http.StatusOK, nonEmpty)
	noBody := allow(http.StatusNoContent, nil)
	newDescription := func(fx *authzFixture) any {
		return map[string]string{"description": fx.w.plant(fx.w.next("new-description"), membersOnly...)}
	}
	newTitle := func(fx *authzFixture) any {
		return map[string]string{"title": fx.w.plant(fx.w.next("new-title"), membersOnly...)}
	}
	newBody := func(fx *authzFixture) any {
		return map[string]string{"body": fx.w.plant(fx.w.next("comment-body"), membersOnly...)}
	}
	taskOK := func(status int) authzOutcome { return allow(status, taskInProject) }
	projectSocket := authzOutcome{status: http.StatusSwitchingProtocols, live: projectSocketLive}
	notificationSocket := authzOutcome{status: http.StatusSwitchingProtocols, live: notificationSocketLive}
	socketMissing := deny(http.StatusForbidden, "Forbidden")

	routes := []authzRoute{
		// Public: no credentials needed; any sent are ignored.
		publicRoute("GET", "/", allow(http.StatusOK, bodyIs(`{"message": "<string>"}`)), fixedPath("/", nil)),
		publicRoute("POST", "/api/v1/auth/signup", allow(http.StatusCreated, bodyIs(`{"email": "<string>", "username": "<string>", "id": "<int>"}`)),
			func(_ *testing.T, fx *authzFixture, _ identity) (string, any) {
				name := fx.w.next("signup")
				return "/api/v1/auth/signup", map[string]string{"email": name + "@example.com", "username": name, "password": "password123"}
			}),
		publicRoute("POST", "/api/v1/auth/login", allow(http.StatusOK, bodyIs(`{"access_token": "<string>", "token_type": "bearer"}`)),
			func(_ *testing.T, fx *authzFixture, _ identity) (string, any) {
				return "/api/v1/auth/login", url.Values{"username": {fx.w.login.Name}, "password": {"password123"}}
			}),
		publicRoute("GET", "/healthz", allow(http.StatusOK, bodyIs(`{"status": "ok"}`)), fixedPath("/healthz", nil)),
		publicRoute("GET", "/readyz", allow(http.StatusOK, bodyIs(`{"status": "ok", "checks": {"database": "ok"}}`)), fixedPath("/readyz", nil)),
		publicRoute("GET", "/metrics", page, fixedPath("/metrics", nil)),
		publicRoute("GET", "/asyncapi.yaml", page, fixedPath("/asyncapi.yaml", nil)),
		publicRoute("GET", "/docs", page, fixedPath("/docs", nil)),
		publicRoute("GET", "/redoc", page, fixedPath("/redoc", nil)),
		publicRoute("GET", "/app/", page, fixedPath("/app/", nil)),
		publicRoute("GET", "/projects/{project_id}/tasks/{task_id}", allow(http.StatusFound, nil), fixedPath("/projects/1/tasks/1", nil)),

		// The caller's own data: every signed-in user gets theirs.
		selfRoute("GET", "/api/v1/users/me", allow(http.StatusOK, func(t *testing.T, fx *authzFixture, who identity, r response) {
			u := fx.w.viewer(who)
			expectJSON(t, r.Body, map[string]any{"id": u.ID, "email": u.Email, "username": u.Name})
		}), fixedPath("/api/v1/users/me", nil)),
		selfRoute("GET", "/api/v1/users/lookup", allow(http.StatusOK, func(t *testing.T, fx *authzFixture, _ identity, r response) {
			expectJSON(t, r.Body, map[string]any{"id": fx.w.owner.ID, "username": fx.w.owner.Name}) // never the email
		}), func(_ *testing.T, fx *authzFixture, _ identity) (string, any) {
			return "/api/v1/users/lookup?username=" + url.QueryEscape(fx.w.owner.Name), nil
		}),
		selfRoute("GET", "/api/v1/projects/", allow(http.StatusOK, projectListed), fixedPath("/api/v1/projects/", nil)),
		selfRoute("POST", "/api/v1/projects/", allow(http.StatusCreated, projectCreated), fixedPath("/api/v1/projects/", map[string]string{"name": "Mine"})),
		selfRoute("GET", "/api/v1/notifications", allow(http.StatusOK, inboxListed), fixedPath("/api/v1/notifications", nil)),
		selfRoute("POST", "/api/v1/notifications/read-all", allow(http.StatusOK, bodyIs(`{"updated": "<int>"}`)), fixedPath("/api/v1/notifications/read-all", nil)),
		selfRoute("GET", "/api/v1/users/me/notification-settings", allow(http.StatusOK, bodyIs(`{"email": "<any>"}`)),
			fixedPath("/api/v1/users/me/notification-settings", nil)),
		selfRoute("PUT", "/api/v1/users/me/notification-settings", allow(http.StatusOK, bodyIs(`{"email": "<any>"}`)),
			fixedPath("/api/v1/users/me/notification-settings", map[string]any{"email": map[string]bool{"member_added": true}})),
		// API tokens: everyone makes and lists their own; revoking
		// someone else's is told it does not exist.
		selfRoute("POST", "/api/v1/users/me/tokens", allow(http.StatusCreated, apiTokenCreated),
			fixedPath("/api/v1/users/me/tokens", map[string]string{"name": "matrix"})),
		selfRoute("GET", "/api/v1/users/me/tokens", allow(http.StatusOK, apiTokensListed), fixedPath("/api/v1/users/me/tokens", nil)),
		{method: "DELETE", path: "/api/v1/users/me/tokens/{token_id}",
			outsider: deny(http.StatusNotFound, msgTokenNotFound), member: deny(http.StatusNotFound, msgTokenNotFound),
			owner: noBody, missing: &authzOutcome{status: http.StatusNotFound, detail: msgTokenNotFound},
			request: func(t *testing.T, fx *authzFixture, who identity) (string, any) {
				id := int64(missingID)
				if who != idMissing {
					id = fx.newAPIToken(t)
				}
				return "/api/v1/users/me/tokens/" + itoa(id), nil
			}},
		// Everyone searches; nobody finds what is not theirs (routes_search_test.go).
		selfRoute("GET", "/api/v1/search", allow(http.StatusOK, searchFindsOnlyOwn), searchFixtureTask),

		// One user's notification: anyone else is told it does not exist.
		{method: "POST", path: "/api/v1/notifications/{notification_id}/read",
			outsider: deny(http.StatusNotFound, msgNoteNotFound), member: deny(http.StatusNotFound, msgNoteNotFound),
			owner: allow(http.StatusOK, func(t *testing.T, fx *authzFixture, _ identity, r response) {
				var n struct {
					ID   int64 `json:"id"`
					Read bool  `json:"read"`
				}
				r.JSON(t, &n)
				if n.ID != fx.w.inboxNote || !n.Read {
					t.Errorf("marked %s, want notification %d read", r.Body, fx.w.inboxNote)
				}
			}),
			missing: &authzOutcome{status: http.StatusNotFound, detail: msgNoteNotFound},
			request: func(_ *testing.T, fx *authzFixture, who identity) (string, any) {
				id := fx.w.inboxNote
				if who == idMissing {
					id = missingID
				}
				return "/api/v1/notifications/" + itoa(id) + "/read", nil
			}},

		// A project's members.
		memberRoute("GET", "/api/v1/projects/{project_id}", allow(http.StatusOK, projectDetails), msgProjectNotFound, inProject("", nil)),
		memberRoute("GET", "/api/v1/projects/{project_id}/tasks", allow(http.StatusOK, taskListed), msgProjectNotFound, inProject("/tasks", nil)),
		memberRoute("POST", "/api/v1/projects/{project_id}/tasks", taskOK(http.StatusCreated), msgProjectNotFound, inProject("/tasks", newTitle)),
		memberRoute("GET", "/api/v1/projects/{project_id}/events", allow(http.StatusOK, eventsOfProject), msgProjectNotFound, inProject("/events", nil)),
		memberRoute("GET", "/api/v1/projects/{project_id}/presence", allow(http.StatusOK, bodyIsArray), msgProjectNotFound, inProject("/presence", nil)),
		memberRoute("GET", "/api/v1/projects/{project_id}/labels", allow(http.StatusOK, bodyIsArray), msgProjectNotFound, inProject("/labels", nil)),
		memberRoute("GET", "/api/v1/tasks/{task_id}", taskOK(http.StatusOK), msgTaskNotFound, onTask("", false, nil)),
		memberRoute("PUT", "/api/v1/tasks/{task_id}", taskOK(http.StatusOK), msgTaskNotFound, onTask("", false, newTitle)),
		memberRoute("PATCH", "/api/v1/tasks/{task_id}/status", taskOK(http.StatusOK), msgTaskNotFound,
			onTask("/status", false, func(*authzFixture) any { return map[string]string{"status": "done"} })),
		// Any member may delete a task (API.md names no restriction).
		memberRoute("DELETE", "/api/v1/tasks/{task_id}", noBody, msgTaskNotFound, onTask("", true, nil)),
		memberRoute("GET", "/api/v1/tasks/{task_id}/comments", allow(http.StatusOK, commentListed), msgTaskNotFound, onTask("/comments", false, nil)),
		memberRoute("POST", "/api/v1/tasks/{task_id}/comments", allow(http.StatusCreated, commentOnTask), msgTaskNotFound, onTask("/comments", false, newBody)),
		// A comment's author (here the owner): a member who is not the
		// author may neither edit it nor, not being the owner, delete it.
		authorRoute("PATCH", "/api/v1/comments/{comment_id}", "Only the author can edit this comment",
			allow(http.StatusOK, commentOnTask), onComment(false, newBody)),
		authorRoute("DELETE", "/api/v1/comments/{comment_id}", "Not authorized to delete this comment", noBody, onComment(true, nil)),

		// The project's owner.
		ownerRoute("PATCH", "/api/v1/projects/{project_id}", "Not authorized to update this project",
			allow(http.StatusOK, projectIs), inProject("", newDescription)),
		ownerRoute("DELETE", "/api/v1/projects/{project_id}", "Not authorized to delete this project", noBody, inProject("", nil)),
		ownerRoute("POST", "/api/v1/projects/{project_id}/webhooks", msgNotWebhookManager, allow(http.StatusCreated, webhookWithSecret),
			inProject("/webhooks", func(fx *authzFixture) any { return map[string]string{"url": fx.w.receiver.URL} })),
		ownerRoute("GET", "/api/v1/projects/{project_id}/webhooks", msgNotWebhookManager, allow(http.StatusOK, bodyIsArray), inProject("/webhooks", nil)),
		webhookRoute("PATCH", "/api/v1/webhooks/{webhook_id}", allow(http.StatusOK, nonEmpty),
			onWebhook("", false, map[string]string{"description": "changed"})),
		webhookRoute("DELETE", "/api/v1/webhooks/{webhook_id}", noBody, onWebhook("", true, nil)),
		webhookRoute("POST", "/api/v1/webhooks/{webhook_id}/rotate-secret", allow(http.StatusOK, webhookWithSecret), onWebhook("/rotate-secret", false, nil)),
		webhookRoute("GET", "/api/v1/webhooks/{webhook_id}/deliveries", allow(http.StatusOK, bodyIsArray), onWebhook("/deliveries", false, nil)),
		webhookRoute("POST", "/api/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver", allow(http.StatusAccepted, nil), onDelivery),
		ownerRoute("DELETE", "/api/v1/projects/{project_id}/members/{user_id}", "Not authorized to remove members from this project", noBody,
			func(t *testing.T, fx *authzFixture, who identity) (string, any) {
				return inProject("/members/"+itoa(fx.w.victim.ID), nil)(t, fx, who)
			}),
	}
	// Invitations: the owner's; anyone signed in may try a token, and is
	// refused one for another address (routes_invitation_test.go has the
	// successes).
	invitationMissing := deny(http.StatusNotFound, "Invitation not found")
	tokenGone := deny(http.StatusGone, "Invitation is no longer valid")
	notForYou := deny(http.StatusForbidden, "This invitation is for another email address")
	routes = append(routes,
		ownerRoute("POST", "/api/v1/projects/{project_id}/invitations", "Not authorized to invite to this project",
			allow(http.StatusCreated, invitationCreated), inProject("/invitations", func(fx *authzFixture) any {
				return map[string]string{"email": fx.w.plant(fx.w.next("invited"), idOwner) + "@example.com"}
			})),
		ownerRoute("GET", "/api/v1/projects/{project_id}/invitations", "Not authorized to see this project's invitations",
			allow(http.StatusOK, invitationListed), func(t *testing.T, fx *authzFixture, who identity) (string, any) {
				fx.newInvitation(t)
				return inProject("/invitations", nil)(t, fx, who)
			}),
		authzRoute{method: "DELETE", path: "/api/v1/invitations/{invitation_id}",
			outsider: deny(http.StatusForbidden, msgNotMember),
			member:   deny(http.StatusForbidden, "Not authorized to revoke this project's invitations"),
			owner:    noBody, missing: &invitationMissing,
			request: func(t *testing.T, fx *authzFixture, who identity) (string, any) {
				id := int64(missingID)
				if who != idMissing {
					id, _ = fx.newInvitation(t)
				}
				return "/api/v1/invitations/" + itoa(id), nil
			}},
		authzRoute{method: "POST", path: "/api/v1/invitations/accept",
			outsider: notForYou, member: notForYou, owner: notForYou, missing: &tokenGone,
			request: func(t *testing.T, fx *authzFixture, who identity) (string, any) {
				token := "unknown-" + fx.w.next("token")
				if who != idMissing {
					_, token = fx.newInvitation(t)
				}
				return "/api/v1/invitations/accept", map[string]string{"token": token}
			}},
	)

	// Adding members: the seed checks ownership before membership, so
	// every non-owner hears the same (API.md: 403 "Not authorized to add
	// members to this project").
	addMember := ownerRoute("POST", "/api/v1/projects/{project_id}/members", "Not authorized to add members to this project",
		allow(http.StatusCreated, bodyIs(`{"message": "Member added successfully"}`)),
		inProject("/members", func(fx *authzFixture) any { return map[string]int64{"user_id": fx.w.invitee.ID} }))
	addMember.outsider = addMember.member
	routes = append(routes, addMember)

	// Sockets: bad credentials, outsiders and unknown projects are refused
	// at the handshake with 403 (API.md), never upgraded.
	routes = append(routes,
		authzRoute{method: "GET", path: "/ws/projects/{project_id}", socket: true,
			outsider: deny(http.StatusForbidden, "Forbidden"), member: projectSocket, owner: projectSocket, missing: &socketMissing,
			request: func(_ *testing.T, fx *authzFixture, who identity) (string, any) {
				id := fx.project
				if who == idMissing {
					id = missingID
				}
				return "/ws/projects/" + itoa(id) + socketQuery(fx.w.token(who)), nil
			}},
		authzRoute{method: "GET", path: "/ws/notifications", socket: true,
			outsider: notificationSocket, member: notificationSocket, owner: notificationSocket,
			request: func(_ *testing.T, fx *authzFixture, who identity) (string, any) {
				return "/ws/notifications" + socketQuery(fx.w.token(who)), nil
			}},
	)

	// Served, but left out of the OpenAPI document on purpose.
	hidden := func(r authzRoute) authzRoute { r.undocumented = true; return r }
	routes = append(routes,
		// The seed's no-slash spelling (Hidden in routes.go).
		hidden(selfRoute("GET", "/api/v1/projects", allow(http.StatusOK, projectListed), fixedPath("/api/v1/projects", nil))),
		hidden(selfRoute("POST", "/api/v1/projects", allow(http.StatusCreated, projectCreated), fixedPath("/api/v1/projects", map[string]string{"name": "Mine"}))),
		// huma's spec files, and Swagger UI's directory.
		hidden(publicRoute("GET", "/openapi.json", page, fixedPath("/openapi.json", nil))),
		hidden(publicRoute("GET", "/openapi.yaml", page, fixedPath("/openapi.yaml", nil))),
		hidden(publicRoute("GET", "/openapi-3.0.json", page, fixedPath("/openapi-3.0.json", nil))),
		hidden(publicRoute("GET", "/openapi-3.0.yaml", page, fixedPath("/openapi-3.0.yaml", nil))),
		hidden(publicRoute("GET", "/docs/", page, fixedPath("/docs/", nil))),
	)
	return routes
}

// socketQuery asks for the whole stream from the start (since=0), so that
// the replay is scanned as well as live frames.
func socketQuery(tok string) string {
	q := url.Values{"since": {"0"}}
	if tok != "" {
		q.Set("token", tok)
	}
	return "?" + q.Encode()
}

func tokenQuery(tok string) string {
	if tok == "" {
		return ""
	}
	return "?token=" + url.QueryEscape(tok)
}

// Success checks.

func bodyIs(want string) func(*testing.T, *authzFixture, identity, response) {
	return func(t *testing.T, _ *authzFixture, _ identity, r response) {
		t.Helper()
		checkBody(t, r, jsonIs(want))
	}
}

func nonEmpty(t *testing.T, _ *authzFixture, _ identity, r response) {
	if len(r.Body) == 0 {
		t.Error("empty body")
	}
}

// apiTokenCreated: the answer holds the secret, once.
func apiTokenCreated(t *testing.T, _ *authzFixture, _ identity, r response) {
	var tok struct {
		ID    int64  `json:"id"`
		Name  string `json:"name"`
		Token string `json:"token"`
	}
	r.JSON(t, &tok)
	if tok.ID <= 0 || tok.Name != "matrix" || !strings.HasPrefix(tok.Token, "tw_") {
		t.Errorf("created %s, want an id, the name and a tw_ secret", truncate(r.Body))
	}
}

// apiTokensListed: a list of the caller's tokens, never a secret (the
// owner's token names are markers: nobody else sees them).
func apiTokensListed(t *testing.T, _ *authzFixture, _ identity, r response) {
	var ts []map[string]any
	r.JSON(t, &ts)
	for _, tok := range ts {
		if _, ok := tok["token"]; ok {
			t.Errorf("a listed token carries its secret: %v", tok)
		}
	}
}

func bodyIsArray(t *testing.T, _ *authzFixture, _ identity, r response) {
	var v []any
	if err := json.Unmarshal(r.Body, &v); err != nil {
		t.Errorf("body is not an array: %s", truncate(r.Body))
	}
}

// listedIDs decodes an array of objects with ids.
func listedIDs(t *testing.T, r response) []int64 {
	t.Helper()
	var v []struct {
		ID int64 `json:"id"`
	}
	r.JSON(t, &v)
	out := make([]int64, len(v))
	for i, x := range v {
		out[i] = x.ID
	}
	return out
}

// projectListed: a user's projects include the fixture's exactly when they
// are a member.
func projectListed(t *testing.T, fx *authzFixture, who identity, r response) {
	listed := slices.Contains(listedIDs(t, r), fx.project)
	if member := slices.Contains(membersOnly, who); listed != member {
		t.Errorf("%s's projects list project %d: %v, want %v", who, fx.project, listed, member)
	}
}

func projectCreated(t *testing.T, fx *authzFixture, who identity, r response) {
	checkBody(t, r, jsonIs(`{"name": "Mine", "description": null, "id": "<int>", "owner_id": `+itoa(fx.w.viewer(who).ID)+`}`))
}

// inboxListed: only the owner's inbox holds the owner's notification.
func inboxListed(t *testing.T, fx *authzFixture, who identity, r response) {
	if _, ok := r.Header["X-Unread-Count"]; !ok {
		t.Error("no X-Unread-Count")
	}
	if got, want := slices.Contains(listedIDs(t, r), fx.w.inboxNote), who == idOwner; got != want {
		t.Errorf("%s's inbox holds the owner's notification %d: %v, want %v", who, fx.w.inboxNote, got, want)
	}
}

func projectIs(t *testing.T, fx *authzFixture, _ identity, r response) {
	var p struct {
		ID      int64 `json:"id"`
		OwnerID int64 `json:"owner_id"`
	}
	r.JSON(t, &p)
	if p.ID != fx.project || p.OwnerID != fx.w.owner.ID {
		t.Errorf("project %s, want id %d owned by %d", r.Body, fx.project, fx.w.owner.ID)
	}
}

// projectDetails: the members are the owner, the member and the victim;
// the removed member is gone.
func projectDetails(t *testing.T, fx *authzFixture, who identity, r response) {
	projectIs(t, fx, who, r)
	var p struct {
		Members []struct {
			UserID int64 `json:"user_id"`
		} `json:"members"`
	}
	r.JSON(t, &p)
	var got []int64
	for _, m := range p.Members {
		got = append(got, m.UserID)
	}
	want := []int64{fx.w.owner.ID, fx.w.member.ID, fx.w.victim.ID}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("members %v, want %v", got, want)
	}
}

func taskListed(t *testing.T, fx *authzFixture, _ identity, r response) {
	if !slices.Contains(listedIDs(t, r), fx.task) {
		t.Errorf("task %d not listed: %s", fx.task, truncate(r.Body))
	}
}

func taskInProject(t *testing.T, fx *authzFixture, _ identity, r response) {
	var task struct {
		ProjectID int64 `json:"project_id"`
	}
	r.JSON(t, &task)
	if task.ProjectID != fx.project {
		t.Errorf("task %s, want one of project %d", r.Body, fx.project)
	}
}

// commentListed: the task's comments include the fixture's, and all are
// the task's.
func commentListed(t *testing.T, fx *authzFixture, _ identity, r response) {
	var cs []struct {
		ID     int64 `json:"id"`
		TaskID int64 `json:"task_id"`
	}
	r.JSON(t, &cs)
	found := false
	for _, c := range cs {
		found = found || c.ID == fx.comment
		if c.TaskID != fx.task {
			t.Errorf("comment %d of task %d listed for task %d", c.ID, c.TaskID, fx.task)
		}
	}
	if !found {
		t.Errorf("comment %d not listed: %s", fx.comment, truncate(r.Body))
	}
}

func commentOnTask(t *testing.T, fx *authzFixture, _ identity, r response) {
	var c struct {
		TaskID    int64 `json:"task_id"`
		ProjectID int64 `json:"project_id"`
	}
	r.JSON(t, &c)
	if c.TaskID != fx.task || c.ProjectID != fx.project {
		t.Errorf("comment %s, want one on task %d of project %d", r.Body, fx.task, fx.project)
	}
}

func eventsOfProject(t *testing.T, fx *authzFixture, _ identity, r response) {
	var evs []struct {
		ProjectID int64 `json:"project_id"`
	}
	r.JSON(t, &evs)
	if len(evs) == 0 {
		t.Error("no events")
	}
	for _, ev := range evs {
		if ev.ProjectID != fx.project {
			t.Errorf("event of project %d in project %d's log", ev.ProjectID, fx.project)
		}
	}
}

// projectSocketLive: an open project socket receives the project's next
// event (and, scanned, nothing else it may not see).
func projectSocketLive(t *testing.T, ctx context.Context, fx *authzFixture, who identity, ws *websocket.Conn) {
	id := fx.newTask(t)
	fx.w.readUntil(t, ctx, ws, who, func(ev map[string]any) bool {
		return ev["event"] == "task_created" && eventField(ev, "id") == id
	})
}

// notificationSocketLive: while a user's notification socket is open, the
// owner is notified of something private, then the user of something of
// their own; the socket gets the latter, and never the former unless it is
// the owner's.
func notificationSocketLive(t *testing.T, ctx context.Context, fx *authzFixture, who identity, ws *websocket.Conn) {
	w, e := fx.w, fx.e
	title := w.plant(w.next("inbox"), idOwner)
	if r := e.do("PUT", "/api/v1/tasks/"+itoa(w.inboxTask), w.carol.Token, map[string]string{"title": title}); r.Status != http.StatusOK {
		t.Fatalf("rename the owner's task: %d %s", r.Status, r.Body)
	}
	if who == idOwner {
		w.readUntil(t, ctx, ws, who, func(ev map[string]any) bool {
			return ev["event"] == "notification" && eventField(ev, "task_id") == w.inboxTask && strings.Contains(jsonText(ev), title)
		})
		return
	}
	own := e.project(w.carol.Token, w.viewer(who).ID)
	w.readUntil(t, ctx, ws, who, func(ev map[string]any) bool {
		return ev["event"] == "notification" && eventField(ev, "project_id") == own
	})
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// docOperation is what the matrix needs of an OpenAPI operation.
type docOperation struct {
	Security   []map[string][]string `json:"security"`
	Responses  map[string]any        `json:"responses"`
	Parameters []struct {
		Name string `json:"name"`
		In   string `json:"in"`
	} `json:"parameters"`
}

// servedOperations reads the running server's OpenAPI document: every
// route it serves, by "METHOD /path".
func servedOperations(t *testing.T, e *env) map[string]docOperation {
	t.Helper()
	r := e.do("GET", "/openapi.json", "", nil)
	if r.Status != http.StatusOK {
		t.Fatalf("GET /openapi.json: %d", r.Status)
	}
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	r.JSON(t, &doc)
	ops := map[string]docOperation{}
	for path, item := range doc.Paths {
		for method, raw := range item {
			switch method {
			case "get", "put", "post", "delete", "options", "head", "patch", "trace":
			default:
				continue // parameters, summary...
			}
			var op docOperation
			if err := json.Unmarshal(raw, &op); err != nil {
				t.Fatalf("%s %s: %v", method, path, err)
			}
			ops[strings.ToUpper(method)+" "+path] = op
		}
	}
	if len(ops) == 0 {
		t.Fatal("the OpenAPI document lists no operation")
	}
	return ops
}

// checkRouteTable holds the matrix and the served routes to each other.
func checkRouteTable(t *testing.T, served map[string]docOperation, routes []authzRoute) {
	rows := map[string]authzRoute{}
	for _, r := range routes {
		if _, dup := rows[r.key()]; dup {
			t.Errorf("%s appears twice in the matrix", r.key())
		}
		rows[r.key()] = r
	}
	for _, k := range sortedOps(served) {
		if _, ok := rows[k]; !ok {
			t.Errorf("%s is served (it is in the OpenAPI document) but the authorization matrix does not describe it: add a row to authzRoutes", k)
		}
	}
	for _, r := range routes {
		op, inDoc := served[r.key()]
		switch {
		case r.undocumented && inDoc:
			t.Errorf("%s is in the OpenAPI document now: drop undocumented from its row", r.key())
			continue
		case r.undocumented:
			continue
		case !inDoc:
			t.Errorf("%s is in the matrix but not served (not in the OpenAPI document): a stale row", r.key())
			continue
		}
		secured := len(op.Security) > 0
		switch {
		case r.public && secured:
			t.Errorf("%s: the matrix says public, the document requires a token", r.key())
		case !r.public && !r.socket && !secured:
			t.Errorf("%s: the matrix requires a token, the document declares no security", r.key())
		case r.socket && !slices.ContainsFunc(op.Parameters, func(p struct {
			Name string `json:"name"`
			In   string `json:"in"`
		}) bool {
			return p.Name == "token" && p.In == "query"
		}):
			t.Errorf("%s: a socket without a documented ?token=", r.key())
		}
		// Every answer the matrix expects is one the document declares.
		_, hasDefault := op.Responses["default"]
		for _, who := range identities {
			want, ok := r.want(who)
			if !ok {
				continue
			}
			if _, declared := op.Responses[itoa(int64(want.status))]; !declared && !hasDefault {
				t.Errorf("%s answers %d to %s, which its OpenAPI responses do not declare", r.key(), want.status, who)
			}
		}
	}
}

func sortedOps(m map[string]docOperation) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// TestAuthzMatrix runs every route of the server against every identity.
func TestAuthzMatrix(t *testing.T) {
	w := newAuthzWorld(t)
	served := servedOperations(t, w.e)
	routes := authzRoutes()
	t.Run("route-table", func(t *testing.T) { checkRouteTable(t, served, routes) })

	// The cases are generated from the served routes (in the document's
	// order), then the undocumented ones.
	rows := map[string]authzRoute{}
	for _, r := range routes {
		rows[r.key()] = r
	}
	var run []authzRoute
	for _, k := range sortedOps(served) {
		if r, ok := rows[k]; ok {
			run = append(run, r)
		}
	}
	for _, r := range routes {
		if r.undocumented {
			run = append(run, r)
		}
	}
	cases := 0
	for _, r := range run {
		t.Run(r.key(), func(t *testing.T) {
			fx := w.fixture(t)
			for _, who := range identities {
				want, ok := r.want(who)
				if !ok {
					continue
				}
				cases++
				t.Run(string(who), func(t *testing.T) {
					fx := *fx
					fx.e = w.e.as(t)
					if r.socket {
						runSocketCase(t, &fx, r, who, want)
					} else {
						runRESTCase(t, &fx, r, who, want)
					}
				})
			}
		})
	}
	t.Logf("%d routes × identities: %d cases", len(run), cases)
}

func runRESTCase(t *testing.T, fx *authzFixture, r authzRoute, who identity, want authzOutcome) {
	w := fx.w
	path, body := r.request(t, fx, who)
	var before string
	if want.status >= 400 {
		before = fx.state(t)
	}
	resp := fx.e.do(r.method, path, w.token(who), body)
	w.scanResponse(t, who, r.method+" "+path, resp)
	switch {
	case resp.Status != want.status:
		t.Errorf("%s %s as %s: status %d, want %d; body %s", r.method, path, who, resp.Status, want.status, truncate(resp.Body))
	case want.detail != "":
		checkBody(t, resp, detailIs(want.detail))
		if want.status == http.StatusUnauthorized {
			checkHeaders(t, resp, bearerChallenge)
		}
	case want.status == http.StatusNoContent:
		checkBody(t, resp, nil)
	case want.check != nil:
		want.check(t, fx, who, resp)
	}
	if before != "" {
		if after := fx.state(t); after != before {
			t.Errorf("a refused request changed state: %s, then %s", before, after)
		}
	}
}

func runSocketCase(t *testing.T, fx *authzFixture, r authzRoute, who identity, want authzOutcome) {
	w := fx.w
	path, _ := r.request(t, fx, who)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	before := fx.state(t)
	ws, res, err := websocket.Dial(ctx, fx.e.wsURL(path), nil)
	if want.status == http.StatusSwitchingProtocols {
		if err != nil {
			var body []byte
			status := 0
			if res != nil {
				status = res.StatusCode
				body = readBody(res)
			}
			t.Fatalf("handshake as %s refused (%d %s): %v", who, status, body, err)
		}
		defer ws.CloseNow()
		want.live(t, ctx, fx, who, ws)
		return
	}
	if err == nil {
		ws.CloseNow()
		t.Fatalf("socket upgraded for %s, want %d", who, want.status)
	}
	if res == nil {
		t.Fatalf("handshake as %s: %v", who, err)
	}
	resp := response{Status: res.StatusCode, Header: res.Header, Body: readBody(res)}
	w.scanResponse(t, who, "handshake", resp)
	if resp.Status != want.status {
		t.Fatalf("handshake as %s: status %d, want %d; body %s", who, resp.Status, want.status, truncate(resp.Body))
	}
	checkBody(t, resp, detailIs(want.detail))
	if after := fx.state(t); after != before {
		t.Errorf("a refused handshake changed state: %s, then %s", before, after)
	}
}

// readBody returns what a refused handshake answered (coder/websocket
// keeps its first 1024 bytes).
func readBody(res *http.Response) []byte {
	if res.Body == nil {
		return nil
	}
	b, _ := io.ReadAll(res.Body)
	return b
}

// TestAuthzSocketsLive: access checked at the handshake stays checked
// while the socket is open.
func TestAuthzSocketsLive(t *testing.T) {
	w := newAuthzWorld(t)
	dial := func(t *testing.T, ctx context.Context, path string) *websocket.Conn {
		t.Helper()
		ws, res, err := websocket.Dial(ctx, w.e.wsURL(path), nil)
		if err != nil {
			status := 0
			if res != nil {
				status = res.StatusCode
			}
			t.Fatalf("dial %s: %d %v", path, status, err)
		}
		t.Cleanup(func() { ws.CloseNow() })
		return ws
	}
	// expiringToken is the member's token, valid for a few seconds more.
	expiringToken := func(t *testing.T) string {
		now := time.Now()
		return signedToken(t, testSecret, jwt.RegisteredClaims{Subject: itoa(w.member.ID),
			IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(3 * time.Second))})
	}
	ctxFor := func(t *testing.T) context.Context {
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		t.Cleanup(cancel)
		return ctx
	}

	t.Run("GET /ws/projects/{project_id}/member-removed-while-open", func(t *testing.T) {
		fx, ctx := w.fixture(t), ctxFor(t)
		ws := dial(t, ctx, "/ws/projects/"+itoa(fx.project)+tokenQuery(w.victim.Token)+"&v=2") // protocol 1 is not sent member_removed
		if r := fx.e.do("DELETE", fx.projectPath("/members/"+itoa(w.victim.ID)), w.owner.Token, nil); r.Status != http.StatusNoContent {
			t.Fatalf("remove: %d %s", r.Status, r.Body)
		}
		after := w.next("after-removal") // not planted: checked here, for the victim
		fx.e.do("POST", fx.projectPath("/tasks"), w.owner.Token, map[string]string{"title": after})
		code, events := readToClose(t, ctx, ws, func(msg []byte) {
			if strings.Contains(string(msg), after) {
				t.Errorf("LEAK: the removed member's socket received an event after the removal: %s", msg)
			}
		})
		if code != realtime.CloseAccessRevoked || !slices.Contains(events, "member_removed") {
			t.Errorf("close %d after %v, want member_removed then 4403", code, events)
		}
	})
	t.Run("GET /ws/projects/{project_id}/project-deleted-while-open", func(t *testing.T) {
		fx, ctx := w.fixture(t), ctxFor(t)
		ws := dial(t, ctx, "/ws/projects/"+itoa(fx.project)+tokenQuery(w.member.Token)+"&v=2") // protocol 1 is not sent project_deleted
		if r := fx.e.do("DELETE", fx.projectPath(""), w.owner.Token, nil); r.Status != http.StatusNoContent {
			t.Fatalf("delete: %d %s", r.Status, r.Body)
		}
		code, events := readToClose(t, ctx, ws, func(msg []byte) { w.scan(t, idMember, "socket frame", msg) })
		if code != realtime.CloseAccessRevoked || len(events) == 0 || events[len(events)-1] != "project_deleted" {
			t.Errorf("close %d after %v, want project_deleted then 4403", code, events)
		}
	})
	t.Run("GET /ws/projects/{project_id}/token-expires-while-open", func(t *testing.T) {
		fx, ctx := w.fixture(t), ctxFor(t)
		ws := dial(t, ctx, "/ws/projects/"+itoa(fx.project)+tokenQuery(expiringToken(t)))
		if code, _ := readToClose(t, ctx, ws, func(msg []byte) { w.scan(t, idMember, "socket frame", msg) }); code != realtime.CloseTokenExpired {
			t.Errorf("close %d, want 4401", code)
		}
	})
	t.Run("GET /ws/notifications/token-expires-while-open", func(t *testing.T) {
		ctx := ctxFor(t)
		ws := dial(t, ctx, "/ws/notifications"+tokenQuery(expiringToken(t)))
		if code, _ := readToClose(t, ctx, ws, func(msg []byte) { w.scan(t, idMember, "socket frame", msg) }); code != realtime.CloseTokenExpired {
			t.Errorf("close %d, want 4401", code)
		}
	})
	// A member removed and added back is a member: resuming from before
	// the removal replays it, but must not revoke the socket (4403 says
	// "do not reconnect").
	t.Run("GET /ws/projects/{project_id}/readded-member-resumes", func(t *testing.T) {
		fx, ctx := w.fixture(t), ctxFor(t)
		if r := fx.e.do("POST", fx.projectPath("/members"), w.owner.Token, map[string]int64{"user_id": w.removed.ID}); r.Status != http.StatusCreated {
			t.Fatalf("add back: %d %s", r.Status, r.Body)
		}
		ws := dial(t, ctx, "/ws/projects/"+itoa(fx.project)+tokenQuery(w.removed.Token)+"&since=0")
		id := fx.newTask(t)
		// Fails today: the replay reaches the old member_removed naming
		// this user, and realtime/conn.go revokes on any such event.
		// A member again: scanned as one.
		w.readUntil(t, ctx, ws, idMember, func(ev map[string]any) bool {
			return ev["event"] == "task_created" && eventField(ev, "id") == id
		})
	})
}
