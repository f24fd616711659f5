package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/taskwire/taskwire"
	"github.com/taskwire/taskwire/auth"
)

// The fuzz targets send fuzzed bytes to one decoder each, over the real
// server, and assert that the answer is never a 5xx and is always JSON:
// {"detail": ...} for an error, the route's success shape otherwise.

// fuzzEnv is a whole server for a fuzz target, built once per target, with
// auth rate limits high enough never to trigger.
type fuzzEnv struct {
	URL    string
	tokens *auth.Tokens
	env    *env

	aliceID, bobID, carolID int64
	alice, bob, carol       string
	projectID, taskID       int64
	// aliceAPI is an API token of alice's.
	aliceAPI string
}

func newFuzzEnv(f *testing.F) *fuzzEnv {
	f.Helper()
	// Webhook URLs are not resolved with WEBHOOK_ALLOW_PRIVATE: fuzzed
	// host names do not wait on DNS.
	e := newEnv(f, withEnv("RATE_LIMIT_AUTH", "1073741824/minute", "WEBHOOK_ALLOW_PRIVATE", "true"))
	fe := &fuzzEnv{URL: e.URL, tokens: e.tokens, env: e}
	fe.aliceID, fe.alice = fe.user(f, "alice")
	fe.bobID, fe.bob = fe.user(f, "bob")
	fe.carolID, fe.carol = fe.user(f, "carol")
	r := fe.must(f, "POST", "/api/v1/projects/", fe.alice, map[string]string{"name": "Fuzz"}, 201)
	fe.projectID = idOf(f, r)
	fe.must(f, "POST", "/api/v1/projects/"+itoa(fe.projectID)+"/members", fe.alice, map[string]any{"user_id": fe.bobID}, 201)
	for i := range 3 {
		r = fe.must(f, "POST", "/api/v1/projects/"+itoa(fe.projectID)+"/tasks", fe.alice,
			map[string]any{"title": "task " + strconv.Itoa(i), "assignee_id": fe.bobID, "status": []string{"todo", "in_progress", "done"}[i]}, 201)
	}
	fe.taskID = idOf(f, r)
	r = fe.must(f, "POST", "/api/v1/users/me/tokens", fe.alice, map[string]string{"name": "fuzz"}, 201)
	var tok struct{ Token string }
	if err := json.Unmarshal(r.Body, &tok); err != nil {
		f.Fatal(err)
	}
	fe.aliceAPI = tok.Token
	return fe
}

func (fe *fuzzEnv) user(tb testing.TB, name string) (int64, string) {
	tb.Helper()
	r := fe.must(tb, "POST", "/api/v1/auth/signup", "", map[string]string{"email": name + "@example.com", "username": name, "password": "password123"}, 201)
	id := idOf(tb, r)
	tok, err := fe.tokens.Issue(id)
	if err != nil {
		tb.Fatal(err)
	}
	return id, tok
}

// must sends a request that has to succeed with status want.
func (fe *fuzzEnv) must(tb testing.TB, method, path, token string, body any, want int) response {
	tb.Helper()
	r, err := sendRaw(fe.URL, method, path, token, body)
	if err != nil {
		tb.Fatal(err)
	}
	if r.Status != want {
		tb.Fatalf("%s %s: %d %s, want %d", method, path, r.Status, r.Body, want)
	}
	return r
}

// send sends a fuzzed request; a transport error means the server broke
// the connection, which is a failure.
func (fe *fuzzEnv) send(t *testing.T, method, path, token string, body any, headers ...string) response {
	t.Helper()
	r, err := sendRaw(fe.URL, method, path, token, body, headers...)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return r
}

func idOf(tb testing.TB, r response) int64 {
	tb.Helper()
	var v struct{ ID int64 }
	if err := json.Unmarshal(r.Body, &v); err != nil || v.ID == 0 {
		tb.Fatalf("no id in %s", r.Body)
	}
	return v.ID
}

// validHeaderValue reports whether Go's client would send v as a header
// value (the rule of httpguts.ValidHeaderFieldValue).
func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if b := v[i]; b < 0x20 && b != '\t' || b == 0x7f {
			return false
		}
	}
	return true
}

