package httpapi_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// taskJSON is a task body: the seed's fields, then the extensions.
// description and assigneeID are nil for null.
func taskJSON(id, projectID int64, title string, description any, status string, assigneeID any, version int64) string {
	t, _ := json.Marshal(title)
	d, _ := json.Marshal(description)
	a, _ := json.Marshal(assigneeID)
	return fmt.Sprintf(`{"title": %s, "description": %s, "status": %q, "id": %d, "project_id": %d, "assignee_id": %s,
		"version": %d, "created_at": "<rfc3339>", "updated_at": "<rfc3339>", "due_at": null, "labels": []}`, t, d, status, id, projectID, a, version)
}

// etagHeader is the ETag header of a version.
func etagHeader(version int64) map[string]string {
	return map[string]string{"ETag": `"` + itoa(version) + `"`}
}

// listIDs reads the ids of a JSON array answer.
func listIDs(t *testing.T, r response) []int64 {
	t.Helper()
	var items []struct{ ID int64 }
	r.JSON(t, &items)
	var ids []int64
	for _, it := range items {
		ids = append(ids, it.ID)
	}
	return ids
}

func TestTaskCreate(t *testing.T) {
	e := newEnv(t)
	_, alice := e.user("alice")
	bobID, bob := e.user("bob")
	carolID, carol := e.user("carol")
	pid := e.project(alice, bobID)
	p := "/api/v1/projects/" + itoa(pid) + "/tasks"
	// Task ids are sequential in a fresh database.
	runScenarios(t, e, []scenario{
		{name: "OKDefaults", method: "POST", path: p, token: alice, body: map[string]string{"title": "first"},
			wantStatus: 201, wantBody: jsonIs(taskJSON(1, pid, "first", nil, "todo", nil, 1)), wantHeaders: etagHeader(1)},
		{name: "OKAllFields", method: "POST", path: p, token: bob,
			body:       map[string]any{"title": "second", "description": "details", "status": "in_progress", "assignee_id": bobID},
			wantStatus: 201, wantBody: jsonIs(taskJSON(2, pid, "second", "details", "in_progress", bobID, 1)), wantHeaders: etagHeader(1)},
		{name: "OKNulls", method: "POST", path: p, token: alice, body: `{"title": "third", "description": null, "assignee_id": null}`,
			wantStatus: 201, wantBody: jsonIs(taskJSON(3, pid, "third", nil, "todo", nil, 1)), wantHeaders: etagHeader(1)},
		{name: "OKDone", method: "POST", path: p, token: alice, body: map[string]any{"title": "fourth", "status": "done"},
			wantStatus: 201, wantBody: jsonIs(taskJSON(4, pid, "fourth", nil, "done", nil, 1)), wantHeaders: etagHeader(1)},
		{name: "OKEmptyTitleAndUnicode", method: "POST", path: p, token: alice, body: map[string]any{"title": "", "description": "ünïcødé ✓"},
			wantStatus: 201, wantBody: jsonIs(taskJSON(5, pid, "", "ünïcødé ✓", "todo", nil, 1)), wantHeaders: etagHeader(1)},
		{name: "ErrAssigneeNotMember", method: "POST", path: p, token: alice, body: map[string]any{"title": "x", "assignee_id": carolID},
			wantStatus: 422, wantBody: invalidAt{loc: []any{"body", "assignee_id"}}},
		{name: "ErrAssigneeUnknown", method: "POST", path: p, token: alice, body: map[string]any{"title": "x", "assignee_id": 123456},
			wantStatus: 422, wantBody: invalidAt{loc: []any{"body", "assignee_id"}}},
		{name: "ErrAssigneeWrongType", method: "POST", path: p, token: alice, body: map[string]any{"title": "x", "assignee_id": "bob"},
			wantStatus: 422, wantBody: invalidAt{loc: []any{"body", "assignee_id"}}},
		{name: "ErrStatusUnknown", method: "POST", path: p, token: alice, body: map[string]any{"title": "x", "status": "blocked"},
			wantStatus: 422, wantBody: invalidAt{loc: []any{"body", "status"}}},
		{name: "ErrStatusCase", method: "POST", path: p, token: alice, body: map[string]any{"title": "x", "status": "TODO"},
			wantStatus: 422, wantBody: invalidAt{loc: []any{"body", "status"}}},
		{name: "ErrTitleNull", method: "POST", path: p, token: alice, body: `{"title": null}`,
			wantStatus: 422, wantBody: invalidAt{loc: []any{"body", "title"}}},
		{name: "ErrTitleMissing", method: "POST", path: p, token: alice, body: map[string]any{"description": "x"},
			wantStatus: 422, wantBody: invalidAt{loc: []any{"body", "title"}, typ: "missing"}},
		{name: "ErrTitleWrongType", method: "POST", path: p, token: alice, body: map[string]any{"title": 7},
			wantStatus: 422, wantBody: invalidAt{loc: []any{"body", "title"}}},
		{name: "ErrTitleTooLong", method: "POST", path: p, token: alice, body: map[string]any{"title": strings.Repeat("t", 501)},
			wantStatus: 422, wantBody: invalidAt{loc: []any{"body", "title"}}},
		{name: "ErrDescriptionTooLong", method: "POST", path: p, token: alice, body: map[string]any{"title": "x", "description": strings.Repeat("d", 20001)},
			wantStatus: 422, wantBody: invalidAt{loc: []any{"body", "description"}}},
		{name: "ErrMalformed", method: "POST", path: p, token: alice, body: `{"title": "x"`,
			wantStatus: 422, wantBody: invalidAt{}},
		{name: "ErrEmptyBody", method: "POST", path: p, token: alice, body: ``,
			wantStatus: 422, wantBody: invalidAt{loc: []any{"body"}}},
		{name: "ErrBodyArray", method: "POST", path: p, token: alice, body: `[{"title": "x"}]`,
			wantStatus: 422, wantBody: invalidAt{}},
		{name: "ErrBodyTooLarge", method: "POST", path: p, token: alice, body: `{"title": "x", "description": "` + strings.Repeat("d", 1<<20) + `"}`,
			wantStatus: 413, wantBody: detailIs("<string>")},
		{name: "ErrStranger", method: "POST", path: p, token: carol, body: map[string]string{"title": "x"},
			wantStatus: 403, wantBody: detailIs("Not a member of this project")},
		{name: "ErrProjectNotFound", method: "POST", path: "/api/v1/projects/9999/tasks", token: alice, body: map[string]string{"title": "x"},
			wantStatus: 404, wantBody: detailIs("Project not found")},
		{name: "ErrProjectIDNotInteger", method: "POST", path: "/api/v1/projects/x/tasks", token: alice, body: map[string]string{"title": "x"},
			wantStatus: 422, wantBody: invalidAt{loc: []any{"path", "project_id"}}},
		{name: "NothingCreatedByErrors", method: "GET", path: p, token: alice, wantStatus: 200,
			wantBody: func(t *testing.T, r response) {
				if ids := listIDs(t, r); !slices.Equal(ids, []int64{1, 2, 3, 4, 5}) {
					t.Errorf("tasks %v, want 1..5", ids)
				}
			}},
	})
	evs := e.as(t).eventLog(alice, pid)
	if got := eventTypes(evs); !slices.Equal(got, []string{"member_added", "task_created", "task_created", "task_created", "task_created", "task_created"}) {
		t.Errorf("events %v", got)
	}
	if len(evs) > 2 {
		expectJSON(t, mustJSON(t, evs[2]["data"]), mustDecode(t, taskJSON(2, pid, "second", "details", "in_progress", bobID, 1)))
		if evs[2]["actor_id"] != float64(bobID) {
			t.Errorf("task_created by bob has actor %v", evs[2]["actor_id"])
		}
	}
}

