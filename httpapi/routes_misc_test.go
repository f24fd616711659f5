package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

// This file holds the scenario-table machinery shared by the routes_*_test
// files, and the scenarios for the routes that are neither auth, projects
// nor tasks.

// scenario is one row of an API scenario table: a request and what the
// contract (docs/API.md) says it must answer.
type scenario struct {
	name    string
	method  string
	path    string
	token   string
	body    any      // as for env.do: nil, a raw string, url.Values, or a value sent as JSON
	headers []string // name, value, name, value...

	wantStatus int
	// wantBody is one of:
	//   detailIs("msg")   the body is exactly {"detail": "msg"}
	//   jsonIs(`{...}`)   the body is exactly this JSON, compared semantically,
	//                     with the placeholders documented at matchJSON
	//   invalidAt{...}    a FastAPI 422 list naming that location
	//   func(*testing.T, response)  any other check
	//   nil               the body is JSON (or empty for 204), nothing more
	wantBody any
	// wantHeaders maps a header to its exact value, or to "<any>" (present)
	// or "<absent>".
	wantHeaders map[string]string
}

// detailIs is a body {"detail": "<message>"}; "<string>" accepts any
// non-empty message (for errors whose wording the contract leaves open).
type detailIs string

// jsonIs is an exact JSON body with matchJSON's placeholders.
type jsonIs string

// invalidAt is a FastAPI validation answer: {"detail": [{"loc", "msg",
// "type"}, ...]} with an issue at loc (and of type typ, when set).
type invalidAt struct {
	loc []any
	typ string
}

// bearerChallenge is the header every 401 carries.
var bearerChallenge = map[string]string{"WWW-Authenticate": "Bearer"}

// as returns a copy of e whose helpers report to t, so they can be used in
// subtests.
func (e *env) as(t *testing.T) *env {
	c := *e
	c.t = t
	return &c
}

// runScenarios runs the rows in order (rows may depend on earlier ones), each as a
// subtest named after it.
func runScenarios(t *testing.T, e *env, rows []scenario) {
	t.Helper()
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			r := e.as(t).do(row.method, row.path, row.token, row.body, row.headers...)
			checkScenario(t, row, r)
		})
	}
}

// checkScenario asserts a response against a scenario row.
func checkScenario(t *testing.T, row scenario, r response) {
	t.Helper()
	if r.Status >= 500 {
		t.Errorf("%s %s: server error %d: %s", row.method, row.path, r.Status, r.Body)
	}
	if r.Status != row.wantStatus {
		// The body is in the message; checking it against the expected
		// shape would only repeat the failure.
		t.Errorf("%s %s: status %d, want %d; body %s", row.method, row.path, r.Status, row.wantStatus, truncate(r.Body))
		return
	}
	checkBody(t, r, row.wantBody)
	checkHeaders(t, r, row.wantHeaders)
}

