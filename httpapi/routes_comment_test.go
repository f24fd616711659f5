package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/taskwire/taskwire"
	"github.com/taskwire/taskwire/internal/smtptest"
)

// commentJSON is a comment body as the contract gives it.
func commentJSON(id, taskID, projectID, authorID int64, body string, mentions ...int64) string {
	b, _ := json.Marshal(body)
	if mentions == nil {
		mentions = []int64{}
	}
	m, _ := json.Marshal(mentions)
	return fmt.Sprintf(`{"id": %d, "task_id": %d, "project_id": %d, "author_id": %d, "body": %s, "mentions": %s,
		"created_at": "<rfc3339>", "updated_at": "<rfc3339>"}`, id, taskID, projectID, authorID, b, m)
}

// comment posts a comment on a task and returns its id.
func (e *env) comment(token string, taskID int64, body string) int64 {
	e.t.Helper()
	r := e.do("POST", "/api/v1/tasks/"+itoa(taskID)+"/comments", token, map[string]string{"body": body})
	if r.Status != http.StatusCreated {
		e.t.Fatalf("comment %q: %d %s", body, r.Status, r.Body)
	}
	var c struct{ ID int64 }
	r.JSON(e.t, &c)
	return c.ID
}

// inboxNote is what the comment tests read of a notification.
type inboxNote struct {
	Type    string `json:"type"`
	TaskID  *int64 `json:"task_id"`
	ActorID int64  `json:"actor_id"`
	Data    struct {
		CommentID int64  `json:"comment_id"`
		TaskID    int64  `json:"task_id"`
		ProjectID int64  `json:"project_id"`
		Title     string `json:"title"`
	} `json:"data"`
}

// inbox returns token's user's notifications, oldest first.
func (e *env) inbox(token string) []inboxNote {
	e.t.Helper()
	r := e.do("GET", "/api/v1/notifications", token, nil)
	if r.Status != http.StatusOK {
		e.t.Fatalf("inbox: %d %s", r.Status, r.Body)
	}
	var ns []inboxNote
	r.JSON(e.t, &ns)
	slices.Reverse(ns)
	return ns
}

// commentNotes returns the types and comment ids of an inbox's comment
// notifications, as "mentioned:3".
func commentNotes(ns []inboxNote) []string {
	out := []string{}
	for _, n := range ns {
		if n.Type == "mentioned" || n.Type == "task_commented" {
			out = append(out, n.Type+":"+itoa(n.Data.CommentID))
		}
	}
	return out
}