// TestTaskCreateNullStatus: the seed's TaskCreate.status is a non-nullable
// enum with a default, so pydantic answers 422 to an explicit null, and the
// contract says "null for title or status is a 422".
func TestTaskCreateNullStatus(t *testing.T) {
	e := newEnv(t)
	_, alice := e.user("alice")
	pid := e.project(alice)
	p := "/api/v1/projects/" + itoa(pid) + "/tasks"
	runScenarios(t, e, []scenario{
		{name: "ErrStatusNull", method: "POST", path: p, token: alice, body: `{"title": "x", "status": null}`,
			wantStatus: 422, wantBody: invalidAt{loc: []any{"body", "status"}}},
		{name: "NothingCreated", method: "GET", path: p, token: alice, wantStatus: 200, wantBody: jsonIs(`[]`)},
	})
}

func mustDecode(t *testing.T, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("%s: %v", s, err)
	}
	return v
}

func TestTaskList(t *testing.T) {
	e := newEnv(t)
	_, alice := e.user("alice")
	bobID, bob := e.user("bob")
	_, carol := e.user("carol")
	pid := e.project(alice, bobID)
	other := e.project(alice)
	p := "/api/v1/projects/" + itoa(pid) + "/tasks"
	statuses := []string{"todo", "in_progress", "done"}
	var all []int64
	want := map[string][]int64{}
	for i := range 9 {
		body := map[string]any{"title": "t" + strconv.Itoa(i), "status": statuses[i%3]}
		if i%2 == 0 {
			body["assignee_id"] = bobID
		}
		id := createdID(t, e.do("POST", p, alice, body))
		e.task(alice, other, "elsewhere") // interleaved ids of another project
		all = append(all, id)
		want["status="+statuses[i%3]] = append(want["status="+statuses[i%3]], id)
		if i%2 == 0 {
			want["assignee_id="+itoa(bobID)] = append(want["assignee_id="+itoa(bobID)], id)
			both := "status=" + statuses[i%3] + "&assignee_id=" + itoa(bobID)
			want[both] = append(want[both], id)
		}
	}
	ids := func(want []int64) func(*testing.T, response) {
		return func(t *testing.T, r response) {
			t.Helper()
			checkBody(t, r, nil)
			if got := listIDs(t, r); !slices.Equal(got, want) {
				t.Errorf("ids %v, want %v", got, want)
			}
		}
	}
	rows := []scenario{
		{name: "All", method: "GET", path: p, token: bob, wantStatus: 200, wantBody: ids(all), wantHeaders: map[string]string{"Link": "<absent>"}},
		{name: "Empty", method: "GET", path: "/api/v1/projects/" + itoa(e.project(bob)) + "/tasks", token: bob, wantStatus: 200, wantBody: jsonIs(`[]`)},
		{name: "NoMatch", method: "GET", path: p + "?assignee_id=123456", token: alice, wantStatus: 200, wantBody: jsonIs(`[]`)},
		{name: "ErrStatusUnknown", method: "GET", path: p + "?status=blocked", token: alice, wantStatus: 422, wantBody: invalidAt{loc: []any{"query", "status"}}},
		{name: "ErrAssigneeNotInteger", method: "GET", path: p + "?assignee_id=bob", token: alice, wantStatus: 422, wantBody: invalidAt{loc: []any{"query", "assignee_id"}}},
		{name: "ErrStranger", method: "GET", path: p, token: carol, wantStatus: 403, wantBody: detailIs("Not a member of this project")},
		{name: "ErrProjectNotFound", method: "GET", path: "/api/v1/projects/9999/tasks", token: alice, wantStatus: 404, wantBody: detailIs("Project not found")},
		{name: "ErrProjectIDNotInteger", method: "GET", path: "/api/v1/projects/x/tasks", token: alice, wantStatus: 422, wantBody: invalidAt{loc: []any{"path", "project_id"}}},
	}
	for _, q := range slices.Sorted(maps.Keys(want)) {
		rows = append(rows, scenario{name: "Filter " + q, method: "GET", path: p + "?" + q, token: alice, wantStatus: 200, wantBody: ids(want[q])})
	}
	rows = append(rows, pagingRows(p, alice)...)
	runScenarios(t, e, rows)

	t.Run("FullTaskBodies", func(t *testing.T) {
		r := e.as(t).do("GET", p+"?limit=1", alice, nil)
		expectJSON(t, r.Body, []any{mustDecode(t, taskJSON(all[0], pid, "t0", nil, "todo", bobID, 1))})
	})
	for _, q := range []string{"", "status=done&", "assignee_id=" + itoa(bobID) + "&", "status=todo&assignee_id=" + itoa(bobID) + "&"} {
		for _, limit := range []int{1, 2, 4} {
			t.Run(fmt.Sprintf("Pages %slimit=%d", q, limit), func(t *testing.T) {
				got, _ := collectPages(t, e, alice, p+"?"+q+"limit="+strconv.Itoa(limit), limit)
				w := all
				if q != "" {
					w = want[strings.TrimSuffix(q, "&")]
				}
				if !slices.Equal(got, w) {
					t.Errorf("pages hold %v, want %v", got, w)
				}
			})
		}
	}
}