func checkBody(t *testing.T, r response, want any) {
	t.Helper()
	if f, ok := want.(func(*testing.T, response)); ok {
		f(t, r)
		return
	}
	if r.Status == http.StatusNoContent {
		if len(r.Body) != 0 {
			t.Errorf("204 with a body: %q", r.Body)
		}
		if want != nil {
			t.Errorf("a 204 row cannot expect a body")
		}
		return
	}
	var got any
	if err := json.Unmarshal(r.Body, &got); err != nil {
		t.Errorf("body is not JSON (%v): %q", err, truncate(r.Body))
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.Contains(ct, "json") {
		t.Errorf("Content-Type %q, want JSON", ct)
	}
	switch w := want.(type) {
	case nil:
	case detailIs:
		expectJSON(t, r.Body, map[string]any{"detail": string(w)})
	case jsonIs:
		var wv any
		if err := json.Unmarshal([]byte(w), &wv); err != nil {
			t.Fatalf("bad wantBody %s: %v", w, err)
		}
		expectJSON(t, r.Body, wv)
	case invalidAt:
		expectInvalid(t, r, w.loc, w.typ)
	default:
		t.Fatalf("unknown wantBody %T", want)
	}
}

func checkHeaders(t *testing.T, r response, want map[string]string) {
	t.Helper()
	for k, v := range want {
		got, ok := r.Header[http.CanonicalHeaderKey(k)]
		switch {
		case v == "<absent>":
			if ok {
				t.Errorf("header %s: %q, want none", k, got)
			}
		case !ok:
			t.Errorf("header %s missing", k)
		case v == "<any>":
		case len(got) != 1 || got[0] != v:
			t.Errorf("header %s: %q, want %q", k, got, v)
		}
	}
}

// expectJSON compares body with want (decoded JSON) semantically.
func expectJSON(t *testing.T, body []byte, want any) {
	t.Helper()
	var got any
	if err := json.Unmarshal(body, &got); err != nil {
		t.Errorf("body is not JSON: %q", truncate(body))
		return
	}
	if diffs := matchJSON("$", want, got); len(diffs) > 0 {
		wb, _ := json.Marshal(want)
		t.Errorf("body mismatch:\n  got  %s\n  want %s\n  %s", truncate(body), wb, strings.Join(diffs, "\n  "))
	}
}

// expectInvalid asserts FastAPI's 422 shape with an issue at loc.
func expectInvalid(t *testing.T, r response, loc []any, typ string) {
	t.Helper()
	if r.Status != http.StatusUnprocessableEntity {
		t.Errorf("status %d, want 422: %s", r.Status, truncate(r.Body))
		return
	}
	var body struct {
		Detail []map[string]any `json:"detail"`
	}
	if err := json.Unmarshal(r.Body, &body); err != nil || len(body.Detail) == 0 {
		t.Errorf("422 body is not FastAPI's {\"detail\": [...]}: %s", r.Body)
		return
	}
	found := false
	for _, is := range body.Detail {
		l, okLoc := is["loc"].([]any)
		_, okMsg := is["msg"].(string)
		ty, okType := is["type"].(string)
		if !okLoc || !okMsg || !okType || len(l) == 0 {
			t.Errorf("issue without loc/msg/type: %v", is)
			continue
		}
		if first, _ := l[0].(string); !slices.Contains([]string{"body", "query", "path", "header"}, first) {
			t.Errorf("issue loc %v does not start with body/query/path/header", l)
		}
		if len(matchJSON("loc", loc, l)) == 0 && (typ == "" || ty == typ) {
			found = true
		}
	}
	if loc != nil && !found {
		t.Errorf("no issue at loc %v (type %q): %s", loc, typ, r.Body)
	}
}

// matchJSON reports where got differs from want. Objects must have exactly
// the same keys. In want, these strings are placeholders:
//
//	"<any>"      any value (the key must still be present)
//	"<int>"      any integral number
//	"<string>"   any non-empty string
//	"<rfc3339>"  a string in RFC 3339 format
func matchJSON(path string, want, got any) []string {
	if s, ok := want.(string); ok {
		switch s {
		case "<any>":
			return nil
		case "<int>":
			if f, ok := got.(float64); ok && f == float64(int64(f)) {
				return nil
			}
			return []string{fmt.Sprintf("%s: %v, want an integer", path, got)}
		case "<string>":
			if g, ok := got.(string); ok && g != "" {
				return nil
			}
			return []string{fmt.Sprintf("%s: %v, want a non-empty string", path, got)}
		case "<rfc3339>":
			if g, ok := got.(string); ok {
				if _, err := time.Parse(time.RFC3339, g); err == nil {
					return nil
				}
			}
			return []string{fmt.Sprintf("%s: %v, want an RFC 3339 time", path, got)}
		}
	}
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: %v, want an object", path, got)}
		}
		var diffs []string
		for _, k := range sortedKeys(w) {
			gv, ok := g[k]
			if !ok {
				diffs = append(diffs, fmt.Sprintf("%s.%s: missing", path, k))
				continue
			}
			diffs = append(diffs, matchJSON(path+"."+k, w[k], gv)...)
		}
		for _, k := range sortedKeys(g) {
			if _, ok := w[k]; !ok {
				diffs = append(diffs, fmt.Sprintf("%s.%s: unexpected (%v)", path, k, g[k]))
			}
		}
		return diffs
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return []string{fmt.Sprintf("%s: %v, want %d-element array", path, got, len(w))}
		}
		var diffs []string
		for i := range w {
			diffs = append(diffs, matchJSON(fmt.Sprintf("%s[%d]", path, i), w[i], g[i])...)
		}
		return diffs
	case int:
		want = float64(w)
	case int64:
		want = float64(w)
	}
	if want != got {
		return []string{fmt.Sprintf("%s: %#v, want %#v", path, got, want)}
	}
	return nil
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func truncate(b []byte) string {
	b = bytes.TrimSpace(b)
	if len(b) > 600 {
		return string(b[:600]) + "..."
	}
	return string(b)
}