func TestCommentCreate(t *testing.T) {
	e := newEnv(t)
	aliceID, alice := e.user("alice")
	bobID, bob := e.user("bob")
	carolID, carol := e.user("carol")
	_, dave := e.user("dave")
	pid := e.project(alice, bobID, carolID)
	task := e.task(alice, pid, "write docs")
	p := "/api/v1/tasks/" + itoa(task.ID) + "/comments"
	long := strings.Repeat("é", 10000)
	// Comment ids are sequential in a fresh database.
	runScenarios(t, e, []scenario{
		{name: "OKPlain", method: "POST", path: p, token: alice, body: map[string]string{"body": "Looks good"},
			wantStatus: 201, wantBody: jsonIs(commentJSON(1, task.ID, pid, aliceID, "Looks good"))},
		{name: "OKMentionsWithPunctuationAnyCase", method: "POST", path: p, token: bob, body: map[string]string{"body": "(@Carol), ask @ALICE."},
			wantStatus: 201, wantBody: jsonIs(commentJSON(2, task.ID, pid, bobID, "(@Carol), ask @ALICE.", aliceID, carolID))},
		{name: "OKNotMentions", method: "POST", path: p, token: alice, body: map[string]string{"body": "mail bob@example.com, `@bob`, @dave, @bobby"},
			wantStatus: 201, wantBody: jsonIs(commentJSON(3, task.ID, pid, aliceID, "mail bob@example.com, `@bob`, @dave, @bobby"))},
		{name: "OKLongestBody", method: "POST", path: p, token: alice, body: map[string]string{"body": long},
			wantStatus: 201, wantBody: jsonIs(commentJSON(4, task.ID, pid, aliceID, long))},
		{name: "OKKeptAsSent", method: "POST", path: p, token: alice, body: map[string]string{"body": "  padded\n"},
			wantStatus: 201, wantBody: jsonIs(commentJSON(5, task.ID, pid, aliceID, "  padded\n"))},
		{name: "OKUnknownFieldIgnored", method: "POST", path: p, token: alice, body: map[string]any{"body": "x", "author_id": bobID},
			wantStatus: 201, wantBody: jsonIs(commentJSON(6, task.ID, pid, aliceID, "x"))},
		{name: "ErrBodyEmpty", method: "POST", path: p, token: alice, body: map[string]string{"body": ""},
			wantStatus: 422, wantBody: invalidAt{loc: []any{"body", "body"}, typ: "string_too_short"}},
		{name: "ErrBodyTooLong", method: "POST", path: p, token: alice, body: map[string]string{"body": long + "x"},
			wantStatus: 422, wantBody: invalidAt{loc: []any{"body", "body"}, typ: "string_too_long"}},
		{name: "ErrBodyMissing", method: "POST", path: p, token: alice, body: map[string]string{"text": "x"},
			wantStatus: 422, wantBody: invalidAt{loc: []any{"body", "body"}, typ: "missing"}},
		{name: "ErrBodyNull", method: "POST", path: p, token: alice, body: `{"body": null}`,
			wantStatus: 422, wantBody: invalidAt{loc: []any{"body", "body"}}},
		{name: "ErrBodyWrongType", method: "POST", path: p, token: alice, body: map[string]any{"body": 7},
			wantStatus: 422, wantBody: invalidAt{loc: []any{"body", "body"}}},
		{name: "ErrBodyNUL", method: "POST", path: p, token: alice, body: `{"body": "a\u0000b"}`,
			wantStatus: 422, wantBody: invalidAt{loc: []any{"body", "body"}}},
		{name: "ErrMalformed", method: "POST", path: p, token: alice, body: `{"body": "x"`,
			wantStatus: 422, wantBody: invalidAt{}},
		{name: "ErrStranger", method: "POST", path: p, token: dave, body: map[string]string{"body": "x"},
			wantStatus: 403, wantBody: detailIs("Not a member of this project")},
		{name: "ErrTaskNotFound", method: "POST", path: "/api/v1/tasks/9999/comments", token: alice, body: map[string]string{"body": "x"},
			wantStatus: 404, wantBody: detailIs("Task not found")},
		{name: "ErrTaskIDNotInteger", method: "POST", path: "/api/v1/tasks/x/comments", token: alice, body: map[string]string{"body": "x"},
			wantStatus: 422, wantBody: invalidAt{loc: []any{"path", "task_id"}}},
		{name: "NothingCreatedByErrors", method: "GET", path: p, token: carol, wantStatus: 200,
			wantBody: func(t *testing.T, r response) {
				if ids := listIDs(t, r); !slices.Equal(ids, []int64{1, 2, 3, 4, 5, 6}) {
					t.Errorf("comments %v, want 1..6", ids)
				}
			}},
	})

	evs := e.as(t).eventLog(alice, pid)
	var added []map[string]any
	for _, ev := range evs {
		if ev["event"] == "comment_added" {
			added = append(added, ev)
		}
	}
	if len(added) != 6 {
		t.Fatalf("%d comment_added events, want 6: %v", len(added), eventTypes(evs))
	}
	expectJSON(t, mustJSON(t, added[1]["data"]), mustDecode(t, commentJSON(2, task.ID, pid, bobID, "(@Carol), ask @ALICE.", aliceID, carolID)))
	if added[1]["actor_id"] != float64(bobID) {
		t.Errorf("comment_added by bob has actor %v", added[1]["actor_id"])
	}

	t.Run("Idempotency", func(t *testing.T) {
		e := e.as(t)
		first := e.do("POST", p, bob, map[string]string{"body": "once"}, "Idempotency-Key", "k1")
		again := e.do("POST", p, bob, map[string]string{"body": "once"}, "Idempotency-Key", "k1")
		if first.Status != 201 || again.Status != 201 || string(first.Body) != string(again.Body) {
			t.Fatalf("retry answered %d %s, first %d %s", again.Status, again.Body, first.Status, first.Body)
		}
		other := e.do("POST", p, bob, map[string]string{"body": "twice"}, "Idempotency-Key", "k1")
		checkScenario(t, scenario{method: "POST", path: p, wantStatus: 422}, other)
		expectInvalid(t, other, []any{"header", "Idempotency-Key"}, "")
		// The same key on another task's route is another request.
		elsewhere := e.task(alice, pid, "other")
		if r := e.do("POST", "/api/v1/tasks/"+itoa(elsewhere.ID)+"/comments", bob, map[string]string{"body": "once"}, "Idempotency-Key", "k1"); r.Status != 201 {
			t.Fatalf("same key, other task: %d %s", r.Status, r.Body)
		}
		n := 0
		for _, ev := range e.eventLog(alice, pid) {
			if ev["event"] == "comment_added" {
				n++
			}
		}
		if n != 6+2 {
			t.Errorf("%d comment_added events, want 8 (the retry created nothing)", n)
		}
	})
}