func TestTaskGetUpdateDelete(t *testing.T) {
	e := newEnv(t)
	aliceID, alice := e.user("alice")
	bobID, bob := e.user("bob")
	carolID, carol := e.user("carol")
	pid := e.project(alice, bobID)
	task := e.task(alice, pid, "write tests")
	id := task.ID
	tk := "/api/v1/tasks/" + itoa(id)
	j := func(title string, desc any, status string, assignee any, version int64) jsonIs {
		return jsonIs(taskJSON(id, pid, title, desc, status, assignee, version))
	}
	runScenarios(t, e, []scenario{
		{name: "GetOwner", method: "GET", path: tk, token: alice, wantStatus: 200, wantBody: j("write tests", nil, "todo", nil, 1), wantHeaders: etagHeader(1)},
		{name: "GetMember", method: "GET", path: tk, token: bob, wantStatus: 200, wantBody: j("write tests", nil, "todo", nil, 1), wantHeaders: etagHeader(1)},
		{name: "ErrGetStranger", method: "GET", path: tk, token: carol, wantStatus: 403, wantBody: detailIs("Not a member of this project")},
		{name: "ErrGetNotFound", method: "GET", path: "/api/v1/tasks/9999", token: alice, wantStatus: 404, wantBody: detailIs("Task not found")},
		{name: "ErrGetIDNotInteger", method: "GET", path: "/api/v1/tasks/abc", token: alice, wantStatus: 422, wantBody: invalidAt{loc: []any{"path", "task_id"}}},

		{name: "PutTitle", method: "PUT", path: tk, token: bob, body: map[string]any{"title": "write more tests"},
			wantStatus: 200, wantBody: j("write more tests", nil, "todo", nil, 2), wantHeaders: etagHeader(2)},
		{name: "PutDescription", method: "PUT", path: tk, token: alice, body: map[string]any{"description": "all routes"},
			wantStatus: 200, wantBody: j("write more tests", "all routes", "todo", nil, 3), wantHeaders: etagHeader(3)},
		{name: "PutStatus", method: "PUT", path: tk, token: alice, body: map[string]any{"status": "in_progress"},
			wantStatus: 200, wantBody: j("write more tests", "all routes", "in_progress", nil, 4), wantHeaders: etagHeader(4)},
		{name: "PutAssign", method: "PUT", path: tk, token: alice, body: map[string]any{"assignee_id": bobID},
			wantStatus: 200, wantBody: j("write more tests", "all routes", "in_progress", bobID, 5), wantHeaders: etagHeader(5)},
		{name: "PutNoChange", method: "PUT", path: tk, token: alice, body: map[string]any{"assignee_id": bobID, "status": "in_progress", "title": "write more tests"},
			wantStatus: 200, wantBody: j("write more tests", "all routes", "in_progress", bobID, 5), wantHeaders: etagHeader(5)},
		{name: "PutEmptyObject", method: "PUT", path: tk, token: alice, body: map[string]any{},
			wantStatus: 200, wantBody: j("write more tests", "all routes", "in_progress", bobID, 5), wantHeaders: etagHeader(5)},
		{name: "PutUnknownFieldOnly", method: "PUT", path: tk, token: alice, body: map[string]any{"priority": 3},
			wantStatus: 200, wantBody: j("write more tests", "all routes", "in_progress", bobID, 5), wantHeaders: etagHeader(5)},
		{name: "PutUnassign", method: "PUT", path: tk, token: alice, body: `{"assignee_id": null}`,
			wantStatus: 200, wantBody: j("write more tests", "all routes", "in_progress", nil, 6), wantHeaders: etagHeader(6)},
		{name: "PutClearDescription", method: "PUT", path: tk, token: alice, body: `{"description": null}`,
			wantStatus: 200, wantBody: j("write more tests", nil, "in_progress", nil, 7), wantHeaders: etagHeader(7)},
		{name: "PutSeveral", method: "PUT", path: tk, token: alice, body: map[string]any{"title": "ship", "status": "done", "assignee_id": aliceID},
			wantStatus: 200, wantBody: j("ship", nil, "done", aliceID, 8), wantHeaders: etagHeader(8)},
		{name: "ErrPutTitleNull", method: "PUT", path: tk, token: alice, body: `{"title": null}`,
			wantStatus: 422, wantBody: invalidAt{loc: []any{"body", "title"}}},
		{name: "ErrPutStatusNull", method: "PUT", path: tk, token: alice, body: `{"status": null}`,
			wantStatus: 422, wantBody: invalidAt{loc: []any{"body", "status"}}},
		{name: "ErrPutStatusUnknown", method: "PUT", path: tk, token: alice, body: map[string]any{"status": "blocked"},
			wantStatus: 422, wantBody: invalidAt{loc: []any{"body", "status"}}},
		{name: "ErrPutTitleWrongType", method: "PUT", path: tk, token: alice, body: map[string]any{"title": false},
			wantStatus: 422, wantBody: invalidAt{loc: []any{"body", "title"}}},
		{name: "ErrPutTitleTooLong", method: "PUT", path: tk, token: alice, body: map[string]any{"title": strings.Repeat("t", 501)},
			wantStatus: 422, wantBody: invalidAt{loc: []any{"body", "title"}}},
		{name: "ErrPutAssigneeNotMember", method: "PUT", path: tk, token: alice, body: map[string]any{"assignee_id": carolID},
			wantStatus: 422, wantBody: invalidAt{loc: []any{"body", "assignee_id"}}},
		{name: "ErrPutAssigneeUnknown", method: "PUT", path: tk, token: alice, body: map[string]any{"assignee_id": 123456},
			wantStatus: 422, wantBody: invalidAt{loc: []any{"body", "assignee_id"}}},
		{name: "ErrPutAssigneeWrongType", method: "PUT", path: tk, token: alice, body: map[string]any{"assignee_id": "bob"},
			wantStatus: 422, wantBody: invalidAt{loc: []any{"body", "assignee_id"}}},
		{name: "ErrPutNotMemberWithValidTitle", method: "PUT", path: tk, token: alice, body: map[string]any{"title": "new", "assignee_id": carolID},
			wantStatus: 422, wantBody: invalidAt{loc: []any{"body", "assignee_id"}}},
		{name: "ErrPutMalformed", method: "PUT", path: tk, token: alice, body: `{"title": `,
			wantStatus: 422, wantBody: invalidAt{}},
		{name: "ErrPutStranger", method: "PUT", path: tk, token: carol, body: map[string]any{"title": "mine"},
			wantStatus: 403, wantBody: detailIs("Not a member of this project")},
		{name: "ErrPutNotFound", method: "PUT", path: "/api/v1/tasks/9999", token: alice, body: map[string]any{"title": "x"},
			wantStatus: 404, wantBody: detailIs("Task not found")},
		{name: "ErrPutIDNotInteger", method: "PUT", path: "/api/v1/tasks/x", token: alice, body: map[string]any{"title": "x"},
			wantStatus: 422, wantBody: invalidAt{loc: []any{"path", "task_id"}}},
		{name: "UnchangedByErrors", method: "GET", path: tk, token: alice, wantStatus: 200, wantBody: j("ship", nil, "done", aliceID, 8), wantHeaders: etagHeader(8)},

		{name: "ErrDeleteStranger", method: "DELETE", path: tk, token: carol, wantStatus: 403, wantBody: detailIs("Not a member of this project")},
		{name: "ErrDeleteNotFound", method: "DELETE", path: "/api/v1/tasks/9999", token: alice, wantStatus: 404, wantBody: detailIs("Task not found")},
		{name: "ErrDeleteIDNotInteger", method: "DELETE", path: "/api/v1/tasks/x", token: alice, wantStatus: 422, wantBody: invalidAt{loc: []any{"path", "task_id"}}},
		{name: "DeleteByMember", method: "DELETE", path: tk, token: bob, wantStatus: 204},
		{name: "ErrGetDeleted", method: "GET", path: tk, token: alice, wantStatus: 404, wantBody: detailIs("Task not found")},
		{name: "ErrPutDeleted", method: "PUT", path: tk, token: alice, body: map[string]any{"title": "x"}, wantStatus: 404, wantBody: detailIs("Task not found")},
		{name: "ErrDeleteDeleted", method: "DELETE", path: tk, token: alice, wantStatus: 404, wantBody: detailIs("Task not found")},
		{name: "ListEmpty", method: "GET", path: "/api/v1/projects/" + itoa(pid) + "/tasks", token: alice, wantStatus: 200, wantBody: jsonIs(`[]`)},
	})
	t.Run("Events", func(t *testing.T) {
		evs := e.as(t).eventLog(alice, pid)
		want := []string{"member_added", "task_created"}
		for range 7 { // versions 2..8; the no-op updates emit nothing
			want = append(want, "task_updated")
		}
		want = append(want, "task_deleted")
		if got := eventTypes(evs); !slices.Equal(got, want) {
			t.Fatalf("events %v, want %v", got, want)
		}
		for i, v := 2, int64(2); i < 9; i, v = i+1, v+1 {
			var data struct{ Version int64 }
			_ = json.Unmarshal(mustJSON(t, evs[i]["data"]), &data)
			if data.Version != v {
				t.Errorf("event %d carries version %d, want %d", i, data.Version, v)
			}
		}
		expectJSON(t, mustJSON(t, evs[9]["data"]), map[string]any{"id": float64(id), "project_id": float64(pid)})
		if evs[9]["actor_id"] != float64(bobID) {
			t.Errorf("task_deleted by bob has actor %v", evs[9]["actor_id"])
		}
	})
}