// sendRaw sends a request without failing a test, for goroutines and fuzz
// targets. body is as for env.do.
// noRedirects is the tests' HTTP client: it reports a redirect as the
// server answered it instead of following it.
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func sendRaw(baseURL, method, path, token string, body any, headers ...string) (response, error) {
	var rd io.Reader
	ct := "application/json"
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	case url.Values:
		rd = strings.NewReader(b.Encode())
		ct = "application/x-www-form-urlencoded"
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			return response{}, err
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, baseURL+path, rd)
	if err != nil {
		return response{}, err
	}
	if rd != nil {
		req.Header.Set("Content-Type", ct)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := noRedirects.Do(req)
	if err != nil {
		return response{}, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return response{Status: res.StatusCode, Header: res.Header, Body: b}, err
}

var linkNext = regexp.MustCompile(`^<([^>]+)>; rel="next"$`)

// nextPage returns the path of the page announced by a Link header, or "".
func nextPage(t *testing.T, r response) string {
	t.Helper()
	h := r.Header.Values("Link")
	if len(h) == 0 {
		return ""
	}
	m := linkNext.FindStringSubmatch(h[0])
	if len(h) != 1 || m == nil {
		t.Fatalf("Link header %q, want one `<...>; rel=\"next\"`", h)
	}
	u, err := url.Parse(m[1])
	if err != nil {
		t.Fatalf("Link URL %q: %v", m[1], err)
	}
	return u.RequestURI()
}

// collectPages follows Link rel=next from path and returns the ids of every
// item, failing on a repeated id or a page larger than limit.
func collectPages(t *testing.T, e *env, token, path string, limit int) (ids []int64, pages int) {
	t.Helper()
	seen := map[int64]bool{}
	for path != "" {
		pages++
		if pages > 1000 {
			t.Fatal("pagination does not end")
		}
		r := e.as(t).do("GET", path, token, nil)
		if r.Status != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, r.Status, r.Body)
		}
		var items []struct {
			ID  int64 `json:"id"`
			Seq int64 `json:"seq"`
		}
		r.JSON(t, &items)
		if len(items) > limit {
			t.Fatalf("GET %s: %d items, limit %d", path, len(items), limit)
		}
		next := nextPage(t, r)
		if next != "" && len(items) != limit {
			t.Errorf("GET %s: a short page (%d of %d) announces a next page", path, len(items), limit)
		}
		for _, it := range items {
			id := it.ID
			if id == 0 {
				id = it.Seq
			}
			if seen[id] {
				t.Fatalf("GET %s: id %d repeated across pages", path, id)
			}
			seen[id] = true
			ids = append(ids, id)
		}
		path = next
	}
	return ids, pages
}

// Misc routes.

func TestRoot(t *testing.T) {
	e := newEnv(t)
	runScenarios(t, e, []scenario{
		{name: "OK", method: "GET", path: "/", wantStatus: 200, wantBody: jsonIs(`{"message": "<string>"}`)},
		{name: "NoAPIPrefix", method: "GET", path: "/api/v1/", wantStatus: 404, wantBody: jsonIs(`{"detail": "Not Found"}`)},
	})
}