func TestCommentList(t *testing.T) {
	e := newEnv(t)
	_, alice := e.user("alice")
	bobID, bob := e.user("bob")
	_, carol := e.user("carol")
	pid := e.project(alice, bobID)
	task, other := e.task(alice, pid, "t"), e.task(alice, pid, "other")
	p := "/api/v1/tasks/" + itoa(task.ID) + "/comments"
	var want []int64
	for i := range 7 {
		tok := []string{alice, bob}[i%2]
		want = append(want, e.comment(tok, task.ID, "c"+itoa(int64(i))))
		e.comment(alice, other.ID, "elsewhere") // interleaved ids of another task
	}
	seq := func(t *testing.T, r response) {
		t.Helper()
		if ids := listIDs(t, r); !slices.Equal(ids, want) {
			t.Errorf("ids %v, want %v (oldest first)", ids, want)
		}
		last := e.as(t).eventLog(alice, pid)
		if got, wantSeq := r.Header.Get("X-Event-Seq"), fmt.Sprint(last[len(last)-1]["seq"]); got != wantSeq {
			t.Errorf("X-Event-Seq %q, want %s", got, wantSeq)
		}
	}
	rows := []scenario{
		{name: "All", method: "GET", path: p, token: bob, wantStatus: 200, wantBody: seq, wantHeaders: map[string]string{"Link": "<absent>"}},
		{name: "Empty", method: "GET", path: "/api/v1/tasks/" + itoa(e.task(alice, pid, "quiet").ID) + "/comments", token: alice,
			wantStatus: 200, wantBody: jsonIs(`[]`)},
		{name: "ErrStranger", method: "GET", path: p, token: carol, wantStatus: 403, wantBody: detailIs("Not a member of this project")},
		{name: "ErrTaskNotFound", method: "GET", path: "/api/v1/tasks/9999/comments", token: alice, wantStatus: 404, wantBody: detailIs("Task not found")},
		{name: "ErrTaskIDNotInteger", method: "GET", path: "/api/v1/tasks/x/comments", token: alice, wantStatus: 422, wantBody: invalidAt{loc: []any{"path", "task_id"}}},
	}
	rows = append(rows, pagingRows(p, alice)...)
	runScenarios(t, e, rows)
	for _, limit := range []int{1, 2, 3, 7, 500} {
		t.Run(fmt.Sprintf("Pages limit=%d", limit), func(t *testing.T) {
			got, pages := collectPages(t, e, bob, p+"?limit="+itoa(int64(limit)), limit)
			if !slices.Equal(got, want) {
				t.Errorf("pages hold %v, want %v", got, want)
			}
			if wantPages := (len(want) + limit - 1) / limit; pages != wantPages {
				t.Errorf("%d pages, want %d", pages, wantPages)
			}
		})
	}
}