func TestTaskStatus(t *testing.T) {
	e := newEnv(t)
	_, alice := e.user("alice")
	bobID, bob := e.user("bob")
	_, carol := e.user("carol")
	pid := e.project(alice, bobID)
	task := e.task(alice, pid, "flip")
	id := task.ID
	st := "/api/v1/tasks/" + itoa(id) + "/status"
	j := func(status string, version int64) jsonIs {
		return jsonIs(taskJSON(id, pid, "flip", nil, status, nil, version))
	}
	runScenarios(t, e, []scenario{
		{name: "OK", method: "PATCH", path: st, token: bob, body: map[string]string{"status": "in_progress"},
			wantStatus: 200, wantBody: j("in_progress", 2), wantHeaders: etagHeader(2)},
		{name: "OKSame", method: "PATCH", path: st, token: bob, body: map[string]string{"status": "in_progress"},
			wantStatus: 200, wantBody: j("in_progress", 2), wantHeaders: etagHeader(2)},
		{name: "OKDone", method: "PATCH", path: st, token: alice, body: map[string]any{"status": "done", "note": "ignored"},
			wantStatus: 200, wantBody: j("done", 3), wantHeaders: etagHeader(3)},
		{name: "OKBackToTodo", method: "PATCH", path: st, token: alice, body: map[string]any{"status": "todo"},
			wantStatus: 200, wantBody: j("todo", 4), wantHeaders: etagHeader(4)},
		{name: "ErrStatusNull", method: "PATCH", path: st, token: alice, body: `{"status": null}`,
			wantStatus: 422, wantBody: invalidAt{loc: []any{"body", "status"}}},
		{name: "ErrStatusMissing", method: "PATCH", path: st, token: alice, body: `{}`,
			wantStatus: 422, wantBody: invalidAt{loc: []any{"body", "status"}, typ: "missing"}},
		{name: "ErrStatusUnknown", method: "PATCH", path: st, token: alice, body: map[string]any{"status": "blocked"},
			wantStatus: 422, wantBody: invalidAt{loc: []any{"body", "status"}, typ: "enum"}},
		{name: "ErrStatusEmpty", method: "PATCH", path: st, token: alice, body: map[string]any{"status": ""},
			wantStatus: 422, wantBody: invalidAt{loc: []any{"body", "status"}}},
		{name: "ErrStatusWrongType", method: "PATCH", path: st, token: alice, body: map[string]any{"status": 1},
			wantStatus: 422, wantBody: invalidAt{loc: []any{"body", "status"}}},
		{name: "ErrEmptyBody", method: "PATCH", path: st, token: alice, body: ``,
			wantStatus: 422, wantBody: invalidAt{loc: []any{"body"}}},
		{name: "ErrStranger", method: "PATCH", path: st, token: carol, body: map[string]string{"status": "done"},
			wantStatus: 403, wantBody: detailIs("Not a member of this project")},
		{name: "ErrNotFound", method: "PATCH", path: "/api/v1/tasks/9999/status", token: alice, body: map[string]string{"status": "done"},
			wantStatus: 404, wantBody: detailIs("Task not found")},
		{name: "ErrIDNotInteger", method: "PATCH", path: "/api/v1/tasks/x/status", token: alice, body: map[string]string{"status": "done"},
			wantStatus: 422, wantBody: invalidAt{loc: []any{"path", "task_id"}}},
		{name: "Unchanged", method: "GET", path: "/api/v1/tasks/" + itoa(id), token: alice, wantStatus: 200, wantBody: j("todo", 4), wantHeaders: etagHeader(4)},
	})
	evs := e.as(t).eventLog(alice, pid)
	if got, want := eventTypes(evs), []string{"member_added", "task_created", "status_changed", "status_changed", "status_changed"}; !slices.Equal(got, want) {
		t.Errorf("events %v, want %v", got, want)
	}
}