func TestFallbacks(t *testing.T) {
	e := newEnv(t)
	_, tok := e.user("alice")
	notFound := jsonIs(`{"detail": "Not Found"}`)
	notAllowed := jsonIs(`{"detail": "Method Not Allowed"}`)
	runScenarios(t, e, []scenario{
		{name: "UnknownPath", method: "GET", path: "/nope", wantStatus: 404, wantBody: notFound},
		{name: "UnknownAPIPath", method: "GET", path: "/api/v1/nope", token: tok, wantStatus: 404, wantBody: notFound},
		{name: "UnknownSubPath", method: "GET", path: "/api/v1/projects/1/nope", token: tok, wantStatus: 404, wantBody: notFound},
		{name: "TooDeepUnderSlashRoute", method: "GET", path: "/api/v1/projects/1/tasks/2/3", token: tok, wantStatus: 404, wantBody: notFound},
		{name: "UnknownPOST", method: "POST", path: "/api/v1/nope", body: map[string]any{}, wantStatus: 404, wantBody: notFound},
		// A 405 names the allowed methods (RFC 9110; Starlette does too).
		{name: "GETSignup", method: "GET", path: "/api/v1/auth/signup", wantStatus: 405, wantBody: notAllowed,
			wantHeaders: map[string]string{"Allow": "POST"}},
		{name: "DELETELogin", method: "DELETE", path: "/api/v1/auth/login", wantStatus: 405, wantBody: notAllowed,
			wantHeaders: map[string]string{"Allow": "POST"}},
		{name: "PUTProjects", method: "PUT", path: "/api/v1/projects/", token: tok, body: map[string]any{}, wantStatus: 405, wantBody: notAllowed,
			wantHeaders: map[string]string{"Allow": "<any>"}},
		{name: "POSTTask", method: "POST", path: "/api/v1/tasks/1", token: tok, body: map[string]any{}, wantStatus: 405, wantBody: notAllowed,
			wantHeaders: map[string]string{"Allow": "<any>"}},
		{name: "GETStatus", method: "GET", path: "/api/v1/tasks/1/status", token: tok, wantStatus: 405, wantBody: notAllowed,
			wantHeaders: map[string]string{"Allow": "PATCH"}},
		{name: "POSTRoot", method: "POST", path: "/", wantStatus: 405, wantBody: notAllowed,
			wantHeaders: map[string]string{"Allow": "<any>"}},
	})
}

func TestOperations(t *testing.T) {
	e := newEnv(t)
	runScenarios(t, e, []scenario{
		{name: "Healthz", method: "GET", path: "/healthz", wantStatus: 200, wantBody: jsonIs(`{"status": "ok"}`)},
		{name: "Readyz", method: "GET", path: "/readyz", wantStatus: 200,
			wantBody: jsonIs(`{"status": "ok", "checks": {"database": "ok"}}`)},
	})
	t.Run("AsyncAPI", func(t *testing.T) {
		r := e.as(t).do("GET", "/asyncapi.yaml", "", nil)
		if r.Status != 200 || !bytes.Contains(r.Body, []byte("asyncapi:")) {
			t.Errorf("GET /asyncapi.yaml: %d %q", r.Status, truncate(r.Body))
		}
		if ct := r.Header.Get("Content-Type"); !strings.Contains(ct, "yaml") {
			t.Errorf("Content-Type %q, want YAML", ct)
		}
	})
	t.Run("Redoc", func(t *testing.T) {
		r := e.as(t).do("GET", "/redoc", "", nil)
		if r.Status != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") {
			t.Fatalf("GET /redoc: %d %v", r.Status, r.Header)
		}
		if !bytes.Contains(r.Body, []byte("<redoc")) || !bytes.Contains(r.Body, []byte("/openapi.json")) {
			t.Errorf("/redoc is not a ReDoc page for /openapi.json: %s", truncate(r.Body))
		}
	})
}

// seedRoutes lists every route of the contract, as OpenAPI spells it.
var seedRoutes = map[string][]string{
	"/":                                     {"get"},
	"/api/v1/auth/signup":                   {"post"},
	"/api/v1/auth/login":                    {"post"},
	"/api/v1/users/me":                      {"get"},
	"/api/v1/users/lookup":                  {"get"},
	"/api/v1/projects/":                     {"get", "post"},
	"/api/v1/projects/{project_id}":         {"get", "patch", "delete"},
	"/api/v1/projects/{project_id}/members": {"post"},
	"/api/v1/projects/{project_id}/members/{user_id}": {"delete"},
	"/api/v1/projects/{project_id}/tasks":             {"get", "post"},
	"/api/v1/projects/{project_id}/events":            {"get"},
	"/api/v1/tasks/{task_id}":                         {"get", "put", "delete"},
	"/api/v1/tasks/{task_id}/status":                  {"patch"},
	"/healthz":                                        {"get"},
	"/readyz":                                         {"get"},
}