func TestCommentEditDelete(t *testing.T) {
	e := newEnv(t)
	aliceID, alice := e.user("alice") // the owner
	bobID, bob := e.user("bob")
	carolID, carol := e.user("carol")
	_, dave := e.user("dave")
	pid := e.project(alice, bobID, carolID)
	task := e.task(alice, pid, "t")
	c := e.comment(bob, task.ID, "first")
	byCarol := e.comment(carol, task.ID, "carol's")
	byAlice := e.comment(alice, task.ID, "alice's")
	path := func(id int64) string { return "/api/v1/comments/" + itoa(id) }
	updated := func(body string, mentions ...int64) func(*testing.T, response) {
		return func(t *testing.T, r response) {
			t.Helper()
			checkBody(t, r, jsonIs(commentJSON(c, task.ID, pid, bobID, body, mentions...)))
			var v struct {
				CreatedAt time.Time `json:"created_at"`
				UpdatedAt time.Time `json:"updated_at"`
			}
			r.JSON(t, &v)
			if !v.UpdatedAt.After(v.CreatedAt) {
				t.Errorf("updated_at %v not after created_at %v", v.UpdatedAt, v.CreatedAt)
			}
		}
	}
	before := len(e.eventLog(alice, pid))
	runScenarios(t, e, []scenario{
		{name: "EditByAuthor", method: "PATCH", path: path(c), token: bob, body: map[string]string{"body": "second, @carol"},
			wantStatus: 200, wantBody: updated("second, @carol", carolID)},
		{name: "EditNoChange", method: "PATCH", path: path(c), token: bob, body: map[string]string{"body": "second, @carol"},
			wantStatus: 200, wantBody: updated("second, @carol", carolID)},
		{name: "ErrEditByMember", method: "PATCH", path: path(c), token: carol, body: map[string]string{"body": "hijack"},
			wantStatus: 403, wantBody: detailIs("Only the author can edit this comment")},
		{name: "ErrEditByOwner", method: "PATCH", path: path(c), token: alice, body: map[string]string{"body": "hijack"},
			wantStatus: 403, wantBody: detailIs("Only the author can edit this comment")},
		{name: "ErrEditByStranger", method: "PATCH", path: path(c), token: dave, body: map[string]string{"body": "hijack"},
			wantStatus: 403, wantBody: detailIs("Not a member of this project")},
		{name: "ErrEditEmpty", method: "PATCH", path: path(c), token: bob, body: map[string]string{"body": ""},
			wantStatus: 422, wantBody: invalidAt{loc: []any{"body", "body"}}},
		{name: "ErrEditTooLong", method: "PATCH", path: path(c), token: bob, body: map[string]string{"body": strings.Repeat("x", 10001)},
			wantStatus: 422, wantBody: invalidAt{loc: []any{"body", "body"}}},
		{name: "ErrEditMissingBody", method: "PATCH", path: path(c), token: bob, body: map[string]string{},
			wantStatus: 422, wantBody: invalidAt{loc: []any{"body", "body"}, typ: "missing"}},
		{name: "ErrEditNotFound", method: "PATCH", path: path(9999), token: bob, body: map[string]string{"body": "x"},
			wantStatus: 404, wantBody: detailIs("Comment not found")},
		{name: "ErrEditIDNotInteger", method: "PATCH", path: "/api/v1/comments/x", token: bob, body: map[string]string{"body": "x"},
			wantStatus: 422, wantBody: invalidAt{loc: []any{"path", "comment_id"}}},
		{name: "Unchanged", method: "GET", path: "/api/v1/tasks/" + itoa(task.ID) + "/comments?limit=1", token: carol,
			wantStatus: 200, wantBody: func(t *testing.T, r response) {
				var cs []map[string]any
				r.JSON(t, &cs)
				if len(cs) != 1 || cs[0]["body"] != "second, @carol" {
					t.Errorf("comment after refused edits: %s", r.Body)
				}
			}},

		{name: "ErrDeleteByMember", method: "DELETE", path: path(c), token: carol, wantStatus: 403, wantBody: detailIs("Not authorized to delete this comment")},
		{name: "ErrDeleteByStranger", method: "DELETE", path: path(c), token: dave, wantStatus: 403, wantBody: detailIs("Not a member of this project")},
		{name: "ErrDeleteNotFound", method: "DELETE", path: path(9999), token: alice, wantStatus: 404, wantBody: detailIs("Comment not found")},
		{name: "DeleteByAuthor", method: "DELETE", path: path(c), token: bob, wantStatus: 204},
		{name: "DeleteByOwner", method: "DELETE", path: path(byCarol), token: alice, wantStatus: 204},
		{name: "DeleteOwnByOwner", method: "DELETE", path: path(byAlice), token: alice, wantStatus: 204},
		{name: "ErrDeleteAgain", method: "DELETE", path: path(c), token: bob, wantStatus: 404, wantBody: detailIs("Comment not found")},
		{name: "ErrEditDeleted", method: "PATCH", path: path(c), token: bob, body: map[string]string{"body": "back"},
			wantStatus: 404, wantBody: detailIs("Comment not found")},
		{name: "NoneLeft", method: "GET", path: "/api/v1/tasks/" + itoa(task.ID) + "/comments", token: alice, wantStatus: 200, wantBody: jsonIs(`[]`)},
	})
	evs := e.as(t).eventLog(alice, pid)[before:]
	if got := eventTypes(evs); !slices.Equal(got, []string{"comment_updated", "comment_deleted", "comment_deleted", "comment_deleted"}) {
		t.Fatalf("events %v, want one comment_updated (the no-op edit emits nothing) and three comment_deleted", got)
	}
	expectJSON(t, mustJSON(t, evs[0]["data"]), mustDecode(t, commentJSON(c, task.ID, pid, bobID, "second, @carol", carolID)))
	expectJSON(t, mustJSON(t, evs[1]["data"]), map[string]any{"id": float64(c), "task_id": float64(task.ID), "project_id": float64(pid)})
	if evs[2]["actor_id"] != float64(aliceID) {
		t.Errorf("the owner's delete has actor %v", evs[2]["actor_id"])
	}
}