func TestTaskIfMatch(t *testing.T) {
	e := newEnv(t)
	_, alice := e.user("alice")
	_, carol := e.user("carol")
	pid := e.project(alice)
	task := e.task(alice, pid, "v1")
	id := task.ID
	tk := "/api/v1/tasks/" + itoa(id)
	st := tk + "/status"
	j := func(title, status string, version int64) jsonIs {
		return jsonIs(taskJSON(id, pid, title, nil, status, nil, version))
	}
	im := func(v string) []string { return []string{"If-Match", v} }
	runScenarios(t, e, []scenario{
		{name: "PutCurrent", method: "PUT", path: tk, token: alice, body: map[string]string{"title": "v2"}, headers: im(`"1"`),
			wantStatus: 200, wantBody: j("v2", "todo", 2), wantHeaders: etagHeader(2)},
		{name: "ErrPutOld", method: "PUT", path: tk, token: alice, body: map[string]string{"title": "stale"}, headers: im(`"1"`),
			wantStatus: 412, wantBody: detailIs("<string>")},
		{name: "ErrPutOldNoChange", method: "PUT", path: tk, token: alice, body: map[string]string{"title": "v2"}, headers: im(`"1"`),
			wantStatus: 412, wantBody: detailIs("<string>")},
		{name: "ErrPutFuture", method: "PUT", path: tk, token: alice, body: map[string]string{"title": "stale"}, headers: im(`"3"`),
			wantStatus: 412, wantBody: detailIs("<string>")},
		{name: "PutStar", method: "PUT", path: tk, token: alice, body: map[string]string{"title": "v3"}, headers: im(`*`),
			wantStatus: 200, wantBody: j("v3", "todo", 3), wantHeaders: etagHeader(3)},
		{name: "ErrPutGarbage", method: "PUT", path: tk, token: alice, body: map[string]string{"title": "stale"}, headers: im(`garbage`),
			wantStatus: 412, wantBody: detailIs("<string>")},
		{name: "ErrPutUnquoted", method: "PUT", path: tk, token: alice, body: map[string]string{"title": "stale"}, headers: im(`3`),
			wantStatus: 412, wantBody: detailIs("<string>")},
		{name: "ErrPutEmptyQuotes", method: "PUT", path: tk, token: alice, body: map[string]string{"title": "stale"}, headers: im(`""`),
			wantStatus: 412, wantBody: detailIs("<string>")},
		{name: "ErrPutNegative", method: "PUT", path: tk, token: alice, body: map[string]string{"title": "stale"}, headers: im(`"-1"`),
			wantStatus: 412, wantBody: detailIs("<string>")},
		{name: "PutCurrentNoChange", method: "PUT", path: tk, token: alice, body: map[string]string{"title": "v3"}, headers: im(`"3"`),
			wantStatus: 200, wantBody: j("v3", "todo", 3), wantHeaders: etagHeader(3)},
		{name: "StatusCurrent", method: "PATCH", path: st, token: alice, body: map[string]string{"status": "done"}, headers: im(`"3"`),
			wantStatus: 200, wantBody: j("v3", "done", 4), wantHeaders: etagHeader(4)},
		{name: "ErrStatusOld", method: "PATCH", path: st, token: alice, body: map[string]string{"status": "todo"}, headers: im(`"3"`),
			wantStatus: 412, wantBody: detailIs("<string>")},
		{name: "StatusStar", method: "PATCH", path: st, token: alice, body: map[string]string{"status": "todo"}, headers: im(`*`),
			wantStatus: 200, wantBody: j("v3", "todo", 5), wantHeaders: etagHeader(5)},
		{name: "ErrStatusGarbage", method: "PATCH", path: st, token: alice, body: map[string]string{"status": "done"}, headers: im(`W/`),
			wantStatus: 412, wantBody: detailIs("<string>")},
		// Existence and membership come before the precondition.
		{name: "ErrNotFoundNot412", method: "PUT", path: "/api/v1/tasks/9999", token: alice, body: map[string]string{"title": "x"}, headers: im(`"1"`),
			wantStatus: 404, wantBody: detailIs("Task not found")},
		{name: "ErrStrangerNot412", method: "PUT", path: tk, token: carol, body: map[string]string{"title": "x"}, headers: im(`"1"`),
			wantStatus: 403, wantBody: detailIs("Not a member of this project")},
		{name: "ErrValidationNot412", method: "PUT", path: tk, token: alice, body: `{"title": null}`, headers: im(`"1"`),
			wantStatus: 422, wantBody: invalidAt{loc: []any{"body", "title"}}},
		{name: "Final", method: "GET", path: tk, token: alice, wantStatus: 200, wantBody: j("v3", "todo", 5), wantHeaders: etagHeader(5)},
	})
	evs := e.as(t).eventLog(alice, pid)
	if got, want := eventTypes(evs), []string{"task_created", "task_updated", "task_updated", "status_changed", "status_changed"}; !slices.Equal(got, want) {
		t.Errorf("events %v, want %v", got, want)
	}
}