func TestOpenAPI(t *testing.T) {
	e := newEnv(t)
	r := e.do("GET", "/openapi.json", "", nil)
	if r.Status != 200 {
		t.Fatalf("GET /openapi.json: %d %s", r.Status, truncate(r.Body))
	}
	var doc struct {
		OpenAPI string                               `json:"openapi"`
		Paths   map[string]map[string]map[string]any `json:"paths"`
	}
	r.JSON(t, &doc)
	if !strings.HasPrefix(doc.OpenAPI, "3.1") {
		t.Errorf("openapi %q, want 3.1", doc.OpenAPI)
	}
	for path, methods := range seedRoutes {
		ops, ok := doc.Paths[path]
		if !ok {
			t.Errorf("path %s missing", path)
			continue
		}
		for _, m := range methods {
			if _, ok := ops[m]; !ok {
				t.Errorf("%s %s missing", m, path)
			}
		}
	}
	// The seed's operation ids are kept.
	seed := map[string]string{
		"/api/v1/auth/signup":                   "post signup_api_v1_auth_signup_post",
		"/api/v1/auth/login":                    "post login_api_v1_auth_login_post",
		"/api/v1/projects/{project_id}/members": "post add_project_member_api_v1_projects__project_id__members_post",
		"/api/v1/tasks/{task_id}/status":        "patch update_task_status_api_v1_tasks__task_id__status_patch",
	}
	for path, v := range seed {
		m, id, _ := strings.Cut(v, " ")
		if got, _ := doc.Paths[path][m]["operationId"].(string); got != id {
			t.Errorf("%s %s operationId %q, want %q", m, path, got, id)
		}
	}
}

var assetRef = regexp.MustCompile(`(?i)<(script|link)\b[^>]*\b(src|href)\s*=\s*["']([^"']+)["']`)

func TestDocs(t *testing.T) {
	e := newEnv(t)
	r := e.do("GET", "/docs", "", nil)
	if r.Status != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /docs: %d %v %s", r.Status, r.Header, truncate(r.Body))
	}
	refs := assetRef.FindAllStringSubmatch(string(r.Body), -1)
	if len(refs) == 0 {
		t.Fatalf("/docs references no script or stylesheet: %s", truncate(r.Body))
	}
	scripts := 0
	base, _ := url.Parse(e.URL + "/docs/")
	for _, m := range refs {
		if strings.EqualFold(m[1], "script") {
			scripts++
		}
		ref := m[3]
		u, err := base.Parse(ref)
		if err != nil {
			t.Errorf("asset %q: %v", ref, err)
			continue
		}
		if u.Host != base.Host {
			t.Errorf("/docs loads %s from %s: it must work without internet access", m[1], ref)
			continue
		}
		ar := e.do("GET", u.RequestURI(), "", nil)
		if ar.Status != 200 || len(ar.Body) == 0 {
			t.Errorf("asset %s: %d", u.RequestURI(), ar.Status)
		}
	}
	if scripts == 0 {
		t.Errorf("/docs loads no script: %s", truncate(r.Body))
	}
	if bytes.Contains(r.Body, []byte("//cdn")) || bytes.Contains(r.Body, []byte("unpkg.com")) {
		t.Errorf("/docs mentions a CDN: %s", truncate(r.Body))
	}
}

func TestCORS(t *testing.T) {
	e := newEnv(t)
	_, tok := e.user("alice")
	runScenarios(t, e, []scenario{
		{name: "Preflight", method: "OPTIONS", path: "/api/v1/projects/",
			headers: []string{"Origin", "https://app.example.com", "Access-Control-Request-Method", "POST",
				"Access-Control-Request-Headers", "authorization, content-type"},
			wantStatus: 200,
			wantBody: func(t *testing.T, r response) {
				if m := r.Header.Get("Access-Control-Allow-Methods"); !strings.Contains(m, "POST") {
					t.Errorf("Access-Control-Allow-Methods %q lacks POST", m)
				}
				if h := strings.ToLower(r.Header.Get("Access-Control-Allow-Headers")); !strings.Contains(h, "authorization") {
					t.Errorf("Access-Control-Allow-Headers %q lacks authorization", h)
				}
			},
			wantHeaders: map[string]string{"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Credentials": "<absent>"}},
		{name: "SimpleRequest", method: "GET", path: "/api/v1/projects/", token: tok,
			headers:    []string{"Origin", "https://app.example.com"},
			wantStatus: 200, wantBody: jsonIs(`[]`),
			wantHeaders: map[string]string{"Access-Control-Allow-Origin": "*"}},
		{name: "ErrorsCarryCORS", method: "GET", path: "/api/v1/projects/",
			headers:    []string{"Origin", "https://app.example.com"},
			wantStatus: 401, wantBody: detailIs("Not authenticated"),
			wantHeaders: map[string]string{"Access-Control-Allow-Origin": "*", "WWW-Authenticate": "Bearer"}},
	})
}