// TestCommentMentionNotifications: who is notified of a comment, and of
// an edit.
func TestCommentMentionNotifications(t *testing.T) {
	e := newEnv(t)
	aliceID, alice := e.user("alice") // the owner
	bobID, bob := e.user("bob")
	carolID, carol := e.user("carol")
	erinID, erin := e.user("erin") // the assignee
	daveID, dave := e.user("dave") // not a member
	pid := e.project(alice, bobID, carolID, erinID)
	task := e.task(alice, pid, "ship it")
	if r := e.do("PUT", "/api/v1/tasks/"+itoa(task.ID), alice, map[string]any{"assignee_id": erinID}); r.Status != 200 {
		t.Fatalf("assign erin: %d %s", r.Status, r.Body)
	}
	unassigned := e.task(alice, pid, "nobody's")
	all := map[string]string{"alice": alice, "bob": bob, "carol": carol, "erin": erin, "dave": dave}
	want := map[string][]string{"alice": {}, "bob": {}, "carol": {}, "erin": {}, "dave": {}}
	check := func(t *testing.T, step string) {
		t.Helper()
		for name, tok := range all {
			if got := commentNotes(e.as(t).inbox(tok)); !slices.Equal(got, want[name]) {
				t.Errorf("after %s, %s's comment notifications = %v, want %v", step, name, got, want[name])
			}
		}
	}
	mentions := func(t *testing.T, id int64, wantIDs ...int64) {
		t.Helper()
		r := e.as(t).do("GET", "/api/v1/tasks/"+itoa(task.ID)+"/comments", alice, nil)
		var cs []struct {
			ID       int64   `json:"id"`
			Mentions []int64 `json:"mentions"`
		}
		r.JSON(t, &cs)
		i := slices.IndexFunc(cs, func(c struct {
			ID       int64   `json:"id"`
			Mentions []int64 `json:"mentions"`
		}) bool {
			return c.ID == id
		})
		if wantIDs == nil {
			wantIDs = []int64{}
		}
		if i < 0 || !slices.Equal(cs[i].Mentions, wantIDs) {
			t.Errorf("comment %d mentions %v, want %v", id, cs, wantIDs)
		}
	}
	id := func(n int64) string { return itoa(n) }

	// Alice mentions bob (in another case, with punctuation) and herself:
	// bob is mentioned, erin (the assignee) hears of a comment, alice of
	// nothing.
	c1 := e.comment(alice, task.ID, "(@BOB), please; cc @alice")
	mentions(t, c1, aliceID, bobID)
	want["bob"] = append(want["bob"], "mentioned:"+id(c1))
	want["erin"] = append(want["erin"], "task_commented:"+id(c1))
	check(t, "a comment mentioning bob and its author")

	// Mentioning the assignee: a mention, not also task_commented.
	c2 := e.comment(bob, task.ID, "@erin: done?")
	want["erin"] = append(want["erin"], "mentioned:"+id(c2))
	check(t, "a comment mentioning the assignee")

	// The assignee's own comment notifies nobody; a non-member mentioned
	// is not listed nor notified; an email address is not a mention.
	c3 := e.comment(erin, task.ID, "yes — told @dave and dave@example.com")
	mentions(t, c3)
	check(t, "the assignee's comment mentioning a non-member")

	// A task without an assignee: only the mentioned hear of it.
	c4 := e.comment(bob, unassigned.ID, "@carol.")
	want["carol"] = append(want["carol"], "mentioned:"+id(c4))
	check(t, "a comment on an unassigned task")

	edit := func(t *testing.T, tok string, id int64, body string) {
		t.Helper()
		if r := e.as(t).do("PATCH", "/api/v1/comments/"+itoa(id), tok, map[string]string{"body": body}); r.Status != 200 {
			t.Fatalf("edit %d: %d %s", id, r.Status, r.Body)
		}
	}
	// An edit adding carol notifies carol only: not bob again, and not the
	// assignee (task_commented is for new comments).
	edit(t, alice, c1, "(@BOB), please; cc @alice and @Carol!")
	mentions(t, c1, aliceID, bobID, carolID)
	want["carol"] = append(want["carol"], "mentioned:"+id(c1))
	check(t, "an edit adding carol")

	// An edit removing bob notifies nobody.
	edit(t, alice, c1, "cc @alice and @Carol!")
	mentions(t, c1, aliceID, carolID)
	check(t, "an edit removing bob")

	// Mentioned again after the removal: new to the body it replaces.
	edit(t, alice, c1, "cc @alice, @Carol and @bob")
	mentions(t, c1, aliceID, bobID, carolID)
	want["bob"] = append(want["bob"], "mentioned:"+id(c1))
	check(t, "an edit mentioning bob again")

	// A member added later can be mentioned in an edit.
	e.do("POST", "/api/v1/projects/"+itoa(pid)+"/members", alice, map[string]int64{"user_id": daveID})
	edit(t, erin, c3, "yes — told @dave")
	mentions(t, c3, daveID)
	want["dave"] = append(want["dave"], "mentioned:"+id(c3))
	check(t, "an edit mentioning a new member")

	// Deleting a comment notifies nobody.
	if r := e.do("DELETE", "/api/v1/comments/"+itoa(c2), bob, nil); r.Status != 204 {
		t.Fatalf("delete: %d %s", r.Status, r.Body)
	}
	check(t, "a delete")

	// The data names the comment, its task and project, with the task's title.
	for _, n := range e.inbox(bob) {
		if n.Type != "mentioned" {
			continue
		}
		if n.Data.CommentID != c1 || n.Data.TaskID != task.ID || n.Data.ProjectID != pid || n.Data.Title != "ship it" ||
			n.TaskID == nil || *n.TaskID != task.ID || n.ActorID != aliceID {
			t.Errorf("bob's mention %+v, want comment %d of task %d in project %d by %d", n, c1, task.ID, pid, aliceID)
		}
	}
}

