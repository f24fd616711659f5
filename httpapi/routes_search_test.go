package httpapi_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/taskwire/taskwire"
	"github.com/taskwire/taskwire/storetest"
)

// searchHit is what these tests read of a search result.
type searchHit struct {
	Task struct {
		ID        int64  `json:"id"`
		ProjectID int64  `json:"project_id"`
		Title     string `json:"title"`
	} `json:"task"`
	Project struct {
		ID   int64  `json:"id"`
		Name string `json:"name"`
	} `json:"project"`
	Snippet string `json:"snippet"`
}

// search runs GET /api/v1/search?q=... as token and returns the task ids
// found, best first.
func (e *env) search(token, q string, extra ...string) ([]int64, []searchHit) {
	e.t.Helper()
	v := url.Values{"q": {q}}
	for i := 0; i+1 < len(extra); i += 2 {
		v.Set(extra[i], extra[i+1])
	}
	r := e.do("GET", "/api/v1/search?"+v.Encode(), token, nil)
	if r.Status != http.StatusOK {
		e.t.Fatalf("search %q: %d %s", q, r.Status, r.Body)
	}
	var hits []searchHit
	r.JSON(e.t, &hits)
	ids := []int64{}
	for _, h := range hits {
		ids = append(ids, h.Task.ID)
	}
	return ids, hits
}

func TestSearch(t *testing.T) {
	e := newEnv(t)
	aliceID, alice := e.user("alice")
	_, bob := e.user("bob")
	_ = aliceID
	pid := e.project(alice)
	create := func(token string, project int64, title, description string) int64 {
		t.Helper()
		body := map[string]any{"title": title}
		if description != "" {
			body["description"] = description
		}
		r := e.do("POST", "/api/v1/projects/"+itoa(project)+"/tasks", token, body)
		if r.Status != http.StatusCreated {
			t.Fatalf("create %q: %d %s", title, r.Status, r.Body)
		}
		return createdID(t, r)
	}
	plan := create(alice, pid, "Naïve plan", "Release the plan next week")
	tokyo := create(alice, pid, "旅行", "来週は東京タワーに行く")
	greek := create(alice, pid, "Καλημέρα", "")
	commented := create(alice, pid, "Other", "")
	e.comment(alice, commented, "the naive approach again")
	bobs := e.project(bob)
	bobTask := create(bob, bobs, "naive secret of bob", "")

	t.Run("Found", func(t *testing.T) {
		e := e.as(t)
		ids, hits := e.search(alice, "NAIVE")
		if !slices.Equal(ids, []int64{plan, commented}) {
			t.Fatalf("ids %v, want %v (title before comment), never bob's %d", ids, []int64{plan, commented}, bobTask)
		}
		if h := hits[0]; h.Project.ID != pid || h.Project.Name != "Project" || h.Task.Title != "Naïve plan" || h.Snippet != "«Naïve» plan" {
			t.Errorf("first hit %+v", h)
		}
		if h := hits[1]; h.Snippet != "the «naive» approach again" {
			t.Errorf("comment snippet %q", h.Snippet)
		}
		if ids, _ := e.search(alice, "東京"); !slices.Equal(ids, []int64{tokyo}) {
			t.Errorf("東京: %v", ids)
		}
		if ids, _ := e.search(alice, "ΚΑΛΗΜΕΡΑ"); !slices.Equal(ids, []int64{greek}) {
			t.Errorf("ΚΑΛΗΜΕΡΑ: %v", ids)
		}
		if ids, _ := e.search(alice, "naive", "limit", "1"); !slices.Equal(ids, []int64{plan}) {
			t.Errorf("limit 1: %v", ids)
		}
		if ids, _ := e.search(bob, "naive"); !slices.Equal(ids, []int64{bobTask}) {
			t.Errorf("bob finds %v, want only his %d", ids, bobTask)
		}
	})

	t.Run("Reindexed", func(t *testing.T) {
		e := e.as(t)
		if r := e.do("PUT", "/api/v1/tasks/"+itoa(plan), alice, map[string]string{"title": "Bold scheme"}); r.Status != http.StatusOK {
			t.Fatalf("rename: %d %s", r.Status, r.Body)
		}
		if ids, _ := e.search(alice, "bold scheme"); !slices.Equal(ids, []int64{plan}) {
			t.Errorf("new title: %v", ids)
		}
		if ids, _ := e.search(alice, "naive"); !slices.Equal(ids, []int64{commented}) {
			t.Errorf("old title still found: %v", ids)
		}
		if r := e.do("DELETE", "/api/v1/tasks/"+itoa(commented), alice, nil); r.Status != http.StatusNoContent {
			t.Fatalf("delete: %d %s", r.Status, r.Body)
		}
		if ids, _ := e.search(alice, "naive"); len(ids) != 0 {
			t.Errorf("a deleted task is found: %v", ids)
		}
	})

	long := strings.Repeat("x", taskwire.MaxSearchQueryLen+1)
	runScenarios(t, e, []scenario{
		{name: "NoToken", method: "GET", path: "/api/v1/search?q=naive", wantStatus: http.StatusUnauthorized, wantBody: detailIs("Not authenticated")},
		{name: "ErrQueryMissing", method: "GET", path: "/api/v1/search", token: alice,
			wantStatus: http.StatusUnprocessableEntity, wantBody: invalidAt{loc: []any{"query", "q"}, typ: "missing"}},
		{name: "ErrQueryEmpty", method: "GET", path: "/api/v1/search?q=", token: alice,
			wantStatus: http.StatusUnprocessableEntity, wantBody: invalidAt{loc: []any{"query", "q"}}},
		{name: "ErrQueryNoWords", method: "GET", path: "/api/v1/search?q=" + url.QueryEscape(`"*" -- ()`), token: alice,
			wantStatus: http.StatusUnprocessableEntity, wantBody: jsonIs(`{"detail": [{"loc": ["query", "q"], "msg": "` + taskwire.MsgSearchQueryNoWords + `", "type": "value_error"}]}`)},
		{name: "ErrQueryTooLong", method: "GET", path: "/api/v1/search?q=" + long, token: alice,
			wantStatus: http.StatusUnprocessableEntity, wantBody: invalidAt{loc: []any{"query", "q"}, typ: "string_too_long"}},
		{name: "ErrLimitZero", method: "GET", path: "/api/v1/search?q=naive&limit=0", token: alice,
			wantStatus: http.StatusUnprocessableEntity, wantBody: invalidAt{loc: []any{"query", "limit"}, typ: "greater_than_equal"}},
		{name: "ErrLimitTooLarge", method: "GET", path: "/api/v1/search?q=naive&limit=101", token: alice,
			wantStatus: http.StatusUnprocessableEntity, wantBody: invalidAt{loc: []any{"query", "limit"}, typ: "less_than_equal"}},
		{name: "MaxLength", method: "GET", path: "/api/v1/search?q=" + long[1:], token: alice, wantStatus: http.StatusOK, wantBody: jsonIs(`[]`)},
	})

	t.Run("Hostile", func(t *testing.T) {
		e := e.as(t)
		for _, q := range storetest.HostileSearchQueries {
			for _, path := range []string{"/api/v1/search?q=", "/api/v1/projects/" + itoa(pid) + "/tasks?q="} {
				r := e.do("GET", path+url.QueryEscape(q), alice, nil)
				switch {
				case r.Status == http.StatusOK:
				case r.Status == http.StatusUnprocessableEntity && (len(taskwire.SearchWords(q)) == 0 || utf8.RuneCountInString(q) > taskwire.MaxSearchQueryLen):
					expectInvalid(t, r, []any{"query", "q"}, "")
				default:
					t.Errorf("%s%q: %d %s", path, q, r.Status, truncate(r.Body))
				}
			}
		}
	})
}

