package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// projectJSON is a project body as the contract gives it.
func projectJSON(id int64, name string, description any, ownerID int64) string {
	d, _ := json.Marshal(description)
	n, _ := json.Marshal(name)
	return fmt.Sprintf(`{"name": %s, "description": %s, "id": %d, "owner_id": %d}`, n, d, id, ownerID)
}

// memberJSON is one entry of a project's members.
func memberJSON(projectID, userID int64, username string) string {
	return fmt.Sprintf(`{"project_id": %d, "user_id": %d, "user": {"email": "%s@example.com", "username": "%s", "id": %d}}`,
		projectID, userID, username, username, userID)
}

// eventLog returns a project's whole event log, read as token's user.
func (e *env) eventLog(token string, projectID int64) []map[string]any {
	e.t.Helper()
	r := e.do("GET", "/api/v1/projects/"+itoa(projectID)+"/events", token, nil)
	if r.Status != http.StatusOK {
		e.t.Fatalf("events: %d %s", r.Status, r.Body)
	}
	var evs []map[string]any
	r.JSON(e.t, &evs)
	return evs
}

// eventTypes lists the event names of a log.
func eventTypes(evs []map[string]any) []string {
	var out []string
	for _, ev := range evs {
		s, _ := ev["event"].(string)
		out = append(out, s)
	}
	return out
}

// projectIDs lists the ids of the projects token's user sees.
func (e *env) projectIDs(token string) []int64 {
	e.t.Helper()
	r := e.do("GET", "/api/v1/projects/", token, nil)
	if r.Status != http.StatusOK {
		e.t.Fatalf("list projects: %d %s", r.Status, r.Body)
	}
	var ps []struct{ ID int64 }
	r.JSON(e.t, &ps)
	var ids []int64
	for _, p := range ps {
		ids = append(ids, p.ID)
	}
	return ids
}

// createdID returns the id in a 201 answer.
func createdID(t *testing.T, r response) int64 {
	t.Helper()
	if r.Status != http.StatusCreated {
		t.Fatalf("status %d, want 201: %s", r.Status, r.Body)
	}
	var v struct{ ID int64 }
	r.JSON(t, &v)
	return v.ID
}