// TestCommentEventsOnSocket: a protocol 2 socket receives comment_added,
// comment_updated and comment_deleted with their data, in order.
func TestCommentEventsOnSocket(t *testing.T) {
	e := newEnv(t)
	aliceID, alice := e.user("alice")
	bobID, bob := e.user("bob")
	pid := e.project(alice, bobID)
	task := e.task(alice, pid, "t")
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	ws, _, err := e.dial(ctx, pid, bob, "&v=2")
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	readThrough(t, ctx, ws, "caught_up")

	c := e.comment(alice, task.ID, "hi @bob")
	e.do("PATCH", "/api/v1/comments/"+itoa(c), alice, map[string]string{"body": "hi @bob!"})
	e.do("DELETE", "/api/v1/comments/"+itoa(c), alice, nil)

	for _, want := range []struct {
		event string
		data  any
	}{
		{"comment_added", mustDecode(t, commentJSON(c, task.ID, pid, aliceID, "hi @bob", bobID))},
		{"comment_updated", mustDecode(t, commentJSON(c, task.ID, pid, aliceID, "hi @bob!", bobID))},
		{"comment_deleted", map[string]any{"id": float64(c), "task_id": float64(task.ID), "project_id": float64(pid)}},
	} {
		ev := read(t, ctx, ws)
		if ev.Event != want.event || ev.ProjectID != pid || ev.ActorID != aliceID || ev.Seq == 0 {
			t.Fatalf("got %s (project %d, actor %d, seq %d), want %s", ev.Event, ev.ProjectID, ev.ActorID, ev.Seq, want.event)
		}
		expectJSON(t, ev.Data, want.data)
	}
}

