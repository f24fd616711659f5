package httpapi_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/taskwire/taskwire"
)

// FuzzWebhookBody sends arbitrary bodies to the webhook create and update
// routes: never a 5xx, and what is accepted is a webhook with an http(s)
// URL and known event types.
func FuzzWebhookBody(f *testing.F) {
	fe := newFuzzEnv(f)
	seedJSON(f, []string{
		`{"url": "https://hooks.example.com/x"}`, `{"url": "http://127.0.0.1:9/x", "events": ["task_created"], "description": "CI"}`,
		`{"url": "ftp://x"}`, `{"url": ""}`, `{"url": null}`, `{"events": []}`, `{"events": null}`, `{"events": ["nope"]}`,
		`{"events": ["task_created", "task_created"]}`, `{"active": false}`, `{"active": "no"}`, `{"description": null}`,
		`{"url": "http://[::1]:80/"}`, `{"url": "http://a b/"}`, `{"url": "http://u:p@h/"}`, `{"url": "//x"}`,
		`{"description": "` + strings.Repeat("é", 501) + `"}`, `{"url": "https://x.example/` + strings.Repeat("a", 2100) + `"}`,
	}, "url", "events", "active", "description")
	create := "/api/v1/projects/" + itoa(fe.projectID) + "/webhooks"
	hook := idOf(f, fe.must(f, "POST", create, fe.alice, map[string]string{"url": "https://hooks.example.com/x"}, 201))
	check := func(t *testing.T, r response, withSecret bool) {
		t.Helper()
		expectSane(t, r, func(t *testing.T, b any) {
			m, ok := b.(map[string]any)
			if !ok {
				t.Fatalf("body %v", b)
			}
			raw, _ := m["url"].(string)
			u, err := url.Parse(raw)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				t.Fatalf("accepted url %q", raw)
			}
			events, _ := m["events"].([]any)
			if len(events) == 0 {
				t.Fatalf("events %v", m["events"])
			}
			for _, e := range events {
				s, _ := e.(string)
				if !slices.Contains(taskwire.EventTypes, taskwire.EventType(s)) {
					t.Fatalf("accepted event %v", e)
				}
			}
			if _, ok := m["secret"]; ok != withSecret {
				t.Fatalf("secret shown: %v, want %v", ok, withSecret)
			}
		})
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r := fe.send(t, "POST", create, fe.alice, body)
		check(t, r, true)
		if r.Status != http.StatusCreated && r.Status != http.StatusUnprocessableEntity {
			t.Fatalf("create answered %d", r.Status)
		}
		p := fe.send(t, "PATCH", "/api/v1/webhooks/"+itoa(hook), fe.alice, body)
		check(t, p, false)
		if p.Status != http.StatusOK && p.Status != http.StatusUnprocessableEntity {
			t.Fatalf("update answered %d", p.Status)
		}
	})
}