// expectSane asserts the invariants every answer keeps: no 5xx, a JSON
// body, {"detail": ...} for an error (a string, or FastAPI's list with
// loc/msg/type), and ok's success shape for a 2xx.
func expectSane(t *testing.T, r response, ok func(t *testing.T, body any)) {
	t.Helper()
	if r.Status >= 500 {
		t.Fatalf("server error %d: %s", r.Status, truncate(r.Body))
	}
	if r.Status == http.StatusNoContent {
		return
	}
	var body any
	if err := json.Unmarshal(r.Body, &body); err != nil {
		t.Fatalf("%d with a body that is not JSON: %q", r.Status, truncate(r.Body))
	}
	if r.Status >= 300 {
		obj, _ := body.(map[string]any)
		d, has := obj["detail"]
		if !has {
			t.Fatalf("%d without detail: %s", r.Status, truncate(r.Body))
		}
		switch d := d.(type) {
		case string:
			if d == "" {
				t.Fatalf("%d with an empty detail", r.Status)
			}
		case []any:
			if r.Status != http.StatusUnprocessableEntity || len(d) == 0 {
				t.Fatalf("%d with detail list %s", r.Status, truncate(r.Body))
			}
			for _, is := range d {
				m, _ := is.(map[string]any)
				loc, okLoc := m["loc"].([]any)
				_, okMsg := m["msg"].(string)
				_, okType := m["type"].(string)
				if !okLoc || len(loc) == 0 || !okMsg || !okType {
					t.Fatalf("422 issue without loc/msg/type: %s", truncate(r.Body))
				}
			}
		default:
			t.Fatalf("%d with detail %T: %s", r.Status, d, truncate(r.Body))
		}
		if r.Status == http.StatusUnauthorized && r.Header.Get("WWW-Authenticate") != "Bearer" {
			t.Fatalf("401 without WWW-Authenticate: Bearer")
		}
		return
	}
	if ok == nil {
		t.Fatalf("unexpected success %d: %s", r.Status, truncate(r.Body))
	}
	ok(t, body)
}

// shape asserts that a success body has exactly the given keys (matchJSON
// placeholders allowed).
func shape(want string) func(*testing.T, any) {
	var w any
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		panic(err)
	}
	return func(t *testing.T, got any) {
		t.Helper()
		if diffs := matchJSON("$", w, got); len(diffs) > 0 {
			t.Fatalf("success body %v:\n  %s", got, strings.Join(diffs, "\n  "))
		}
	}
}

var validStatus = map[any]bool{"todo": true, "in_progress": true, "done": true}

// taskShape asserts a task body of the project, and returns its fields.
func taskShape(t *testing.T, body any, projectID int64) map[string]any {
	t.Helper()
	shape(`{"title": "<any>", "description": "<any>", "status": "<string>", "id": "<int>", "project_id": `+itoa(projectID)+
		`, "assignee_id": "<any>", "version": "<int>", "created_at": "<rfc3339>", "updated_at": "<rfc3339>",
		"due_at": "<any>", "labels": "<any>"}`)(t, body)
	m := body.(map[string]any)
	if d := m["due_at"]; d != nil {
		s, _ := d.(string)
		if _, err := time.Parse(time.RFC3339, s); err != nil {
			t.Fatalf("task with due_at %v", d)
		}
	}
	labels, ok := m["labels"].([]any)
	if !ok || len(labels) > taskwire.MaxLabels {
		t.Fatalf("task with labels %v", m["labels"])
	}
	for _, l := range labels {
		if s, ok := l.(string); !ok || s == "" || s != strings.TrimSpace(s) {
			t.Fatalf("task with label %q", l)
		}
	}
	if !validStatus[m["status"]] {
		t.Fatalf("task with status %v", m["status"])
	}
	if _, ok := m["title"].(string); !ok {
		t.Fatalf("task with title %v", m["title"])
	}
	if d := m["description"]; d != nil {
		if _, ok := d.(string); !ok {
			t.Fatalf("task with description %v", d)
		}
	}
	if v, _ := m["version"].(float64); v < 1 {
		t.Fatalf("task with version %v", m["version"])
	}
	return m
}

// taskAfterUpdate asserts the invariants after a task update answered r:
// on success the task reads back as answered, with a valid status.
func (fe *fuzzEnv) taskAfterUpdate(t *testing.T, r response) {
	t.Helper()
	expectSane(t, r, func(t *testing.T, body any) {
		m := taskShape(t, body, fe.projectID)
		if r.Header.Get("ETag") != fmt.Sprintf(`"%v"`, m["version"]) {
			t.Fatalf("ETag %q for version %v", r.Header.Get("ETag"), m["version"])
		}
	})
	g := fe.send(t, "GET", "/api/v1/tasks/"+itoa(fe.taskID), fe.alice, nil)
	if g.Status != http.StatusOK {
		t.Fatalf("GET task after update: %d %s", g.Status, g.Body)
	}
	var got any
	if err := json.Unmarshal(g.Body, &got); err != nil {
		t.Fatal(err)
	}
	m := taskShape(t, got, fe.projectID)
	if r.Status == http.StatusOK {
		var answered any
		_ = json.Unmarshal(r.Body, &answered)
		if diffs := matchJSON("$", answered, got); len(diffs) > 0 {
			t.Fatalf("task reads back differently from the update's answer:\n  %s", strings.Join(diffs, "\n  "))
		}
	}
	if a := m["assignee_id"]; a != nil && a != float64(fe.aliceID) && a != float64(fe.bobID) {
		t.Fatalf("task assigned to non-member %v", a)
	}
}