// TestCommentsGoWithTheirTask: deleting a task deletes its comments (and
// emits no comment_deleted); deleting a project deletes its tasks'.
func TestCommentsGoWithTheirTask(t *testing.T) {
	e := newEnv(t)
	_, alice := e.user("alice")
	doomedProject := e.project(alice)
	pid := e.project(alice)
	doomed, kept := e.task(alice, pid, "doomed"), e.task(alice, pid, "kept")
	gone := e.comment(alice, doomed.ID, "goes")
	stays := e.comment(alice, kept.ID, "stays")
	elsewhere := e.comment(alice, e.task(alice, doomedProject, "x").ID, "goes with the project")
	before := len(e.eventLog(alice, pid))
	if r := e.do("DELETE", "/api/v1/tasks/"+itoa(doomed.ID), alice, nil); r.Status != 204 {
		t.Fatalf("delete task: %d %s", r.Status, r.Body)
	}
	if r := e.do("DELETE", "/api/v1/projects/"+itoa(doomedProject), alice, nil); r.Status != 204 {
		t.Fatalf("delete project: %d %s", r.Status, r.Body)
	}
	runScenarios(t, e, []scenario{
		{name: "ErrListOfDeletedTask", method: "GET", path: "/api/v1/tasks/" + itoa(doomed.ID) + "/comments", token: alice,
			wantStatus: 404, wantBody: detailIs("Task not found")},
		{name: "ErrEditOfDeletedTask", method: "PATCH", path: "/api/v1/comments/" + itoa(gone), token: alice, body: map[string]string{"body": "x"},
			wantStatus: 404, wantBody: detailIs("Comment not found")},
		{name: "ErrDeleteOfDeletedTask", method: "DELETE", path: "/api/v1/comments/" + itoa(gone), token: alice,
			wantStatus: 404, wantBody: detailIs("Comment not found")},
		{name: "ErrEditOfDeletedProject", method: "PATCH", path: "/api/v1/comments/" + itoa(elsewhere), token: alice, body: map[string]string{"body": "x"},
			wantStatus: 404, wantBody: detailIs("Comment not found")},
		{name: "OtherTaskKeepsItsComments", method: "GET", path: "/api/v1/tasks/" + itoa(kept.ID) + "/comments", token: alice,
			wantStatus: 200, wantBody: func(t *testing.T, r response) {
				if ids := listIDs(t, r); !slices.Equal(ids, []int64{stays}) {
					t.Errorf("comments %v, want [%d]", ids, stays)
				}
			}},
	})
	if got := eventTypes(e.as(t).eventLog(alice, pid)[before:]); !slices.Equal(got, []string{"task_deleted"}) {
		t.Errorf("deleting a task emitted %v, want only task_deleted", got)
	}
}

// TestMentionEmail: a mention is emailed through the durable job path to
// the in-process SMTP server, naming the task, project, author, an
// excerpt of the comment and a link; a member who turned mention emails
// off gets the notification but no email; an edit emails only the newly
// mentioned.
func TestMentionEmail(t *testing.T) {
	srv := smtptest.New(t)
	e := newEnv(t, withEnv("SMTP_URL", "smtp://"+srv.Addr()+"?starttls=none", "MAIL_FROM", "Taskwire <noreply@taskwire.test>",
		"BASE_URL", "http://app.example", "EMAIL_DEBOUNCE", "0", "EMAIL_RETRY_BASE", "200ms"))
	_, alice := e.user("alice")
	bobID, bob := e.user("bob")
	carolID, carol := e.user("carol")
	pid := e.project(alice, bobID, carolID)
	// Membership emails first, so the mention emails are counted alone.
	srv.Wait(t, 2, 30*time.Second)
	if r := e.do("PUT", "/api/v1/users/me/notification-settings", carol, map[string]any{"email": map[string]bool{"mentioned": false}}); r.Status != 200 {
		t.Fatalf("settings: %d %s", r.Status, r.Body)
	}
	if r := e.do("GET", "/api/v1/users/me/notification-settings", bob, nil); r.Status != 200 || !strings.Contains(string(r.Body), `"mentioned":true`) {
		t.Fatalf("mention emails are not on by default: %d %s", r.Status, r.Body)
	}
	task := e.task(alice, pid, "Write the docs")
	c := e.comment(alice, task.ID, "@bob and @carol: can you review\nthe <draft> & the plan?")
	if got := commentNotes(e.inbox(carol)); !slices.Equal(got, []string{"mentioned:" + itoa(c)}) {
		t.Errorf("carol's notifications %v: email off must not turn the notification off", got)
	}
	msgs := srv.Wait(t, 3, 30*time.Second)
	m := msgs[2]
	if len(m.Rcpt) != 1 || m.Rcpt[0] != "bob@example.com" {
		t.Fatalf("mention email to %v, want bob@example.com", m.Rcpt)
	}
	if m.Subject != "[Taskwire] alice mentioned you on \u201cWrite the docs\u201d in Project" {
		t.Errorf("subject %q", m.Subject)
	}
	link := "http://app.example/projects/" + itoa(pid) + "/tasks/" + itoa(task.ID)
	for _, want := range []string{"alice mentioned you", "Write the docs", "Project", `"@bob and @carol: can you review the <draft> & the plan?"`, link} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("text part lacks %q:\n%s", want, m.Text)
		}
	}
	for _, want := range []string{"<strong>alice</strong>", "the &lt;draft&gt; &amp; the plan?", `href="` + link + `"`} {
		if !strings.Contains(m.HTML, want) {
			t.Errorf("HTML part lacks %q:\n%s", want, m.HTML)
		}
	}

	// An edit emails the newly mentioned (alice, by bob's edit of his own
	// comment), not those mentioned before.
	c2 := e.comment(bob, task.ID, "@carol ok")
	if r := e.do("PATCH", "/api/v1/comments/"+itoa(c2), bob, map[string]string{"body": "@carol ok, @alice too"}); r.Status != 200 {
		t.Fatalf("edit: %d %s", r.Status, r.Body)
	}
	msgs = srv.Wait(t, 4, 30*time.Second)
	if m := msgs[3]; len(m.Rcpt) != 1 || m.Rcpt[0] != "alice@example.com" || !strings.Contains(m.Text, "@carol ok, @alice too") {
		t.Errorf("edit's email to %v:\n%s", m.Rcpt, m.Text)
	}
	time.Sleep(500 * time.Millisecond)
	if n := len(srv.Messages()); n != 4 {
		t.Errorf("%d emails, want 4 (carol turned mention emails off)", n)
	}
}