func TestTaskIdempotency(t *testing.T) {
	e := newEnv(t)
	_, alice := e.user("alice")
	bobID, bob := e.user("bob")
	pid := e.project(alice, bobID)
	p := "/api/v1/projects/" + itoa(pid) + "/tasks"
	key := []string{"Idempotency-Key", "create-1"}
	body := map[string]any{"title": "once", "description": "d", "assignee_id": bobID}
	first := e.do("POST", p, alice, body, key...)
	id := createdID(t, first)
	if first.Header.Get("ETag") != `"1"` {
		t.Errorf("ETag %q", first.Header.Get("ETag"))
	}
	runScenarios(t, e, []scenario{
		{name: "Retry", method: "POST", path: p, token: alice, body: body, headers: key,
			wantStatus: 201, wantBody: jsonIs(string(first.Body)), wantHeaders: etagHeader(1)},
		{name: "RetryReordered", method: "POST", path: p, token: alice,
			body:    `{"assignee_id": ` + itoa(bobID) + `, "description": "d", "title": "once"}`,
			headers: key, wantStatus: 201, wantBody: jsonIs(string(first.Body))},
		{name: "ErrSameKeyOtherBody", method: "POST", path: p, token: alice, body: map[string]any{"title": "twice"}, headers: key,
			wantStatus: 422, wantBody: invalidAt{loc: []any{"header", "Idempotency-Key"}}},
		// Still the first answer after the refused attempt, even though the
		// task has changed since.
		{name: "Change", method: "PATCH", path: "/api/v1/tasks/" + itoa(id) + "/status", token: alice, body: map[string]string{"status": "done"}, wantStatus: 200},
		{name: "RetryAfterChange", method: "POST", path: p, token: alice, body: body, headers: key,
			wantStatus: 201, wantBody: jsonIs(string(first.Body))},
	})
	// A retry creates nothing.
	r := e.do("GET", p, alice, nil)
	if ids := listIDs(t, r); !slices.Equal(ids, []int64{id}) {
		t.Errorf("tasks %v, want just %d", ids, id)
	}
	if got, want := eventTypes(e.eventLog(alice, pid)), []string{"member_added", "task_created", "status_changed"}; !slices.Equal(got, want) {
		t.Errorf("events %v, want %v", got, want)
	}
	// The same key from another user is another request.
	r = e.do("POST", p, bob, body, key...)
	if bid := createdID(t, r); bid == id {
		t.Errorf("bob's request replayed alice's task %d", id)
	}
	// The same key in another project is another request.
	other := e.project(alice)
	r = e.do("POST", "/api/v1/projects/"+itoa(other)+"/tasks", alice, map[string]any{"title": "once"}, key...)
	if oid := createdID(t, r); oid == id {
		t.Errorf("a request to another project replayed task %d", id)
	}
	// A request refused before creating anything stores nothing.
	k2 := []string{"Idempotency-Key", "create-2"}
	r = e.do("POST", p, alice, map[string]any{"title": "x", "assignee_id": 123456}, k2...)
	expectInvalid(t, r, []any{"body", "assignee_id"}, "")
	r = e.do("POST", p, alice, map[string]any{"title": "x", "assignee_id": 123456}, k2...)
	expectInvalid(t, r, []any{"body", "assignee_id"}, "")
	r = e.do("POST", p, alice, map[string]any{"title": "x"}, k2...)
	createdID(t, r)
}