// nastyJSON are bodies every JSON decoder is seeded with.
var nastyJSON = []string{
	``, ` `, `null`, `true`, `0`, `-1`, `"x"`, `[]`, `{}`, `[{}]`, `{"a":`, `{"a":1,}`, `{,}`, `{"":""}`,
	`{"__proto__": {}}`, `{"a": NaN}`, `{"a": Infinity}`, `{"a": 1e999}`, `{"a": -0}`, "\xef\xbb\xbf{}",
	`{"a": "\ud800"}`, "{\"a\": \"\xff\xfe\"}", `{"a": "\u0000"}`, `{"a":` + strings.Repeat(`[`, 10000) + strings.Repeat(`]`, 10000) + `}`,
	strings.Repeat(`{"a":`, 3000) + `1` + strings.Repeat(`}`, 3000), `{"a": 1} {"b": 2}`, `{"a": 1}garbage`,
	`{"a": 99999999999999999999999999999999}`, `{"a": 1.0}`, `{"a": 9007199254740993}`,
}

// seedJSON seeds f with the nasty bodies and each of the given fields set to
// each nasty value.
func seedJSON(f *testing.F, realistic []string, fields ...string) {
	for _, s := range realistic {
		f.Add([]byte(s))
	}
	for _, s := range nastyJSON {
		f.Add([]byte(s))
	}
	values := []string{`null`, `""`, `0`, `-1`, `1.5`, `9223372036854775807`, `9223372036854775808`, `-9223372036854775809`,
		`1e308`, `true`, `[]`, `{}`, `["x"]`, `{"x": 1}`, `"` + strings.Repeat("é", 600) + `"`, `"` + strings.Repeat("x", 20001) + `"`,
		`"🚀 東京 \u202e"`, "\"\xff\"", `"\ud83d"`, `"todo"`, `"done"`, `"in_progress"`, `"DONE"`, `" todo"`, `"1"`, `1`, `2`, `3`}
	for _, field := range fields {
		for _, v := range values {
			f.Add([]byte(`{"` + field + `": ` + v + `}`))
		}
	}
}

// sentNull reports whether body is a JSON object that sends field (spelled
// exactly so, and no other spelling of it) as null.
func sentNull(body []byte, field string) bool {
	var obj map[string]json.RawMessage
	if json.Unmarshal(body, &obj) != nil {
		return false
	}
	for k := range obj {
		if k != field && strings.EqualFold(k, field) {
			return false
		}
	}
	v, ok := obj[field]
	return ok && string(v) == "null"
}

func FuzzSignupBody(f *testing.F) {
	fe := newFuzzEnv(f)
	seedJSON(f, []string{
		`{"email": "dora@example.com", "username": "dora", "password": "password123"}`,
		`{"email": "alice@example.com", "username": "x", "password": "p"}`,
		`{"email": "x@example.com", "username": "alice", "password": "p"}`,
		`{"email": "a@b.co", "username": " padded ", "password": "p"}`,
		`{"email": "a@b.co", "username": "ctl\u0007", "password": "p"}`,
		`{"email": "Ünï@exämple.com", "username": "u", "password": "p"}`,
		`{"email": "a@b.co", "username": "u", "password": "` + strings.Repeat("p", 73) + `"}`,
		`{"email": "a\r\n@b.co", "username": "u", "password": "p"}`,
		`{"email": "\"quoted\"@b.co", "username": "u", "password": "p"}`,
		`{"email": "a@b.co", "username": "u", "password": "p", "is_admin": true}`,
		`{"email": "a@b.co", "email": "c@d.co", "username": "u", "password": "p"}`,
	}, "email", "username", "password")
	f.Fuzz(func(t *testing.T, body []byte) {
		r := fe.send(t, "POST", "/api/v1/auth/signup", "", body)
		expectSane(t, r, func(t *testing.T, b any) {
			if r.Status != http.StatusCreated {
				t.Fatalf("signup answered %d", r.Status)
			}
			shape(`{"email": "<string>", "username": "<string>", "id": "<int>"}`)(t, b)
			if err := taskwire.ValidateEmail(b.(map[string]any)["email"].(string)); err != nil {
				t.Fatalf("signup accepted an invalid email: %v", b)
			}
		})
	})
}

