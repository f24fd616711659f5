package httpapi_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/taskwire/taskwire"
)

// webhookJSON is a webhook as the contract lists it (no secret).
func webhookJSON(id, projectID int64, url, events, description string, active bool) string {
	return fmt.Sprintf(`{"id": %d, "project_id": %d, "url": %q, "events": %s, "description": %q, "active": %t, "created_at": "<rfc3339>"}`,
		id, projectID, url, events, description, active)
}

// allEvents is the events of a webhook created without a list.
var allEvents = func() string {
	var b strings.Builder
	b.WriteString("[")
	for i, t := range taskwire.EventTypes {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`"` + string(t) + `"`)
	}
	return b.String() + "]"
}()

// withSecret adds the create's secret to a webhook's JSON.
func withSecret(js string) string { return strings.TrimSuffix(js, "}") + `, "secret": "<string>"}` }

func TestWebhookRoutes(t *testing.T) {
	e := hookEnv(t)
	_, alice := e.user("alice")
	bobID, bob := e.user("bob")
	_, carol := e.user("carol")
	pid := e.project(alice, bobID)
	rc := newReceiver(t, nil)
	p := "/api/v1/projects/" + itoa(pid) + "/webhooks"
	long := strings.Repeat("é", 501)

	runScenarios(t, e, []scenario{
		{name: "CreateOK", method: "POST", path: p, token: alice, body: map[string]any{"url": rc.URL, "description": "CI"},
			wantStatus: 201, wantBody: jsonIs(withSecret(webhookJSON(1, pid, rc.URL, allEvents, "CI", true)))},
		{name: "CreateOKEventsSortedDeduplicated", method: "POST", path: p, token: alice,
			body:       map[string]any{"url": rc.URL, "events": []string{"comment_added", "task_created", "comment_added"}},
			wantStatus: 201, wantBody: jsonIs(withSecret(webhookJSON(2, pid, rc.URL, `["task_created","comment_added"]`, "", true)))},
		{name: "CreateOKEventsNull", method: "POST", path: p, token: alice, body: `{"url": "` + rc.URL + `", "events": null}`,
			wantStatus: 201, wantBody: jsonIs(withSecret(webhookJSON(3, pid, rc.URL, allEvents, "", true)))},
		{name: "CreateErrUnknownEvent", method: "POST", path: p, token: alice, body: map[string]any{"url": rc.URL, "events": []string{"task_exploded"}},
			wantStatus: 422, wantBody: invalidAt{loc: []any{"body", "events"}}},
		{name: "CreateErrEventsEmpty", method: "POST", path: p, token: alice, body: map[string]any{"url": rc.URL, "events": []string{}},
			wantStatus: 422, wantBody: invalidAt{loc: []any{"body", "events"}}},
		{name: "CreateErrURLMissing", method: "POST", path: p, token: alice, body: map[string]any{},
			wantStatus: 422, wantBody: invalidAt{loc: []any{"body", "url"}, typ: "missing"}},
		{name: "CreateErrURLScheme", method: "POST", path: p, token: alice, body: map[string]any{"url": "ftp://example.com/x"},
			wantStatus: 422, wantBody: invalidAt{loc: []any{"body", "url"}}},
		{name: "CreateErrURLRelative", method: "POST", path: p, token: alice, body: map[string]any{"url": "/hook"},
			wantStatus: 422, wantBody: invalidAt{loc: []any{"body", "url"}}},
		{name: "CreateErrURLCredentials", method: "POST", path: p, token: alice, body: map[string]any{"url": "http://u:p@127.0.0.1/x"},
			wantStatus: 422, wantBody: invalidAt{loc: []any{"body", "url"}}},
		{name: "CreateErrURLTooLong", method: "POST", path: p, token: alice, body: map[string]any{"url": "http://a.example/" + strings.Repeat("x", 2048)},
			wantStatus: 422, wantBody: invalidAt{loc: []any{"body", "url"}}},
		{name: "CreateErrDescriptionTooLong", method: "POST", path: p, token: alice, body: map[string]any{"url": rc.URL, "description": long},
			wantStatus: 422, wantBody: invalidAt{loc: []any{"body", "description"}}},
		{name: "CreateErrMalformed", method: "POST", path: p, token: alice, body: `{"url": `,
			wantStatus: 422, wantBody: invalidAt{}},
		{name: "CreateErrMember", method: "POST", path: p, token: bob, body: map[string]any{"url": rc.URL},
			wantStatus: 403, wantBody: detailIs(msgNotWebhookManager)},
		{name: "CreateErrStranger", method: "POST", path: p, token: carol, body: map[string]any{"url": rc.URL},
			wantStatus: 403, wantBody: detailIs("Not a member of this project")},
		{name: "CreateErrProjectNotFound", method: "POST", path: "/api/v1/projects/9999/webhooks", token: alice, body: map[string]any{"url": rc.URL},
			wantStatus: 404, wantBody: detailIs("Project not found")},
		{name: "CreateErrNoToken", method: "POST", path: p, body: map[string]any{"url": rc.URL},
			wantStatus: 401, wantBody: detailIs("Not authenticated")},

		{name: "ListOK", method: "GET", path: p + "?limit=2", token: alice, wantStatus: 200,
			wantBody: jsonIs("[" + webhookJSON(1, pid, rc.URL, allEvents, "CI", true) + "," +
				webhookJSON(2, pid, rc.URL, `["task_created","comment_added"]`, "", true) + "]"),
			wantHeaders: map[string]string{"Link": "<any>"}},
		{name: "ListErrMember", method: "GET", path: p, token: bob, wantStatus: 403, wantBody: detailIs(msgNotWebhookManager)},
		{name: "ListErrStranger", method: "GET", path: p, token: carol, wantStatus: 403, wantBody: detailIs("Not a member of this project")},
		{name: "ListErrProjectNotFound", method: "GET", path: "/api/v1/projects/9999/webhooks", token: alice, wantStatus: 404, wantBody: detailIs("Project not found")},
		{name: "ListErrBadLimit", method: "GET", path: p + "?limit=0", token: alice, wantStatus: 422, wantBody: invalidAt{loc: []any{"query", "limit"}}},

		{name: "UpdateOK", method: "PATCH", path: "/api/v1/webhooks/2", token: alice,
			body:       map[string]any{"events": []string{"task_deleted"}, "description": "ops", "active": false},
			wantStatus: 200, wantBody: jsonIs(webhookJSON(2, pid, rc.URL, `["task_deleted"]`, "ops", false))},
		{name: "UpdateOKURL", method: "PATCH", path: "/api/v1/webhooks/2", token: alice, body: map[string]any{"url": rc.URL + "/2"},
			wantStatus: 200, wantBody: jsonIs(webhookJSON(2, pid, rc.URL+"/2", `["task_deleted"]`, "ops", false))},
		{name: "UpdateOKNothing", method: "PATCH", path: "/api/v1/webhooks/2", token: alice, body: map[string]any{},
			wantStatus: 200, wantBody: jsonIs(webhookJSON(2, pid, rc.URL+"/2", `["task_deleted"]`, "ops", false))},
		{name: "UpdateErrURLNull", method: "PATCH", path: "/api/v1/webhooks/2", token: alice, body: `{"url": null}`,
			wantStatus: 422, wantBody: invalidAt{loc: []any{"body", "url"}}},
		{name: "UpdateErrActiveNull", method: "PATCH", path: "/api/v1/webhooks/2", token: alice, body: `{"active": null}`,
			wantStatus: 422, wantBody: invalidAt{loc: []any{"body", "active"}}},
		{name: "UpdateErrEventsNull", method: "PATCH", path: "/api/v1/webhooks/2", token: alice, body: `{"events": null}`,
			wantStatus: 422, wantBody: invalidAt{loc: []any{"body", "events"}}},
		{name: "UpdateErrEventsEmpty", method: "PATCH", path: "/api/v1/webhooks/2", token: alice, body: map[string]any{"events": []string{}},
			wantStatus: 422, wantBody: invalidAt{loc: []any{"body", "events"}}},
		{name: "UpdateErrUnknownEvent", method: "PATCH", path: "/api/v1/webhooks/2", token: alice, body: map[string]any{"events": []string{"nope"}},
			wantStatus: 422, wantBody: invalidAt{loc: []any{"body", "events"}}},
		{name: "UpdateErrURL", method: "PATCH", path: "/api/v1/webhooks/2", token: alice, body: map[string]any{"url": "mailto:x@example.com"},
			wantStatus: 422, wantBody: invalidAt{loc: []any{"body", "url"}}},
		{name: "UpdateErrActiveWrongType", method: "PATCH", path: "/api/v1/webhooks/2", token: alice, body: map[string]any{"active": "yes"},
			wantStatus: 422, wantBody: invalidAt{loc: []any{"body", "active"}}},
		{name: "UpdateErrMember", method: "PATCH", path: "/api/v1/webhooks/2", token: bob, body: map[string]any{"active": true},
			wantStatus: 403, wantBody: detailIs(msgNotWebhookManager)},
		{name: "UpdateErrStranger", method: "PATCH", path: "/api/v1/webhooks/2", token: carol, body: map[string]any{"active": true},
			wantStatus: 403, wantBody: detailIs("Not a member of this project")},
		{name: "UpdateErrNotFound", method: "PATCH", path: "/api/v1/webhooks/9999", token: alice, body: map[string]any{"active": true},
			wantStatus: 404, wantBody: detailIs("Webhook not found")},

		{name: "RotateOK", method: "POST", path: "/api/v1/webhooks/1/rotate-secret", token: alice, wantStatus: 200, wantBody: jsonIs(`{"secret": "<string>"}`)},
		{name: "RotateErrMember", method: "POST", path: "/api/v1/webhooks/1/rotate-secret", token: bob, wantStatus: 403, wantBody: detailIs(msgNotWebhookManager)},
		{name: "RotateErrNotFound", method: "POST", path: "/api/v1/webhooks/9999/rotate-secret", token: alice, wantStatus: 404, wantBody: detailIs("Webhook not found")},

		{name: "DeliveriesOKEmpty", method: "GET", path: "/api/v1/webhooks/2/deliveries", token: alice, wantStatus: 200, wantBody: jsonIs(`[]`)},
		{name: "DeliveriesErrMember", method: "GET", path: "/api/v1/webhooks/2/deliveries", token: bob, wantStatus: 403, wantBody: detailIs(msgNotWebhookManager)},
		{name: "DeliveriesErrStranger", method: "GET", path: "/api/v1/webhooks/2/deliveries", token: carol, wantStatus: 403, wantBody: detailIs("Not a member of this project")},
		{name: "DeliveriesErrNotFound", method: "GET", path: "/api/v1/webhooks/9999/deliveries", token: alice, wantStatus: 404, wantBody: detailIs("Webhook not found")},

		{name: "RedeliverErrDeliveryNotFound", method: "POST", path: "/api/v1/webhooks/1/deliveries/9999/redeliver", token: alice,
			wantStatus: 404, wantBody: detailIs("Delivery not found")},
		{name: "RedeliverErrWebhookNotFound", method: "POST", path: "/api/v1/webhooks/9999/deliveries/1/redeliver", token: alice,
			wantStatus: 404, wantBody: detailIs("Webhook not found")},
		{name: "RedeliverErrMember", method: "POST", path: "/api/v1/webhooks/1/deliveries/1/redeliver", token: bob,
			wantStatus: 403, wantBody: detailIs(msgNotWebhookManager)},

		{name: "DeleteErrMember", method: "DELETE", path: "/api/v1/webhooks/2", token: bob, wantStatus: 403, wantBody: detailIs(msgNotWebhookManager)},
		{name: "DeleteErrStranger", method: "DELETE", path: "/api/v1/webhooks/2", token: carol, wantStatus: 403, wantBody: detailIs("Not a member of this project")},
		{name: "DeleteOK", method: "DELETE", path: "/api/v1/webhooks/2", token: alice, wantStatus: 204},
		{name: "DeleteErrGone", method: "DELETE", path: "/api/v1/webhooks/2", token: alice, wantStatus: 404, wantBody: detailIs("Webhook not found")},
	})

	// The secret is shown once: never in a list or an update.
	r := e.do("GET", p, alice, nil)
	if strings.Contains(string(r.Body), "whsec_") || strings.Contains(string(r.Body), "secret") {
		t.Errorf("list shows a secret: %s", r.Body)
	}

	t.Run("DeliveriesPaged", func(t *testing.T) {
		e.task(alice, pid, "a")
		e.task(alice, pid, "b")
		e.task(alice, pid, "c")
		all := e.waitDeliveries(alice, 1, 3)
		r := e.do("GET", "/api/v1/webhooks/1/deliveries?limit=2", alice, nil)
		var page []taskwire.WebhookDelivery
		r.JSON(t, &page)
		link := r.Header.Get("Link")
		// Newest first: by id, which is the order attempts were logged in
		// (concurrent deliveries may log out of seq order).
		if len(page) != 2 || page[0].ID != all[0].ID || page[1].ID != all[1].ID || page[0].ID < page[1].ID || link == "" {
			t.Fatalf("first page %+v, link %q", page, link)
		}
		next := link[strings.Index(link, "/api/"):strings.Index(link, ">")]
		r = e.do("GET", next, alice, nil)
		r.JSON(t, &page)
		if len(page) != 1 || page[0].ID != all[2].ID {
			t.Errorf("second page %+v", page)
		}
	})

	t.Run("RedeliverErrEventGone", func(t *testing.T) {
		// A delivery whose event has left the log (retention) cannot be
		// sent again.
		e2 := hookEnv(t, "EVENT_RETENTION_COUNT", "1")
		_, dan := e2.user("dan")
		pid := e2.project(dan)
		h := e2.hook(dan, pid, map[string]any{"url": rc.URL})
		e2.task(dan, pid, "one")
		first := e2.waitDeliveries(dan, h.ID, 1)[0]
		e2.task(dan, pid, "two")
		r := e2.do("POST", "/api/v1/webhooks/"+itoa(h.ID)+"/deliveries/"+itoa(first.ID)+"/redeliver", dan, nil)
		if r.Status != http.StatusGone || !strings.Contains(string(r.Body), "no longer retained") {
			t.Errorf("redeliver a pruned event: %d %s", r.Status, r.Body)
		}
	})
}