func TestEvents(t *testing.T) {
	e := newEnv(t)
	aliceID, alice := e.user("alice")
	bobID, bob := e.user("bob")
	_, carol := e.user("carol")
	start := time.Now().Add(-time.Second)
	pid := e.project(alice, bobID)
	p := itoa(pid)
	task := e.task(bob, pid, "evented")
	tk := "/api/v1/tasks/" + itoa(task.ID)
	steps := []struct {
		method, path, token string
		body                any
	}{
		{"PUT", tk, alice, map[string]any{"title": "renamed"}},
		{"PATCH", tk + "/status", bob, map[string]any{"status": "done"}},
		{"PUT", tk, alice, map[string]any{"assignee_id": bobID}},
		{"PATCH", "/api/v1/projects/" + p, alice, map[string]any{"name": "P2"}},
		{"DELETE", "/api/v1/projects/" + p + "/members/" + itoa(bobID), alice, nil},
		{"DELETE", tk, alice, nil},
	}
	for _, s := range steps {
		if r := e.do(s.method, s.path, s.token, s.body); r.Status >= 300 {
			t.Fatalf("%s %s: %d %s", s.method, s.path, r.Status, r.Body)
		}
	}
	wantTypes := []string{"member_added", "task_created", "task_updated", "status_changed", "task_updated",
		"project_updated", "task_updated", "member_removed", "task_deleted"}
	wantActors := []int64{aliceID, bobID, aliceID, bobID, aliceID, aliceID, aliceID, aliceID, aliceID}

	r := e.do("GET", "/api/v1/projects/"+p+"/events", alice, nil)
	if r.Status != 200 {
		t.Fatalf("events: %d %s", r.Status, r.Body)
	}
	var evs []map[string]any
	r.JSON(t, &evs)
	if got := eventTypes(evs); !slices.Equal(got, wantTypes) {
		t.Fatalf("events %v, want %v", got, wantTypes)
	}
	var prevTS time.Time
	for i, ev := range evs {
		expectJSON(t, mustJSON(t, ev), map[string]any{"event": wantTypes[i], "data": "<any>", "seq": float64(i + 1),
			"project_id": float64(pid), "ts": "<rfc3339>", "actor_id": float64(wantActors[i])})
		ts, _ := time.Parse(time.RFC3339, fmt.Sprint(ev["ts"]))
		if ts.Before(start) || ts.After(time.Now().Add(time.Second)) || ts.Before(prevTS) {
			t.Errorf("event %d ts %v out of order or range", i+1, ts)
		}
		prevTS = ts
		if _, ok := ev["data"].(map[string]any); !ok {
			t.Errorf("event %d data %v is not an object", i+1, ev["data"])
		}
	}
	n := len(evs)
	seqs := func(from, to int) func(*testing.T, response) {
		return func(t *testing.T, r response) {
			t.Helper()
			var got []struct{ Seq int64 }
			r.JSON(t, &got)
			var s []int64
			for _, g := range got {
				s = append(s, g.Seq)
			}
			var want []int64
			for i := from; i <= to; i++ {
				want = append(want, int64(i))
			}
			if !slices.Equal(s, want) {
				t.Errorf("seqs %v, want %v", s, want)
			}
		}
	}
	ev := "/api/v1/projects/" + p + "/events"
	runScenarios(t, e, []scenario{
		{name: "SinceZero", method: "GET", path: ev + "?since=0", token: alice, wantStatus: 200, wantBody: seqs(1, n)},
		{name: "Since3", method: "GET", path: ev + "?since=3", token: alice, wantStatus: 200, wantBody: seqs(4, n)},
		{name: "SinceLast", method: "GET", path: ev + "?since=" + strconv.Itoa(n), token: alice, wantStatus: 200, wantBody: jsonIs(`[]`)},
		{name: "SinceFuture", method: "GET", path: ev + "?since=1000", token: alice, wantStatus: 200, wantBody: jsonIs(`[]`)},
		{name: "Limit2", method: "GET", path: ev + "?limit=2", token: alice, wantStatus: 200, wantBody: seqs(1, 2),
			wantHeaders: map[string]string{"Link": "<any>"}},
		{name: "LimitAll", method: "GET", path: ev + "?limit=" + strconv.Itoa(n), token: alice, wantStatus: 200, wantBody: seqs(1, n),
			wantHeaders: map[string]string{"Link": "<absent>"}},
		{name: "ErrSinceNegative", method: "GET", path: ev + "?since=-1", token: alice, wantStatus: 422, wantBody: invalidAt{loc: []any{"query", "since"}}},
		{name: "ErrSinceNotInteger", method: "GET", path: ev + "?since=abc", token: alice, wantStatus: 422, wantBody: invalidAt{loc: []any{"query", "since"}}},
		{name: "ErrLimitZero", method: "GET", path: ev + "?limit=0", token: alice, wantStatus: 422, wantBody: invalidAt{loc: []any{"query", "limit"}}},
		{name: "ErrLimit501", method: "GET", path: ev + "?limit=501", token: alice, wantStatus: 422, wantBody: invalidAt{loc: []any{"query", "limit"}}},
		{name: "ErrLimitNotInteger", method: "GET", path: ev + "?limit=x", token: alice, wantStatus: 422, wantBody: invalidAt{loc: []any{"query", "limit"}}},
		{name: "ErrRemovedMember", method: "GET", path: ev, token: bob, wantStatus: 403, wantBody: detailIs("Not a member of this project")},
		{name: "ErrStranger", method: "GET", path: ev, token: carol, wantStatus: 403, wantBody: detailIs("Not a member of this project")},
		{name: "ErrNotFound", method: "GET", path: "/api/v1/projects/9999/events", token: alice, wantStatus: 404, wantBody: detailIs("Project not found")},
		{name: "ErrIDNotInteger", method: "GET", path: "/api/v1/projects/x/events", token: alice, wantStatus: 422, wantBody: invalidAt{loc: []any{"path", "project_id"}}},
	})
	for _, limit := range []int{1, 2, 4, n} {
		for _, since := range []int{0, 2} {
			t.Run(fmt.Sprintf("Pages since=%d limit=%d", since, limit), func(t *testing.T) {
				got, _ := collectPages(t, e, alice, fmt.Sprintf("%s?since=%d&limit=%d", ev, since, limit), limit)
				var want []int64
				for i := since + 1; i <= n; i++ {
					want = append(want, int64(i))
				}
				if !slices.Equal(got, want) {
					t.Errorf("pages hold seqs %v, want %v", got, want)
				}
			})
		}
	}
	t.Run("LinkUsesSince", func(t *testing.T) {
		r := e.as(t).do("GET", ev+"?limit=3", alice, nil)
		next := nextPage(t, r)
		if !strings.Contains(next, "since=3") || !strings.Contains(next, "limit=3") {
			t.Errorf("Link names %q, want since=3 and limit=3", next)
		}
	})
	t.Run("SeqPerProject", func(t *testing.T) {
		other := e.as(t).project(alice)
		e.as(t).task(alice, other, "x")
		evs := e.as(t).eventLog(alice, other)
		if len(evs) != 1 || evs[0]["seq"] != float64(1) || evs[0]["project_id"] != float64(other) {
			t.Errorf("another project's log %v, want one event with seq 1", evs)
		}
	})
	t.Run("NoEventForNoChange", func(t *testing.T) {
		other := e.as(t).project(alice)
		tsk := e.as(t).task(alice, other, "same")
		path := "/api/v1/tasks/" + itoa(tsk.ID)
		for _, c := range []struct {
			method, path string
			body         any
		}{
			{"PUT", path, map[string]any{"title": "same"}},
			{"PUT", path, map[string]any{"status": "todo", "assignee_id": nil, "description": nil}},
			{"PUT", path, map[string]any{}},
			{"PATCH", path + "/status", map[string]any{"status": "todo"}},
		} {
			r := e.as(t).do(c.method, c.path, alice, c.body)
			if r.Status != 200 || r.Header.Get("ETag") != `"1"` {
				t.Errorf("%s %s %v: %d %s ETag %q, want 200 version 1", c.method, c.path, c.body, r.Status, r.Body, r.Header.Get("ETag"))
			}
		}
		if got := eventTypes(e.as(t).eventLog(alice, other)); !slices.Equal(got, []string{"task_created"}) {
			t.Errorf("no-op updates wrote events: %v", got)
		}
	})
}