func FuzzLoginForm(f *testing.F) {
	fe := newFuzzEnv(f)
	form := "application/x-www-form-urlencoded"
	mp, mpType := "--b\r\nContent-Disposition: form-data; name=\"username\"\r\n\r\nalice\r\n--b\r\nContent-Disposition: form-data; name=\"password\"\r\n\r\npassword123\r\n--b--\r\n", "multipart/form-data; boundary=b"
	for _, s := range []struct{ body, ct string }{
		{"username=alice&password=password123", form},
		{"username=alice%40example.com&password=password123", form},
		{"grant_type=password&username=alice&password=password123&scope=&client_id=x", form},
		{"username=alice&password=wrong", form},
		{"username=&password=", form},
		{"username=alice", form},
		{"password=x", form},
		{"grant_type=implicit&username=alice&password=password123", form},
		{"username=alice&username=bob&password=password123", form},
		{"username=%zz&password=%", form},
		{"username=alice;password=password123", form},
		{"username=\xff\xfe&password=\x00", form},
		{"username=" + strings.Repeat("a", 70000) + "&password=x", form},
		{"", ""},
		{"username=alice&password=password123", ""},
		{"username=alice&password=password123", "text/plain"},
		{"username=alice&password=password123", "application/x-www-form-urlencoded; charset=latin1"},
		{"username=alice&password=password123", "application/x-www-form-urlencoded; ==="},
		{`{"username": "alice", "password": "password123"}`, "application/json"},
		{mp, mpType},
		{mp, "multipart/form-data"},
		{mp, "multipart/form-data; boundary="},
		{mp, "multipart/form-data; boundary=" + strings.Repeat("b", 100)},
		{"--b\r\n\r\n--b--", mpType},
		{"--b\r\nContent-Disposition: form-data; name=\"username\"; filename=\"x\"\r\n\r\nalice\r\n--b--", mpType},
		{strings.Repeat("--b\r\nContent-Disposition: form-data; name=\"u\"\r\n\r\nx\r\n", 1000) + "--b--", mpType},
		{"\x00\x01\x02", "\x7fbad"},
	} {
		f.Add([]byte(s.body), s.ct)
	}
	f.Fuzz(func(t *testing.T, body []byte, contentType string) {
		if !validHeaderValue(contentType) {
			t.Skip("not a header value")
		}
		var headers []string
		if contentType != "" {
			headers = []string{"Content-Type", contentType}
		}
		r := fe.send(t, "POST", "/api/v1/auth/login", "", body, headers...)
		expectSane(t, r, func(t *testing.T, b any) {
			shape(`{"access_token": "<string>", "token_type": "bearer"}`)(t, b)
			claims, err := fe.tokens.Verify(b.(map[string]any)["access_token"].(string))
			if err != nil || claims.UserID != fe.aliceID && claims.UserID != fe.bobID && claims.UserID != fe.carolID {
				t.Fatalf("login issued a bad token (%v) for user %d", err, claims.UserID)
			}
		})
		if r.Status == http.StatusOK {
			form, _ := url.ParseQuery(string(body)) // partial on error
			if !strings.Contains(string(body), "password123") && form.Get("password") != "password123" {
				t.Fatalf("login succeeded without the password: %q", body)
			}
		}
	})
}

func FuzzCreateProjectBody(f *testing.F) {
	fe := newFuzzEnv(f)
	seedJSON(f, []string{
		`{"name": "P"}`, `{"name": "P", "description": "D"}`, `{"name": "P", "description": null}`,
		`{"name": ""}`, `{"name": "` + strings.Repeat("n", 201) + `"}`, `{"name": "P", "owner_id": 999}`,
		`{"name": "P", "id": 1}`, `{"name": ["P"]}`,
	}, "name", "description")
	f.Fuzz(func(t *testing.T, body []byte) {
		r := fe.send(t, "POST", "/api/v1/projects/", fe.carol, body)
		expectSane(t, r, func(t *testing.T, b any) {
			shape(`{"name": "<any>", "description": "<any>", "id": "<int>", "owner_id": `+itoa(fe.carolID)+`}`)(t, b)
			if _, ok := b.(map[string]any)["name"].(string); !ok {
				t.Fatalf("project name %v", b)
			}
		})
	})
}

func FuzzCreateAPITokenBody(f *testing.F) {
	fe := newFuzzEnv(f)
	future := time.Now().Add(24 * time.Hour).UTC().Format(time.RFC3339)
	seedJSON(f, []string{
		`{"name": "ci"}`, `{"name": "  ci  "}`, `{"name": ""}`, `{"name": "   "}`, `{"name": "` + strings.Repeat("n", 101) + `"}`,
		`{"name": "ci", "expires_at": null}`, `{"name": "ci", "expires_at": "` + future + `"}`,
		`{"name": "ci", "expires_at": "2001-01-01T00:00:00Z"}`, `{"name": "ci", "expires_at": "tomorrow"}`,
		`{"name": "ci", "expires_at": 1}`, `{"name": "a\u0000b"}`, `{"name": ["ci"]}`, `{"token": "tw_x"}`,
	}, "name", "expires_at")
	f.Fuzz(func(t *testing.T, body []byte) {
		r := fe.send(t, "POST", "/api/v1/users/me/tokens", fe.carol, body)
		expectSane(t, r, func(t *testing.T, b any) {
			shape(`{"id": "<int>", "name": "<string>", "token": "<string>", "created_at": "<rfc3339>", "expires_at": "<any>", "last_used_at": null}`)(t, b)
			tok := b.(map[string]any)["token"].(string)
			if _, ok := taskwire.ParseAPIToken(tok); !ok {
				t.Fatalf("created a token that does not parse: %q", tok)
			}
		})
	})
}