func TestProjectCreateAndList(t *testing.T) {
	e := newEnv(t)
	aliceID, alice := e.user("alice")
	bobID, bob := e.user("bob")
	_, carol := e.user("carol")

	// The ids are sequential in a fresh database: 1, 2, ...
	runScenarios(t, e, []scenario{
		{name: "OKSlash", method: "POST", path: "/api/v1/projects/", token: alice, body: map[string]string{"name": "Alpha"},
			wantStatus: 201, wantBody: jsonIs(projectJSON(1, "Alpha", nil, aliceID))},
		{name: "OKNoSlash", method: "POST", path: "/api/v1/projects", token: alice,
			body:       map[string]any{"name": "Beta", "description": "second"},
			wantStatus: 201, wantBody: jsonIs(projectJSON(2, "Beta", "second", aliceID))},
		{name: "OKNullDescription", method: "POST", path: "/api/v1/projects/", token: bob,
			body:       map[string]any{"name": "Gamma", "description": nil},
			wantStatus: 201, wantBody: jsonIs(projectJSON(3, "Gamma", nil, bobID))},
		{name: "OKUnicodeAndExtraFields", method: "POST", path: "/api/v1/projects/", token: bob,
			body:       map[string]any{"name": "Δέλτα 🚀", "description": "", "color": "red"},
			wantStatus: 201, wantBody: jsonIs(projectJSON(4, "Δέλτα 🚀", "", bobID))},
		{name: "ErrMissingName", method: "POST", path: "/api/v1/projects/", token: alice, body: map[string]any{"description": "x"},
			wantStatus: 422, wantBody: invalidAt{loc: []any{"body", "name"}, typ: "missing"}},
		{name: "ErrNullName", method: "POST", path: "/api/v1/projects/", token: alice, body: `{"name": null}`,
			wantStatus: 422, wantBody: invalidAt{loc: []any{"body", "name"}}},
		{name: "ErrNameWrongType", method: "POST", path: "/api/v1/projects", token: alice, body: map[string]any{"name": 42},
			wantStatus: 422, wantBody: invalidAt{loc: []any{"body", "name"}}},
		{name: "ErrDescriptionWrongType", method: "POST", path: "/api/v1/projects/", token: alice, body: map[string]any{"name": "x", "description": []string{}},
			wantStatus: 422, wantBody: invalidAt{loc: []any{"body", "description"}}},
		{name: "ErrNameTooLong", method: "POST", path: "/api/v1/projects/", token: alice, body: map[string]any{"name": strings.Repeat("n", 201)},
			wantStatus: 422, wantBody: invalidAt{loc: []any{"body", "name"}}},
		{name: "ErrMalformed", method: "POST", path: "/api/v1/projects/", token: alice, body: `{"name": "x",}`,
			wantStatus: 422, wantBody: invalidAt{}},
		{name: "ErrEmptyBody", method: "POST", path: "/api/v1/projects/", token: alice, body: ``,
			wantStatus: 422, wantBody: invalidAt{loc: []any{"body"}}},
	})

	// bob's Gamma gets alice as a member: she then sees it too.
	runScenarios(t, e, []scenario{{name: "AddAliceToGamma", method: "POST", path: "/api/v1/projects/3/members", token: bob,
		body: map[string]any{"user_id": aliceID}, wantStatus: 201, wantBody: jsonIs(`{"message": "Member added successfully"}`)}})

	alpha := projectJSON(1, "Alpha", nil, aliceID)
	beta := projectJSON(2, "Beta", "second", aliceID)
	gamma := projectJSON(3, "Gamma", nil, bobID)
	delta := projectJSON(4, "Δέλτα 🚀", "", bobID)
	runScenarios(t, e, []scenario{
		{name: "ListAliceSlash", method: "GET", path: "/api/v1/projects/", token: alice,
			wantStatus: 200, wantBody: jsonIs("[" + alpha + "," + beta + "," + gamma + "]"), wantHeaders: map[string]string{"Link": "<absent>"}},
		{name: "ListAliceNoSlash", method: "GET", path: "/api/v1/projects", token: alice,
			wantStatus: 200, wantBody: jsonIs("[" + alpha + "," + beta + "," + gamma + "]")},
		{name: "ListBob", method: "GET", path: "/api/v1/projects/", token: bob,
			wantStatus: 200, wantBody: jsonIs("[" + gamma + "," + delta + "]")},
		{name: "ListCarolEmpty", method: "GET", path: "/api/v1/projects/", token: carol,
			wantStatus: 200, wantBody: jsonIs(`[]`)},
		// The owner is the first member.
		{name: "OwnerIsMember", method: "GET", path: "/api/v1/projects/1", token: alice, wantStatus: 200,
			wantBody: jsonIs(`{"name": "Alpha", "description": null, "id": 1, "owner_id": ` + itoa(aliceID) +
				`, "members": [` + memberJSON(1, aliceID, "alice") + `]}`)},
	})
}

// pagingRows are the invalid pagination queries every list answers 422.
func pagingRows(path, token string) []scenario {
	var rows []scenario
	for _, q := range []struct{ name, query, param string }{
		{"ErrLimitZero", "limit=0", "limit"},
		{"ErrLimitNegative", "limit=-1", "limit"},
		{"ErrLimit501", "limit=501", "limit"},
		{"ErrLimitNotInt", "limit=abc", "limit"},
		{"ErrLimitFloat", "limit=1.5", "limit"},
		{"ErrLimitHuge", "limit=99999999999999999999999", "limit"},
		{"ErrCursorGarbage", "limit=2&cursor=garbage", "cursor"},
		{"ErrCursorNotBase64", "cursor=%21%21%21", "cursor"},
		{"ErrCursorNegative", "limit=2&cursor=Yy0x", "cursor"}, // "c-1"
	} {
		rows = append(rows, scenario{name: q.name, method: "GET", path: path + "?" + q.query, token: token,
			wantStatus: 422, wantBody: invalidAt{loc: []any{"query", q.param}}})
	}
	return rows
}