// TestFieldNamesAreCaseSensitive: pydantic matches body fields by their
// exact names and ignores other keys, so {"TITLE": ...} changes nothing on
// the seed. "PUT applies only the fields sent" means the fields named so.
// Each row works on its own task.
func TestFieldNamesAreCaseSensitive(t *testing.T) {
	e := newEnv(t)
	aliceID, alice := e.user("alice")
	pid := e.project(alice)
	fresh := func() (string, func(status string, version int64) jsonIs) {
		task := e.task(alice, pid, "original")
		return "/api/v1/tasks/" + itoa(task.ID), func(status string, version int64) jsonIs {
			return jsonIs(taskJSON(task.ID, pid, "original", nil, status, nil, version))
		}
	}
	t1, j1 := fresh()
	t2, j2 := fresh()
	t3, j3 := fresh()
	t4, j4 := fresh()
	p := "/api/v1/projects/" + itoa(pid) + "/tasks"
	runScenarios(t, e, []scenario{
		{name: "PutUppercaseTitleIgnored", method: "PUT", path: t1, token: alice, body: `{"TITLE": "changed"}`,
			wantStatus: 200, wantBody: j1("todo", 1), wantHeaders: etagHeader(1)},
		{name: "PutCapitalizedStatusIgnored", method: "PUT", path: t2, token: alice, body: `{"Status": "done"}`,
			wantStatus: 200, wantBody: j2("todo", 1), wantHeaders: etagHeader(1)},
		{name: "PutOtherSpellingDoesNotOverride", method: "PUT", path: t3, token: alice, body: `{"status": "done", "Status": null}`,
			wantStatus: 200, wantBody: j3("done", 2), wantHeaders: etagHeader(2)},
		{name: "StatusRouteUppercaseIgnored", method: "PATCH", path: t4 + "/status", token: alice, body: `{"status": "todo", "STATUS": "in_progress"}`,
			wantStatus: 200, wantBody: j4("todo", 1), wantHeaders: etagHeader(1)},
		{name: "CreateCapitalizedStatusIgnored", method: "POST", path: p, token: alice, body: `{"title": "a", "Status": "done"}`,
			wantStatus: 201, wantBody: func(t *testing.T, r response) {
				var got taskBody
				r.JSON(t, &got)
				if got.Status != "todo" {
					t.Errorf("status %q, want todo", got.Status)
				}
			}},
		{name: "SignupOtherSpellingIgnored", method: "POST", path: "/api/v1/auth/signup",
			body:       `{"email": "u@example.com", "username": "u", "password": "pw", "USERNAME": "v"}`,
			wantStatus: 201, wantBody: jsonIs(`{"email": "u@example.com", "username": "u", "id": "<int>"}`)},
		{name: "ProjectOtherSpellingIgnored", method: "POST", path: "/api/v1/projects/", token: alice, body: `{"name": "a", "Name": "b"}`,
			wantStatus: 201, wantBody: jsonIs(projectJSON(pid+1, "a", nil, aliceID))},
	})
}