func FuzzAddMemberBody(f *testing.F) {
	fe := newFuzzEnv(f)
	seedJSON(f, []string{
		`{"user_id": ` + itoa(fe.carolID) + `}`, `{"username": "carol"}`, `{"email": "carol@example.com"}`,
		`{"user_id": ` + itoa(fe.bobID) + `}`, `{"user_id": 0}`, `{"user_id": -5}`, `{"user_id": 123456}`,
		`{"username": "carol", "email": "bob@example.com"}`, `{"user_id": 3, "username": "alice"}`,
		`{"username": ""}`, `{"email": ""}`, `{"username": null}`, `{"user_id": null, "username": "carol"}`,
		`{"username": "%"}`, `{"email": "%@%"}`, `{"username": "carol' OR '1'='1"}`,
	}, "user_id", "username", "email")
	path := "/api/v1/projects/" + itoa(fe.projectID) + "/members"
	f.Fuzz(func(t *testing.T, body []byte) {
		r := fe.send(t, "POST", path, fe.alice, body)
		expectSane(t, r, func(t *testing.T, b any) {
			shape(`{"message": "Member added successfully"}`)(t, b)
		})
		if r.Status == http.StatusCreated {
			// Put carol back outside so the next inputs can add her again.
			d := fe.send(t, "DELETE", path+"/"+itoa(fe.carolID), fe.alice, nil)
			if d.Status != http.StatusNoContent {
				t.Fatalf("a 201 add did not add carol (the only non-member): %d %s", d.Status, d.Body)
			}
		}
	})
}

func FuzzCreateTaskBody(f *testing.F) {
	fe := newFuzzEnv(f)
	seedJSON(f, []string{
		`{"title": "T"}`, `{"title": "T", "description": "D", "status": "done", "assignee_id": ` + itoa(fe.bobID) + `}`,
		`{"title": "T", "assignee_id": ` + itoa(fe.carolID) + `}`, `{"title": "T", "assignee_id": null}`,
		`{"title": "T", "status": null}`, `{"title": null}`, `{"title": "T", "status": "blocked"}`,
		`{"title": "T", "version": 99, "id": 1, "project_id": 999}`, `{"title": "T", "assignee_id": 1.0}`,
		`{"title": "T", "due_at": "2031-01-02T03:04:05Z", "labels": ["a", " A ", "日本語"]}`, `{"title": "T", "due_at": "soon"}`,
		`{"title": "T", "labels": null}`, `{"title": "T", "labels": [""]}`, `{"title": "T", "labels": "a"}`, `{"title": "T", "due_at": 5}`,
	}, "title", "description", "status", "assignee_id", "due_at", "labels")
	path := "/api/v1/projects/" + itoa(fe.projectID) + "/tasks"
	f.Fuzz(func(t *testing.T, body []byte) {
		r := fe.send(t, "POST", path, fe.bob, body)
		for _, field := range []string{"title", "status"} {
			if sentNull(body, field) && r.Status < 400 {
				t.Fatalf("null %s answered %d (the contract: null for title or status is a 422): %s", field, r.Status, truncate(r.Body))
			}
		}
		expectSane(t, r, func(t *testing.T, b any) {
			m := taskShape(t, b, fe.projectID)
			if m["version"] != float64(1) || r.Header.Get("ETag") != `"1"` {
				t.Fatalf("new task version %v ETag %q", m["version"], r.Header.Get("ETag"))
			}
			if a := m["assignee_id"]; a != nil && a != float64(fe.aliceID) && a != float64(fe.bobID) {
				t.Fatalf("task assigned to non-member %v", a)
			}
		})
	})
}

func FuzzUpdateTaskBody(f *testing.F) {
	fe := newFuzzEnv(f)
	seedJSON(f, []string{
		`{"title": "renamed"}`, `{"description": "d"}`, `{"description": null}`, `{"status": "done"}`,
		`{"assignee_id": ` + itoa(fe.aliceID) + `}`, `{"assignee_id": null}`, `{"assignee_id": ` + itoa(fe.carolID) + `}`,
		`{"title": null}`, `{"status": null}`, `{"status": "blocked"}`, `{"title": "x", "status": "todo", "assignee_id": null, "description": ""}`,
		`{"version": 1}`, `{"id": 99, "project_id": 99}`, `{"title": "a", "title": "b"}`, `{"status": "done", "status": null}`,
		`{"due_at": "2031-01-02T03:04:05+02:00"}`, `{"due_at": null}`, `{"labels": ["x", "X"]}`, `{"labels": null}`, `{"labels": [1]}`,
	}, "title", "description", "status", "assignee_id", "due_at", "labels")
	path := "/api/v1/tasks/"
	f.Fuzz(func(t *testing.T, body []byte) {
		r := fe.send(t, "PUT", path+itoa(fe.taskID), fe.bob, body)
		for _, field := range []string{"title", "status"} {
			if sentNull(body, field) && r.Status < 400 {
				t.Fatalf("null %s answered %d (the contract: null for title or status is a 422): %s", field, r.Status, truncate(r.Body))
			}
		}
		fe.taskAfterUpdate(t, r)
	})
}