// TestMentionEmailDue: when its job runs, a mention's email is due only
// while the comment exists and still mentions its addressee, who is still
// a member and still wants mention emails.
func TestMentionEmailDue(t *testing.T) {
	e := newEnv(t)
	aliceID, alice := e.user("alice")
	bobID, bob := e.user("bob")
	pid := e.project(alice, bobID)
	task := e.task(alice, pid, "Write the docs")
	c := e.comment(alice, task.ID, "@bob:\n  please   review")
	job := taskwire.EmailJob{Kind: taskwire.NotifyMentioned, UserID: bobID, ProjectID: pid, TaskID: task.ID, Seq: 1, ActorID: aliceID, CommentID: c}
	due := func(t *testing.T, want bool) taskwire.Email {
		t.Helper()
		m, ok, err := e.svc.PrepareEmail(t.Context(), job)
		if err != nil || ok != want {
			t.Fatalf("PrepareEmail = %v, %v; want due %v", ok, err, want)
		}
		return m
	}
	edit := func(t *testing.T, body string) {
		t.Helper()
		if r := e.as(t).do("PATCH", "/api/v1/comments/"+itoa(c), alice, map[string]string{"body": body}); r.Status != 200 {
			t.Fatalf("edit: %d %s", r.Status, r.Body)
		}
	}
	m := due(t, true)
	if m.To != "bob@example.com" || m.ActorUsername != "alice" || m.ProjectName != "Project" || m.TaskID != task.ID ||
		m.TaskTitle != "Write the docs" || m.CommentID != c || m.CommentExcerpt != "@bob: please review" {
		t.Errorf("email %+v", m)
	}
	t.Run("MentionEditedAway", func(t *testing.T) {
		edit(t, "never mind")
		due(t, false)
		edit(t, "@bob again")
		if m := due(t, true); m.CommentExcerpt != "@bob again" {
			t.Errorf("excerpt %q, want the body as it is when the job runs", m.CommentExcerpt)
		}
	})
	t.Run("TurnedOff", func(t *testing.T) {
		e.as(t).do("PUT", "/api/v1/users/me/notification-settings", bob, map[string]any{"email": map[string]bool{"mentioned": false}})
		due(t, false)
		e.as(t).do("PUT", "/api/v1/users/me/notification-settings", bob, map[string]any{"email": map[string]bool{"mentioned": true}})
		due(t, true)
	})
	t.Run("CommentDeleted", func(t *testing.T) {
		if r := e.as(t).do("DELETE", "/api/v1/comments/"+itoa(c), alice, nil); r.Status != 204 {
			t.Fatalf("delete: %d", r.Status)
		}
		due(t, false)
	})
	t.Run("LeftTheProject", func(t *testing.T) {
		job.CommentID = e.as(t).comment(alice, task.ID, "@bob one more")
		due(t, true)
		e.as(t).do("DELETE", "/api/v1/projects/"+itoa(pid)+"/members/"+itoa(bobID), bob, nil)
		due(t, false)
	})
}