func TestTaskListQuery(t *testing.T) {
	e := newEnv(t)
	_, alice := e.user("alice")
	pid := e.project(alice)
	tasks := "/api/v1/projects/" + itoa(pid) + "/tasks"
	a := e.task(alice, pid, "alpha one")
	b := e.task(alice, pid, "beta")
	e.comment(alice, b.ID, "Alpha in a comment")
	c := e.task(alice, pid, "gamma")
	if r := e.do("PATCH", "/api/v1/tasks/"+itoa(b.ID)+"/status", alice, map[string]string{"status": "done"}); r.Status != http.StatusOK {
		t.Fatalf("status: %d %s", r.Status, r.Body)
	}
	for _, tc := range []struct {
		query url.Values
		want  []int64
	}{
		{url.Values{"q": {"ALPHA"}}, []int64{a.ID, b.ID}},
		{url.Values{"q": {"alpha comment"}}, []int64{b.ID}},
		{url.Values{"q": {"alpha"}, "status": {"todo"}}, []int64{a.ID}},
		{url.Values{"q": {"delta"}}, nil},
		{url.Values{"q": {""}}, []int64{a.ID, b.ID, c.ID}},
	} {
		t.Run(tc.query.Encode(), func(t *testing.T) {
			r := e.as(t).do("GET", tasks+"?"+tc.query.Encode(), alice, nil)
			if r.Status != http.StatusOK {
				t.Fatalf("%d %s", r.Status, r.Body)
			}
			if got := listIDs(t, r); !slices.Equal(got, tc.want) {
				t.Errorf("ids = %v, want %v", got, tc.want)
			}
		})
	}
	runScenarios(t, e, []scenario{
		{name: "ErrNoWords", method: "GET", path: tasks + "?q=" + url.QueryEscape("*:*"), token: alice,
			wantStatus: http.StatusUnprocessableEntity, wantBody: jsonIs(`{"detail": [{"loc": ["query", "q"], "msg": "` + taskwire.MsgSearchQueryNoWords + `", "type": "value_error"}]}`)},
		{name: "ErrTooLong", method: "GET", path: tasks + "?q=" + strings.Repeat("é", taskwire.MaxSearchQueryLen+1), token: alice,
			wantStatus: http.StatusUnprocessableEntity, wantBody: invalidAt{loc: []any{"query", "q"}, typ: "string_too_long"}},
	})
}

// The authorization matrix's search row (authz_matrix_test.go).

// searchFixtureTask searches for the words of the fixture task's title.
func searchFixtureTask(t *testing.T, fx *authzFixture, _ identity) (string, any) {
	tk, _, err := fx.e.svc.Task(t.Context(), taskwire.User{ID: fx.w.owner.ID}, fx.task)
	if err != nil {
		t.Fatal(err)
	}
	return "/api/v1/search?q=" + url.QueryEscape(tk.Title), nil
}

// searchFindsOnlyOwn: members find the fixture's task; anyone else finds
// nothing of its project (and, scanned, none of its markers).
func searchFindsOnlyOwn(t *testing.T, fx *authzFixture, who identity, r response) {
	var hits []searchHit
	r.JSON(t, &hits)
	found := false
	for _, h := range hits {
		if h.Task.ProjectID == fx.project && !slices.Contains(membersOnly, who) {
			t.Errorf("%s found task %d of project %d", who, h.Task.ID, fx.project)
		}
		found = found || h.Task.ID == fx.task
	}
	if member := slices.Contains(membersOnly, who); found != member {
		t.Errorf("%s finds the fixture's task %d: %v, want %v (%s)", who, fx.task, found, member, truncate(r.Body))
	}
}