func FuzzStatusBody(f *testing.F) {
	fe := newFuzzEnv(f)
	seedJSON(f, []string{`{"status": "todo"}`, `{"status": "in_progress"}`, `{"status": "done"}`,
		`{"status": "Done"}`, `{"status": null}`, `{"status": ["done"]}`, `{"state": "done"}`, `{"status": "done", "title": "x"}`,
	}, "status")
	f.Fuzz(func(t *testing.T, body []byte) {
		r := fe.send(t, "PATCH", "/api/v1/tasks/"+itoa(fe.taskID)+"/status", fe.bob, body)
		if sentNull(body, "status") && r.Status < 400 {
			t.Fatalf("null status answered %d: %s", r.Status, truncate(r.Body))
		}
		fe.taskAfterUpdate(t, r)
	})
}

// FuzzCommentBody sends fuzzed bodies to the comment create and edit
// routes: never a 5xx; a comment answered is one of the task's, by the
// caller, whose mentions are members (alice and bob; carol is not one) and
// whose body reads back as answered.
func FuzzCommentBody(f *testing.F) {
	fe := newFuzzEnv(f)
	seedJSON(f, []string{
		`{"body": "hi"}`, `{"body": "@alice and (@BOB), not @carol or bob@example.com"}`, `{"body": "` + "`@alice`" + `"}`,
		`{"body": ""}`, `{"body": " "}`, `{"body": null}`, `{"body": "` + strings.Repeat("é", 10000) + `"}`,
		`{"body": "` + strings.Repeat("x", 10001) + `"}`, `{"body": "a\u0000b"}`, `{"body": "x", "mentions": [3], "author_id": 3}`,
		`{"body": ["x"]}`, `{"body": "a", "body": "b"}`, `{"body": "@@alice@bob"}`,
	}, "body")
	path := "/api/v1/tasks/" + itoa(fe.taskID) + "/comments"
	edited := idOf(f, fe.must(f, "POST", path, fe.bob, map[string]string{"body": "to edit"}, 201))
	f.Fuzz(func(t *testing.T, body []byte) {
		check := func(t *testing.T, r response) {
			t.Helper()
			expectSane(t, r, func(t *testing.T, b any) {
				shape(`{"id": "<int>", "task_id": `+itoa(fe.taskID)+`, "project_id": `+itoa(fe.projectID)+`, "author_id": `+itoa(fe.bobID)+
					`, "body": "<any>", "mentions": "<any>", "created_at": "<rfc3339>", "updated_at": "<rfc3339>"}`)(t, b)
				m := b.(map[string]any)
				text, ok := m["body"].(string)
				if !ok || text == "" || len([]rune(text)) > 10000 {
					t.Fatalf("comment body %v", m["body"])
				}
				ms, _ := m["mentions"].([]any)
				for _, id := range ms {
					if id != float64(fe.aliceID) && id != float64(fe.bobID) {
						t.Fatalf("mentions %v name a non-member", ms)
					}
				}
			})
		}
		sentNullBody := sentNull(body, "body")
		r := fe.send(t, "POST", path, fe.bob, body)
		check(t, r)
		if sentNullBody && r.Status < 400 {
			t.Fatalf("null body answered %d", r.Status)
		}
		p := fe.send(t, "PATCH", "/api/v1/comments/"+itoa(edited), fe.bob, body)
		check(t, p)
		if p.Status == http.StatusOK {
			g := fe.send(t, "GET", path, fe.bob, nil)
			var cs []map[string]any
			if err := json.Unmarshal(g.Body, &cs); err != nil {
				t.Fatal(err)
			}
			var answered map[string]any
			_ = json.Unmarshal(p.Body, &answered)
			for _, c := range cs {
				if c["id"] == float64(edited) && c["body"] != answered["body"] {
					t.Fatalf("edited comment reads back %q, answered %q", c["body"], answered["body"])
				}
			}
		}
	})
}

