package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// labeledTask is the part of a task body these tests look at.
type labeledTask struct {
	ID      int64
	Version int64
	DueAt   *time.Time `json:"due_at"`
	Labels  []string
}

func TestTaskLabelsAndDueDates(t *testing.T) {
	e := newEnv(t)
	_, alice := e.user("alice")
	pid := e.project(alice)
	tasks := "/api/v1/projects/" + itoa(pid) + "/tasks"
	create := func(body map[string]any) labeledTask {
		t.Helper()
		r := e.do("POST", tasks, alice, body)
		if r.Status != 201 {
			t.Fatalf("create %v: %d %s", body, r.Status, r.Body)
		}
		var lt labeledTask
		r.JSON(t, &lt)
		return lt
	}

	past := time.Now().Add(-time.Hour).UTC().Truncate(time.Second)
	future := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Second)
	a := create(map[string]any{"title": "a", "labels": []string{" Bug ", "ui", "bug"}, "due_at": past.Format(time.RFC3339)})
	if !slices.Equal(a.Labels, []string{"Bug", "ui"}) {
		t.Errorf("labels = %q, want trimmed, repeats dropped, first spelling kept", a.Labels)
	}
	if a.DueAt == nil || !a.DueAt.Equal(past) {
		t.Errorf("due_at = %v, want %v", a.DueAt, past)
	}
	b := create(map[string]any{"title": "b", "labels": []string{"BUG", "naïve"}, "due_at": future.Format(time.RFC3339), "status": "in_progress"})
	c := create(map[string]any{"title": "c", "labels": []string{"日本語"}, "due_at": past.Format(time.RFC3339), "status": "done"})
	d := create(map[string]any{"title": "d"})

	t.Run("Filters", func(t *testing.T) {
		tests := []struct {
			query url.Values
			want  []int64
		}{
			{url.Values{"label": {"bug"}}, []int64{a.ID, b.ID}},
			{url.Values{"label": {"BUG", "Naïve"}}, []int64{b.ID}},
			{url.Values{"label": {"日本語"}}, []int64{c.ID}},
			{url.Values{"label": {"none"}}, nil},
			{url.Values{"overdue": {"true"}}, []int64{a.ID}},
			{url.Values{"overdue": {"false"}}, []int64{b.ID, c.ID, d.ID}},
			{url.Values{"due_before": {time.Now().UTC().Format(time.RFC3339)}}, []int64{a.ID, c.ID}},
			{url.Values{"due_before": {time.Now().UTC().Format(time.RFC3339)}, "status": {"done"}}, []int64{c.ID}},
		}
		for _, tc := range tests {
			t.Run(tc.query.Encode(), func(t *testing.T) {
				r := e.as(t).do("GET", tasks+"?"+tc.query.Encode(), alice, nil)
				if r.Status != 200 {
					t.Fatalf("%d %s", r.Status, r.Body)
				}
				if got := listIDs(t, r); !slices.Equal(got, tc.want) {
					t.Errorf("ids = %v, want %v", got, tc.want)
				}
			})
		}
	})

	t.Run("Counts", func(t *testing.T) {
		r := e.as(t).do("GET", "/api/v1/projects/"+itoa(pid)+"/labels", alice, nil)
		var got []struct {
			Name  string
			Count int64
		}
		r.JSON(t, &got)
		want := `[{Bug 2} {naïve 1} {ui 1} {日本語 1}]`
		if s := fmt.Sprint(got); s != want {
			t.Errorf("labels = %s, want %s", s, want)
		}
	})

	t.Run("PutReplacesAndClears", func(t *testing.T) {
		r := e.as(t).do("PUT", "/api/v1/tasks/"+itoa(a.ID), alice, map[string]any{"labels": []string{"later"}, "due_at": nil})
		var got labeledTask
		r.JSON(t, &got)
		if !slices.Equal(got.Labels, []string{"later"}) || got.DueAt != nil || got.Version != a.Version+1 {
			t.Errorf("after PUT: %+v, want labels [later], no due date, version %d", got, a.Version+1)
		}
		r = e.as(t).do("PUT", "/api/v1/tasks/"+itoa(a.ID), alice, map[string]any{"labels": []string{"LATER"}})
		r.JSON(t, &got)
		if got.Version != a.Version+2 || !slices.Equal(got.Labels, []string{"LATER"}) {
			t.Errorf("a new spelling is a change: %+v", got)
		}
		r = e.as(t).do("PUT", "/api/v1/tasks/"+itoa(a.ID), alice, map[string]any{"labels": []string{"LATER"}})
		r.JSON(t, &got)
		if got.Version != a.Version+2 {
			t.Errorf("the same labels again changed the version to %d", got.Version)
		}
		r = e.as(t).do("PUT", "/api/v1/tasks/"+itoa(a.ID), alice, `{"labels": null}`)
		r.JSON(t, &got)
		if got.Labels == nil || len(got.Labels) != 0 {
			t.Errorf("labels null: %#v, want []", got.Labels)
		}
		if ids := listIDs(t, e.as(t).do("GET", tasks+"?label=later", alice, nil)); len(ids) != 0 {
			t.Errorf("the filter still finds the cleared label on %v", ids)
		}
	})

	t.Run("Errors", func(t *testing.T) {
		many := make([]string, 21)
		for i := range many {
			many[i] = "l" + itoa(int64(i))
		}
		task := "/api/v1/tasks/" + itoa(b.ID)
		runScenarios(t, e, []scenario{
			{name: "TooMany", method: "POST", path: tasks, token: alice, body: map[string]any{"title": "x", "labels": many},
				wantStatus: 422, wantBody: invalidAt{loc: []any{"body", "labels"}}},
			{name: "TwentyAfterRepeatsDropped", method: "POST", path: tasks, token: alice,
				body: map[string]any{"title": "x", "labels": append(many[:20:20], "L0")}, wantStatus: 201},
			{name: "Empty", method: "POST", path: tasks, token: alice, body: map[string]any{"title": "x", "labels": []string{"  "}},
				wantStatus: 422, wantBody: invalidAt{loc: []any{"body", "labels"}}},
			{name: "TooLong", method: "PUT", path: task, token: alice, body: map[string]any{"labels": []string{strings.Repeat("é", 51)}},
				wantStatus: 422, wantBody: invalidAt{loc: []any{"body", "labels"}}},
			{name: "NotStrings", method: "PUT", path: task, token: alice, body: `{"labels": [1, 2]}`,
				wantStatus: 422, wantBody: invalidAt{loc: []any{"body", "labels", 0}}},
			{name: "DueNotATime", method: "POST", path: tasks, token: alice, body: map[string]any{"title": "x", "due_at": "tomorrow"},
				wantStatus: 422, wantBody: invalidAt{loc: []any{"body", "due_at"}}},
			{name: "DueBeforeNotATime", method: "GET", path: tasks + "?due_before=soon", token: alice,
				wantStatus: 422, wantBody: invalidAt{loc: []any{"query", "due_before"}}},
			{name: "OverdueNotABool", method: "GET", path: tasks + "?overdue=yes", token: alice,
				wantStatus: 422, wantBody: invalidAt{loc: []any{"query", "overdue"}}},
		})
	})
}

func TestTaskUpdatedCarriesLabelsAndDueDate(t *testing.T) {
	e := newEnv(t)
	_, alice := e.user("alice")
	pid := e.project(alice)
	task := e.task(alice, pid, "t")
	ws, _, err := e.dial(t.Context(), pid, alice, "&v=2")
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	due := "2031-01-02T03:04:05Z"
	if r := e.do("PUT", "/api/v1/tasks/"+itoa(task.ID), alice, map[string]any{"labels": []string{"x"}, "due_at": due}); r.Status != 200 {
		t.Fatalf("PUT: %d %s", r.Status, r.Body)
	}
	for {
		ev := read(t, t.Context(), ws)
		if ev.Event != "task_updated" {
			continue
		}
		var data struct {
			Labels []string
			DueAt  string `json:"due_at"`
		}
		if err := json.Unmarshal(ev.Data, &data); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(data.Labels, []string{"x"}) || data.DueAt != due {
			t.Errorf("task_updated data = %s, want labels [x] and due_at %s", ev.Data, due)
		}
		return
	}
}