func TestProjectPagination(t *testing.T) {
	e := newEnv(t)
	_, alice := e.user("alice")
	_, bob := e.user("bob")
	var want []int64
	for range 7 {
		want = append(want, e.project(alice))
		e.project(bob) // interleaved projects alice must not see
	}
	for _, base := range []string{"/api/v1/projects/", "/api/v1/projects"} {
		for _, limit := range []int{1, 2, 3, 7, 500} {
			t.Run(fmt.Sprintf("%s/limit=%d", base, limit), func(t *testing.T) {
				got, pages := collectPages(t, e, alice, base+"?limit="+strconv.Itoa(limit), limit)
				if !slices.Equal(got, want) {
					t.Errorf("pages hold %v, want %v", got, want)
				}
				if wantPages := (len(want) + limit - 1) / limit; pages != wantPages {
					t.Errorf("%d pages, want %d", pages, wantPages)
				}
			})
		}
		runScenarios(t, e, pagingRows(base, alice))
	}
	t.Run("LinkKeepsOtherParams", func(t *testing.T) {
		r := e.as(t).do("GET", "/api/v1/projects/?limit=2", alice, nil)
		next := nextPage(t, r)
		if !strings.HasPrefix(next, "/api/v1/projects/?") || !strings.Contains(next, "limit=2") || !strings.Contains(next, "cursor=") {
			t.Errorf("Link names %q", next)
		}
	})
}

func TestProjectDetails(t *testing.T) {
	e := newEnv(t)
	aliceID, alice := e.user("alice")
	bobID, bob := e.user("bob")
	_, carol := e.user("carol")
	pid := e.project(alice, bobID)
	p := itoa(pid)
	details := `{"name": "Project", "description": null, "id": ` + p + `, "owner_id": ` + itoa(aliceID) +
		`, "members": [` + memberJSON(pid, aliceID, "alice") + `,` + memberJSON(pid, bobID, "bob") + `]}`
	runScenarios(t, e, []scenario{
		{name: "OKOwner", method: "GET", path: "/api/v1/projects/" + p, token: alice, wantStatus: 200, wantBody: jsonIs(details)},
		{name: "OKMember", method: "GET", path: "/api/v1/projects/" + p, token: bob, wantStatus: 200, wantBody: jsonIs(details)},
		{name: "ErrStranger", method: "GET", path: "/api/v1/projects/" + p, token: carol,
			wantStatus: 403, wantBody: detailIs("Not a member of this project")},
		{name: "ErrNotFound", method: "GET", path: "/api/v1/projects/9999", token: alice,
			wantStatus: 404, wantBody: detailIs("Project not found")},
		{name: "ErrNotFoundZero", method: "GET", path: "/api/v1/projects/0", token: alice,
			wantStatus: 404, wantBody: detailIs("Project not found")},
		{name: "ErrNotFoundNegative", method: "GET", path: "/api/v1/projects/-1", token: alice,
			wantStatus: 404, wantBody: detailIs("Project not found")},
		{name: "ErrIDNotInteger", method: "GET", path: "/api/v1/projects/abc", token: alice,
			wantStatus: 422, wantBody: invalidAt{loc: []any{"path", "project_id"}}},
		{name: "ErrIDFloat", method: "GET", path: "/api/v1/projects/1.5", token: alice,
			wantStatus: 422, wantBody: invalidAt{loc: []any{"path", "project_id"}}},
		{name: "ErrIDOverflow", method: "GET", path: "/api/v1/projects/99999999999999999999", token: alice,
			wantStatus: 422, wantBody: invalidAt{loc: []any{"path", "project_id"}}},
	})
}