// escapeQuery percent-encodes the bytes a request line cannot carry,
// keeping the fuzzed query's structure (&, =, %, +).
func escapeQuery(q string) string {
	var b strings.Builder
	for i := 0; i < len(q); i++ {
		c := q[i]
		if c > 0x20 && c < 0x7f && c != '#' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

func FuzzListQuery(f *testing.F) {
	fe := newFuzzEnv(f)
	for _, q := range []string{
		"", "limit=1", "limit=2&cursor=YzE", "limit=500", "limit=0", "limit=501", "limit=-1", "limit=abc", "limit=1e2",
		"limit=99999999999999999999", "limit=1&limit=2", "cursor=garbage", "cursor=YzA", "cursor=Yy0x", "cursor=YzE%3D",
		"cursor=" + strings.Repeat("A", 65), "cursor=Yzk5OTk5OTk5OTk5OTk5OTk5OTk5", "status=todo", "status=done&limit=1",
		"status=blocked", "status=", "status=todo&status=done", "assignee_id=" + itoa(fe.bobID), "assignee_id=0",
		"assignee_id=-1", "assignee_id=abc", "assignee_id=9223372036854775808", "status=done&assignee_id=2&limit=1&cursor=YzE",
		"limit=%00", "limit=%zz", "%", "&&&", "=", "limit", "limit=+1", "limit= 1", "limit=1%20", "since=5", "unknown=1",
		"limit=\xff", "status=t%C3%B6do", "limit=1;cursor=x", "label=a", "label=a&label=B", "label=", "label=%00",
		"due_before=2030-01-01T00:00:00Z", "due_before=soon", "due_before=", "overdue=true", "overdue=false", "overdue=1",
		"q=word", "q=%22", "q=", "q=a*%20OR%20b",
	} {
		f.Add(q)
	}
	path := "/api/v1/projects/" + itoa(fe.projectID) + "/tasks"
	f.Fuzz(func(t *testing.T, q string) {
		u := path + "?" + escapeQuery(q)
		if _, err := url.Parse(fe.URL + u); err != nil {
			t.Skip("not a URL")
		}
		r := fe.send(t, "GET", u, fe.alice, nil)
		expectSane(t, r, func(t *testing.T, b any) {
			items, ok := b.([]any)
			if !ok {
				t.Fatalf("list answered %T", b)
			}
			for _, it := range items {
				taskShape(t, it, fe.projectID)
			}
		})
		if r.Status != http.StatusOK {
			return
		}
		// A Link names a page that works.
		if links := r.Header.Values("Link"); len(links) > 0 {
			m := linkNext.FindStringSubmatch(links[0])
			if len(links) != 1 || m == nil {
				t.Fatalf("Link %q", links)
			}
			next := fe.send(t, "GET", m[1], fe.alice, nil)
			if next.Status != http.StatusOK {
				t.Fatalf("Link %s: %d %s", m[1], next.Status, next.Body)
			}
		}
	})
}

func FuzzIfMatch(f *testing.F) {
	fe := newFuzzEnv(f)
	for _, v := range []string{`"1"`, `"2"`, `*`, ` * `, `W/"1"`, `"1", "2"`, `garbage`, `""`, `"`, `1`, `"-1"`, `"0"`,
		`"9223372036854775807"`, `"9223372036854775808"`, `"1e3"`, `" 1"`, `W/`, `**`, strings.Repeat(`"1"`, 50), "\"\xff\"", `"１"`} {
		f.Add(v)
	}
	n := 0
	f.Fuzz(func(t *testing.T, v string) {
		if !validHeaderValue(v) {
			t.Skip("not a header value")
		}
		g := fe.send(t, "GET", "/api/v1/tasks/"+itoa(fe.taskID), fe.alice, nil)
		current := g.Header.Get("ETag")
		n++
		r := fe.send(t, "PUT", "/api/v1/tasks/"+itoa(fe.taskID), fe.alice, map[string]string{"title": "t" + strconv.Itoa(n)}, "If-Match", v)
		fe.taskAfterUpdate(t, r)
		tv := strings.TrimSpace(v)
		switch {
		case tv == "" || tv == "*" || tv == current: // no precondition, any, or the current tag
			if r.Status != http.StatusOK {
				t.Fatalf("If-Match %q with ETag %s: %d %s", v, current, r.Status, r.Body)
			}
		case r.Status == http.StatusOK:
			// Only a tag naming the current version may pass.
			if !strings.Contains(v, strings.Trim(current, `"`)) {
				t.Fatalf("If-Match %q passed with ETag %s", v, current)
			}
		case r.Status != http.StatusPreconditionFailed && r.Status != http.StatusUnprocessableEntity:
			t.Fatalf("If-Match %q: %d %s", v, r.Status, r.Body)
		}
	})
}

func FuzzAuthorizationHeader(f *testing.F) {
	fe := newFuzzEnv(f)
	expired := signedToken(f, testSecret, expiredClaims(fe.aliceID))
	for _, v := range []string{"", "Bearer " + fe.alice, "bearer " + fe.alice, "BEARER " + fe.alice, "Bearer  " + fe.alice,
		"Bearer " + fe.alice + " ", "Bearer " + fe.alice + "x", "Bearer", "Bearer ", "Basic YTpi", "Token " + fe.alice, fe.alice,
		"Bearer " + expired, "Bearer a.b.c", "Bearer ..", "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.", "Bearer \xff",
		"Bearer " + strings.Repeat("A", 10000), "Bearer " + fe.alice + ", Bearer " + fe.bob,
		"Bearer " + fe.aliceAPI, "bearer " + fe.aliceAPI + " ", "Bearer " + fe.aliceAPI + "A", "Bearer " + fe.aliceAPI[:len(fe.aliceAPI)-1],
		"Bearer tw_", "Bearer tw_" + strings.Repeat("_", 43), "Bearer TW_" + fe.aliceAPI[3:]} {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v string) {
		if !validHeaderValue(v) {
			t.Skip("not a header value")
		}
		var headers []string
		if v != "" {
			headers = []string{"Authorization", v}
		}
		r := fe.send(t, "GET", "/api/v1/users/me", "", nil, headers...)
		expectSane(t, r, func(t *testing.T, b any) {
			shape(`{"id": "<int>", "email": "<string>", "username": "<string>"}`)(t, b)
		})
		switch r.Status {
		case http.StatusOK:
			// Only "Bearer <a token this server signed>" or alice's API
			// token authenticates, and as the token's user. (Seed tokens
			// come from the coordinating process, so they are not fe's own
			// strings.)
			scheme, token, _ := strings.Cut(v, " ")
			token = strings.TrimSpace(token)
			claims, err := fe.tokens.Verify(token)
			if token == fe.aliceAPI {
				claims, err = auth.Claims{UserID: fe.aliceID}, nil
			}
			if !strings.EqualFold(scheme, "bearer") || err != nil {
				t.Fatalf("authenticated by %q (%v)", v, err)
			}
			var me struct{ ID int64 }
			_ = json.Unmarshal(r.Body, &me)
			if me.ID != claims.UserID {
				t.Fatalf("token of user %d authenticated as %d", claims.UserID, me.ID)
			}
		case http.StatusUnauthorized:
		default:
			t.Fatalf("Authorization %q: %d %s", v, r.Status, r.Body)
		}
	})
}

func FuzzInvitationBody(f *testing.F) {
	fe := newFuzzEnv(f)
	seedJSON(f, []string{
		`{"email": "dee@example.com"}`, `{"email": "DEE@Example.COM"}`, `{"email": "bob@example.com"}`, `{"email": "BOB@EXAMPLE.COM"}`,
		`{"email": ""}`, `{"email": null}`, `{"email": "Dee <dee@example.com>"}`, `{"email": "dee@example.com\r\nBcc: x@example.com"}`,
		`{"email": "d@e"}`, `{"email": "` + strings.Repeat("d", 250) + `@example.com"}`, `{"email": ["dee@example.com"]}`,
		`{"email": "dee@example.com", "project_id": 99, "token": "x"}`, `{"email": "a", "email": "b@example.com"}`,
	}, "email")
	path := "/api/v1/projects/" + itoa(fe.projectID) + "/invitations"
	f.Fuzz(func(t *testing.T, body []byte) {
		r := fe.send(t, "POST", path, fe.alice, body)
		expectSane(t, r, func(t *testing.T, b any) {
			shape(`{"id": "<int>", "project_id": `+itoa(fe.projectID)+`, "email": "<string>", "created_at": "<rfc3339>",
				"expires_at": "<rfc3339>", "accepted_at": null, "accepted_by": null}`)(t, b)
			email, _ := b.(map[string]any)["email"].(string)
			if taskwire.ValidateEmail(email) != nil {
				t.Fatalf("invited an address signup refuses: %q", email)
			}
			if strings.EqualFold(email, "alice@example.com") || strings.EqualFold(email, "bob@example.com") {
				t.Fatalf("invited a member's address %q", email)
			}
		})
	})
}

func FuzzAcceptInvitationBody(f *testing.F) {
	fe := newFuzzEnv(f)
	_, valid := fe.env.storeInvitation(fe.projectID, fe.aliceID, "Carol@example.com", time.Now().Add(time.Hour))
	_, other := fe.env.storeInvitation(fe.projectID, fe.aliceID, "dee@example.com", time.Now().Add(time.Hour))
	seedJSON(f, []string{
		`{"token": "` + valid + `"}`, `{"token": "` + other + `"}`, `{"token": "x"}`, `{"token": ""}`, `{"token": null}`,
		`{"token": "` + strings.Repeat("t", 201) + `"}`, `{"token": ["` + valid + `"]}`, `{"token": "` + valid + `\u0000"}`,
		`{"token": "` + valid + `", "email": "carol@example.com"}`, `{"token": "%00' OR '1'='1"}`,
	}, "token")
	f.Fuzz(func(t *testing.T, body []byte) {
		r := fe.send(t, "POST", "/api/v1/invitations/accept", fe.carol, body)
		expectSane(t, r, func(t *testing.T, b any) {
			shape(`{"name": "Fuzz", "description": null, "id": `+itoa(fe.projectID)+`, "owner_id": `+itoa(fe.aliceID)+`}`)(t, b)
		})
		if r.Status == http.StatusOK && !strings.Contains(string(body), valid) {
			t.Fatalf("accepted without carol's token: %s", body)
		}
	})
}