func TestWebhookURLRefusedWhenPrivate(t *testing.T) {
	e := newEnv(t) // WEBHOOK_ALLOW_PRIVATE unset
	_, alice := e.user("alice")
	pid := e.project(alice)
	p := "/api/v1/projects/" + itoa(pid) + "/webhooks"
	for _, u := range []string{
		"http://127.0.0.1:8080/hook", "http://localhost/hook", "http://[::1]/hook", "http://10.1.2.3/hook",
		"http://192.168.0.1/hook", "http://169.254.169.254/latest/meta-data", "http://[::ffff:127.0.0.1]/hook",
		"http://127.1/hook", "http://2130706433/hook", "http://0.0.0.0/hook",
	} {
		t.Run(u, func(t *testing.T) {
			r := e.do("POST", p, alice, map[string]any{"url": u})
			if r.Status != http.StatusUnprocessableEntity {
				t.Fatalf("%s: %d %s, want 422", u, r.Status, r.Body)
			}
			expectInvalid(t, r, []any{"body", "url"}, "")
		})
	}
	// Nor can an existing webhook be pointed there.
	h := e.hook(alice, pid, map[string]any{"url": "https://93.184.215.14/hook"})
	r := e.do("PATCH", "/api/v1/webhooks/"+itoa(h.ID), alice, map[string]any{"url": "http://127.0.0.1/hook"})
	if r.Status != http.StatusUnprocessableEntity {
		t.Errorf("patch to loopback: %d %s", r.Status, r.Body)
	}
}