func TestProjectUpdate(t *testing.T) {
	e := newEnv(t)
	aliceID, alice := e.user("alice")
	bobID, bob := e.user("bob")
	_, carol := e.user("carol")
	pid := e.project(alice, bobID)
	p := "/api/v1/projects/" + itoa(pid)
	runScenarios(t, e, []scenario{
		{name: "OKRename", method: "PATCH", path: p, token: alice, body: map[string]string{"name": "Renamed"},
			wantStatus: 200, wantBody: jsonIs(projectJSON(pid, "Renamed", nil, aliceID))},
		{name: "OKDescribe", method: "PATCH", path: p, token: alice, body: map[string]string{"description": "about"},
			wantStatus: 200, wantBody: jsonIs(projectJSON(pid, "Renamed", "about", aliceID))},
		{name: "OKNoChange", method: "PATCH", path: p, token: alice, body: map[string]string{"name": "Renamed"},
			wantStatus: 200, wantBody: jsonIs(projectJSON(pid, "Renamed", "about", aliceID))},
		{name: "OKEmptyPatch", method: "PATCH", path: p, token: alice, body: map[string]string{},
			wantStatus: 200, wantBody: jsonIs(projectJSON(pid, "Renamed", "about", aliceID))},
		{name: "OKClearDescription", method: "PATCH", path: p, token: alice, body: map[string]any{"description": nil},
			wantStatus: 200, wantBody: jsonIs(projectJSON(pid, "Renamed", nil, aliceID))},
		{name: "ErrMemberNotOwner", method: "PATCH", path: p, token: bob, body: map[string]string{"name": "Mine"},
			wantStatus: 403, wantBody: detailIs("<string>")},
		{name: "ErrStranger", method: "PATCH", path: p, token: carol, body: map[string]string{"name": "Mine"},
			wantStatus: 403, wantBody: detailIs("Not a member of this project")},
		{name: "ErrNotFound", method: "PATCH", path: "/api/v1/projects/9999", token: alice, body: map[string]string{"name": "x"},
			wantStatus: 404, wantBody: detailIs("Project not found")},
		{name: "ErrNameWrongType", method: "PATCH", path: p, token: alice, body: map[string]any{"name": 1},
			wantStatus: 422, wantBody: invalidAt{loc: []any{"body", "name"}}},
		{name: "ErrNameTooLong", method: "PATCH", path: p, token: alice, body: map[string]any{"name": strings.Repeat("n", 201)},
			wantStatus: 422, wantBody: invalidAt{loc: []any{"body", "name"}}},
		{name: "ErrIDNotInteger", method: "PATCH", path: "/api/v1/projects/x", token: alice, body: map[string]string{"name": "x"},
			wantStatus: 422, wantBody: invalidAt{loc: []any{"path", "project_id"}}},
		{name: "StillRenamed", method: "GET", path: p, token: bob, wantStatus: 200,
			wantBody: func(t *testing.T, r response) {
				var got struct{ Name string }
				r.JSON(t, &got)
				if got.Name != "Renamed" {
					t.Errorf("name %q after refused updates", got.Name)
				}
			}},
	})
	// member_added, then one project_updated per change (the no-op and
	// empty patches emit nothing).
	evs := e.as(t).eventLog(alice, pid)
	if got, want := eventTypes(evs), []string{"member_added", "project_updated", "project_updated", "project_updated"}; !slices.Equal(got, want) {
		t.Errorf("events %v, want %v", got, want)
	}
	if len(evs) == 4 {
		expectJSON(t, mustJSON(t, evs[3]["data"]), map[string]any{"id": float64(pid), "name": "Renamed", "description": nil, "owner_id": float64(aliceID)})
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestProjectDelete(t *testing.T) {
	e := newEnv(t)
	_, alice := e.user("alice")
	bobID, bob := e.user("bob")
	_, carol := e.user("carol")
	pid := e.project(alice, bobID)
	other := e.project(alice)
	task := e.task(alice, pid, "doomed")
	keep := e.task(alice, other, "kept")
	p := "/api/v1/projects/" + itoa(pid)
	tk := "/api/v1/tasks/" + itoa(task.ID)
	runScenarios(t, e, []scenario{
		{name: "ErrMemberNotOwner", method: "DELETE", path: p, token: bob, wantStatus: 403, wantBody: detailIs("<string>")},
		{name: "ErrStranger", method: "DELETE", path: p, token: carol, wantStatus: 403, wantBody: detailIs("Not a member of this project")},
		{name: "ErrNotFound", method: "DELETE", path: "/api/v1/projects/9999", token: alice, wantStatus: 404, wantBody: detailIs("Project not found")},
		{name: "ErrIDNotInteger", method: "DELETE", path: "/api/v1/projects/x", token: alice, wantStatus: 422, wantBody: invalidAt{loc: []any{"path", "project_id"}}},
		{name: "StillThere", method: "GET", path: tk, token: bob, wantStatus: 200},
		{name: "OK", method: "DELETE", path: p, token: alice, wantStatus: 204},
		{name: "GoneProject", method: "GET", path: p, token: alice, wantStatus: 404, wantBody: detailIs("Project not found")},
		{name: "GoneTask", method: "GET", path: tk, token: alice, wantStatus: 404, wantBody: detailIs("Task not found")},
		{name: "GoneTaskForMember", method: "GET", path: tk, token: bob, wantStatus: 404, wantBody: detailIs("Task not found")},
		{name: "GoneTaskPUT", method: "PUT", path: tk, token: alice, body: map[string]string{"title": "x"}, wantStatus: 404, wantBody: detailIs("Task not found")},
		{name: "GoneTaskStatus", method: "PATCH", path: tk + "/status", token: alice, body: map[string]string{"status": "done"}, wantStatus: 404, wantBody: detailIs("Task not found")},
		{name: "GoneTaskDelete", method: "DELETE", path: tk, token: alice, wantStatus: 404, wantBody: detailIs("Task not found")},
		{name: "GoneTaskList", method: "GET", path: p + "/tasks", token: alice, wantStatus: 404, wantBody: detailIs("Project not found")},
		{name: "GoneCreateTask", method: "POST", path: p + "/tasks", token: alice, body: map[string]string{"title": "x"}, wantStatus: 404, wantBody: detailIs("Project not found")},
		{name: "GoneEvents", method: "GET", path: p + "/events", token: alice, wantStatus: 404, wantBody: detailIs("Project not found")},
		{name: "GoneMembers", method: "POST", path: p + "/members", token: alice, body: map[string]any{"user_id": bobID}, wantStatus: 404, wantBody: detailIs("Project not found")},
		{name: "GoneAgain", method: "DELETE", path: p, token: alice, wantStatus: 404, wantBody: detailIs("Project not found")},
		{name: "GoneFromList", method: "GET", path: "/api/v1/projects/", token: bob, wantStatus: 200, wantBody: jsonIs(`[]`)},
		{name: "OtherProjectKept", method: "GET", path: "/api/v1/tasks/" + itoa(keep.ID), token: alice, wantStatus: 200},
	})
}

func TestAddMember(t *testing.T) {
	e := newEnv(t)
	aliceID, alice := e.user("alice")
	bobID, bob := e.user("bob")
	carolID, carol := e.user("carol")
	daveID, _ := e.user("dave")
	eveID, _ := e.user("eve")
	pid := e.project(alice)
	p := "/api/v1/projects/" + itoa(pid) + "/members"
	ok := jsonIs(`{"message": "Member added successfully"}`)
	runScenarios(t, e, []scenario{
		{name: "OKByUserID", method: "POST", path: p, token: alice, body: map[string]any{"user_id": bobID}, wantStatus: 201, wantBody: ok},
		{name: "OKByUsername", method: "POST", path: p, token: alice, body: map[string]any{"username": "carol"}, wantStatus: 201, wantBody: ok},
		{name: "OKByEmail", method: "POST", path: p, token: alice, body: map[string]any{"email": "dave@example.com"}, wantStatus: 201, wantBody: ok},
		// Errors, in the contract's order of precedence.
		{name: "ErrProjectNotFoundBeforeUser", method: "POST", path: "/api/v1/projects/9999/members", token: alice,
			body: map[string]any{"user_id": 123456}, wantStatus: 404, wantBody: detailIs("Project not found")},
		{name: "ErrProjectNotFoundForStranger", method: "POST", path: "/api/v1/projects/9999/members", token: carol,
			body: map[string]any{"user_id": eveID}, wantStatus: 404, wantBody: detailIs("Project not found")},
		{name: "ErrNotOwnerBeforeUserNotFound", method: "POST", path: p, token: bob,
			body: map[string]any{"user_id": 123456}, wantStatus: 403, wantBody: detailIs("Not authorized to add members to this project")},
		{name: "ErrNotOwnerBeforeAlreadyMember", method: "POST", path: p, token: bob,
			body: map[string]any{"user_id": carolID}, wantStatus: 403, wantBody: detailIs("Not authorized to add members to this project")},
		{name: "ErrNotOwnerMember", method: "POST", path: p, token: bob,
			body: map[string]any{"user_id": eveID}, wantStatus: 403, wantBody: detailIs("Not authorized to add members to this project")},
		{name: "ErrUserNotFound", method: "POST", path: p, token: alice,
			body: map[string]any{"user_id": 123456}, wantStatus: 404, wantBody: detailIs("User not found")},
		{name: "ErrUsernameNotFound", method: "POST", path: p, token: alice,
			body: map[string]any{"username": "zed"}, wantStatus: 404, wantBody: detailIs("User not found")},
		{name: "ErrEmailNotFound", method: "POST", path: p, token: alice,
			body: map[string]any{"email": "zed@example.com"}, wantStatus: 404, wantBody: detailIs("User not found")},
		{name: "ErrAlreadyMember", method: "POST", path: p, token: alice,
			body: map[string]any{"user_id": bobID}, wantStatus: 400, wantBody: detailIs("User is already a member of this project")},
		{name: "ErrAlreadyMemberByName", method: "POST", path: p, token: alice,
			body: map[string]any{"username": "dave"}, wantStatus: 400, wantBody: detailIs("User is already a member of this project")},
		{name: "ErrOwnerAlreadyMember", method: "POST", path: p, token: alice,
			body: map[string]any{"username": "alice"}, wantStatus: 400, wantBody: detailIs("User is already a member of this project")},
		{name: "ErrNoField", method: "POST", path: p, token: alice, body: map[string]any{},
			wantStatus: 422, wantBody: invalidAt{loc: []any{"body", "user_id"}, typ: "missing"}},
		{name: "ErrOnlyUnknownField", method: "POST", path: p, token: alice, body: map[string]any{"id": eveID},
			wantStatus: 422, wantBody: invalidAt{loc: []any{"body", "user_id"}, typ: "missing"}},
		{name: "ErrUserIDWrongType", method: "POST", path: p, token: alice, body: map[string]any{"user_id": "abc"},
			wantStatus: 422, wantBody: invalidAt{loc: []any{"body", "user_id"}}},
		{name: "ErrUserIDFloat", method: "POST", path: p, token: alice, body: `{"user_id": 1.5}`,
			wantStatus: 422, wantBody: invalidAt{loc: []any{"body", "user_id"}}},
		{name: "ErrMalformed", method: "POST", path: p, token: alice, body: `{"user_id": `,
			wantStatus: 422, wantBody: invalidAt{}},
		{name: "ErrIDNotInteger", method: "POST", path: "/api/v1/projects/x/members", token: alice, body: map[string]any{"user_id": eveID},
			wantStatus: 422, wantBody: invalidAt{loc: []any{"path", "project_id"}}},
	})
	t.Run("Members", func(t *testing.T) {
		r := e.as(t).do("GET", "/api/v1/projects/"+itoa(pid), carol, nil)
		var got struct {
			Members []struct {
				UserID int64 `json:"user_id"`
			}
		}
		r.JSON(t, &got)
		var ids []int64
		for _, m := range got.Members {
			ids = append(ids, m.UserID)
		}
		slices.Sort(ids)
		if want := []int64{aliceID, bobID, carolID, daveID}; !slices.Equal(ids, want) {
			t.Errorf("members %v, want %v", ids, want)
		}
		evs := e.as(t).eventLog(alice, pid)
		if got, want := eventTypes(evs), []string{"member_added", "member_added", "member_added"}; !slices.Equal(got, want) {
			t.Fatalf("events %v, want %v", got, want)
		}
		expectJSON(t, mustJSON(t, evs[0]["data"]), map[string]any{"project_id": float64(pid), "user_id": float64(bobID),
			"user": map[string]any{"id": float64(bobID), "username": "bob"}})
	})
}

func TestRemoveMember(t *testing.T) {
	e := newEnv(t)
	aliceID, alice := e.user("alice")
	bobID, bob := e.user("bob")
	carolID, carol := e.user("carol")
	daveID, dave := e.user("dave")
	eveID, _ := e.user("eve")
	pid := e.project(alice, bobID, carolID, daveID)
	p := "/api/v1/projects/" + itoa(pid) + "/members/"
	// Tasks assigned to bob, one to carol.
	var bobTasks []int64
	for i := range 2 {
		r := e.do("POST", "/api/v1/projects/"+itoa(pid)+"/tasks", alice, map[string]any{"title": "b" + strconv.Itoa(i), "assignee_id": bobID})
		bobTasks = append(bobTasks, createdID(t, r))
	}
	r := e.do("POST", "/api/v1/projects/"+itoa(pid)+"/tasks", alice, map[string]any{"title": "c", "assignee_id": carolID})
	carolTask := createdID(t, r)

	runScenarios(t, e, []scenario{
		{name: "ErrOwnerCannotBeRemoved", method: "DELETE", path: p + itoa(aliceID), token: alice,
			wantStatus: 400, wantBody: detailIs("The project owner cannot be removed")},
		{name: "ErrMemberRemovesOther", method: "DELETE", path: p + itoa(carolID), token: bob,
			wantStatus: 403, wantBody: detailIs("<string>")},
		{name: "ErrMemberRemovesOwner", method: "DELETE", path: p + itoa(aliceID), token: bob,
			wantStatus: 403, wantBody: detailIs("<string>")},
		{name: "ErrStranger", method: "DELETE", path: p + itoa(bobID), token: mustTokenFor(t, e, eveID),
			wantStatus: 403, wantBody: detailIs("Not a member of this project")},
		{name: "ErrNotAMember", method: "DELETE", path: p + itoa(eveID), token: alice,
			wantStatus: 404, wantBody: detailIs("<string>")},
		{name: "ErrUnknownUser", method: "DELETE", path: p + "123456", token: alice,
			wantStatus: 404, wantBody: detailIs("<string>")},
		{name: "ErrProjectNotFound", method: "DELETE", path: "/api/v1/projects/9999/members/" + itoa(bobID), token: alice,
			wantStatus: 404, wantBody: detailIs("Project not found")},
		{name: "ErrUserIDNotInteger", method: "DELETE", path: p + "bob", token: alice,
			wantStatus: 422, wantBody: invalidAt{loc: []any{"path", "user_id"}}},
		{name: "OKOwnerRemovesMember", method: "DELETE", path: p + itoa(bobID), token: alice, wantStatus: 204},
		{name: "ErrRemovedTwice", method: "DELETE", path: p + itoa(bobID), token: alice,
			wantStatus: 404, wantBody: detailIs("<string>")},
		{name: "RemovedLosesAccess", method: "GET", path: "/api/v1/projects/" + itoa(pid), token: bob,
			wantStatus: 403, wantBody: detailIs("Not a member of this project")},
		{name: "RemovedLosesTaskAccess", method: "GET", path: "/api/v1/tasks/" + itoa(bobTasks[0]), token: bob,
			wantStatus: 403, wantBody: detailIs("Not a member of this project")},
		{name: "OKMemberLeaves", method: "DELETE", path: p + itoa(carolID), token: carol, wantStatus: 204},
		{name: "LeftLosesAccess", method: "GET", path: "/api/v1/projects/" + itoa(pid) + "/tasks", token: carol,
			wantStatus: 403, wantBody: detailIs("Not a member of this project")},
		{name: "ErrLeftCannotLeaveAgain", method: "DELETE", path: p + itoa(carolID), token: carol,
			wantStatus: 403, wantBody: detailIs("Not a member of this project")},
		{name: "DaveStays", method: "GET", path: "/api/v1/projects/" + itoa(pid), token: dave, wantStatus: 200},
	})
	t.Run("TasksUnassigned", func(t *testing.T) {
		for _, id := range append(bobTasks, carolTask) {
			r := e.as(t).do("GET", "/api/v1/tasks/"+itoa(id), alice, nil)
			var task struct {
				AssigneeID *int64 `json:"assignee_id"`
				Version    int64  `json:"version"`
			}
			r.JSON(t, &task)
			if task.AssigneeID != nil {
				t.Errorf("task %d still assigned to %d", id, *task.AssigneeID)
			}
			if task.Version != 2 {
				t.Errorf("task %d version %d after unassignment, want 2", id, task.Version)
			}
			if etag := r.Header.Get("ETag"); etag != `"`+itoa(task.Version)+`"` {
				t.Errorf("ETag %q, version %d", etag, task.Version)
			}
		}
		// A removed member can no longer be assigned.
		r := e.as(t).do("PUT", "/api/v1/tasks/"+itoa(carolTask), alice, map[string]any{"assignee_id": bobID})
		expectInvalid(t, r, []any{"body", "assignee_id"}, "")
	})
	t.Run("Events", func(t *testing.T) {
		evs := e.as(t).eventLog(alice, pid)
		types := eventTypes(evs)
		// 3 member_added, 3 task_created, then bob's removal (2 task
		// updates and member_removed) and carol's (1 and member_removed).
		want := []string{"member_added", "member_added", "member_added", "task_created", "task_created", "task_created",
			"task_updated", "task_updated", "member_removed", "task_updated", "member_removed"}
		if !slices.Equal(types, want) {
			t.Fatalf("events %v, want %v", types, want)
		}
		expectJSON(t, mustJSON(t, evs[8]["data"]), map[string]any{"project_id": float64(pid), "user_id": float64(bobID)})
		if evs[10]["actor_id"] != float64(carolID) {
			t.Errorf("carol's leaving has actor %v", evs[10]["actor_id"])
		}
	})
}

// mustTokenFor issues a token for a user id.
func mustTokenFor(t *testing.T, e *env, id int64) string {
	t.Helper()
	tok, err := e.tokens.Issue(id)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestProjectIdempotency(t *testing.T) {
	e := newEnv(t)
	_, alice := e.user("alice")
	bobID, bob := e.user("bob")
	carolID, _ := e.user("carol")
	key := []string{"Idempotency-Key", "k-1"}

	first := e.do("POST", "/api/v1/projects/", alice, map[string]string{"name": "Once"}, key...)
	id := createdID(t, first)
	runScenarios(t, e, []scenario{
		{name: "Retry", method: "POST", path: "/api/v1/projects/", token: alice, body: map[string]string{"name": "Once"}, headers: key,
			wantStatus: 201, wantBody: jsonIs(string(first.Body))},
		{name: "RetryOtherWhitespace", method: "POST", path: "/api/v1/projects/", token: alice, body: "{ \"name\" :\n \"Once\" }", headers: key,
			wantStatus: 201, wantBody: jsonIs(string(first.Body))},
		{name: "RetryOtherSpelling", method: "POST", path: "/api/v1/projects", token: alice, body: map[string]string{"name": "Once"}, headers: key,
			wantStatus: 201, wantBody: jsonIs(string(first.Body))},
		{name: "ErrSameKeyOtherBody", method: "POST", path: "/api/v1/projects/", token: alice, body: map[string]string{"name": "Twice"}, headers: key,
			wantStatus: 422, wantBody: invalidAt{loc: []any{"header", "Idempotency-Key"}}},
		{name: "ErrKeyTooLong", method: "POST", path: "/api/v1/projects/", token: alice, body: map[string]string{"name": "Long"},
			headers: []string{"Idempotency-Key", strings.Repeat("k", 256)}, wantStatus: 422, wantBody: invalidAt{}},
	})
	if got := e.projectIDs(alice); !slices.Equal(got, []int64{id}) {
		t.Errorf("alice's projects %v, want just %d", got, id)
	}
	// Another user's key is another key.
	r := e.do("POST", "/api/v1/projects/", bob, map[string]string{"name": "Once"}, key...)
	if bid := createdID(t, r); bid == id {
		t.Errorf("bob's request with alice's key replayed her project %d", id)
	}
	// Other routes are other scopes.
	r = e.do("POST", "/api/v1/projects/"+itoa(id)+"/tasks", alice, map[string]string{"title": "t"}, key...)
	createdID(t, r)

	t.Run("Members", func(t *testing.T) {
		p := "/api/v1/projects/" + itoa(id) + "/members"
		k := []string{"Idempotency-Key", "m-1"}
		runScenarios(t, e, []scenario{
			{name: "First", method: "POST", path: p, token: alice, body: map[string]any{"user_id": bobID}, headers: k,
				wantStatus: 201, wantBody: jsonIs(`{"message": "Member added successfully"}`)},
			{name: "Retry", method: "POST", path: p, token: alice, body: map[string]any{"user_id": bobID}, headers: k,
				wantStatus: 201, wantBody: jsonIs(`{"message": "Member added successfully"}`)},
			{name: "ErrSameKeyOtherBody", method: "POST", path: p, token: alice, body: map[string]any{"user_id": carolID}, headers: k,
				wantStatus: 422, wantBody: invalidAt{loc: []any{"header", "Idempotency-Key"}}},
			{name: "ErrNoKeyAlreadyMember", method: "POST", path: p, token: alice, body: map[string]any{"user_id": bobID},
				wantStatus: 400, wantBody: detailIs("User is already a member of this project")},
		})
		evs := e.as(t).eventLog(alice, id)
		if got, want := eventTypes(evs), []string{"task_created", "member_added"}; !slices.Equal(got, want) {
			t.Errorf("events %v, want %v", got, want)
		}
	})
}
