package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"
)

// parallel runs n requests at once, released together, and returns their
// answers in index order. A transport error fails the test.
func parallel(t *testing.T, n int, send func(i int) (response, error)) []response {
	t.Helper()
	out := make([]response, n)
	errs := make([]error, n)
	var ready, done sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		ready.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			ready.Done()
			<-start
			out[i], errs[i] = send(i)
		}()
	}
	ready.Wait()
	close(start)
	done.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	return out
}

type taskBody struct {
	ID          int64   `json:"id"`
	Title       string  `json:"title"`
	Description *string `json:"description"`
	Status      string  `json:"status"`
	AssigneeID  *int64  `json:"assignee_id"`
	Version     int64   `json:"version"`
}

func TestNoLostUpdates(t *testing.T) {
	e := newEnv(t)
	_, alice := e.user("alice")
	bobID, bob := e.user("bob")
	pid := e.project(alice, bobID)
	task := e.task(alice, pid, "original")
	const n = 24
	// Even requests set the title, odd ones the description, each to a
	// distinct value, so every one of them is a change.
	field := func(i int) string {
		if i%2 == 0 {
			return "title"
		}
		return "description"
	}
	value := func(i int) string { return fmt.Sprintf("%s-%02d", field(i), i) }
	res := parallel(t, n, func(i int) (response, error) {
		tok := alice
		if i%3 == 0 {
			tok = bob
		}
		return sendRaw(e.URL, "PUT", "/api/v1/tasks/"+itoa(task.ID), tok, map[string]string{field(i): value(i)})
	})

	// Every update is a change, so every one succeeds with its own version.
	byVersion := map[int64]int{} // version -> request index
	for i, r := range res {
		if r.Status != http.StatusOK {
			t.Errorf("request %d: %d %s", i, r.Status, r.Body)
			continue
		}
		var b taskBody
		r.JSON(t, &b)
		if r.Header.Get("ETag") != `"`+itoa(b.Version)+`"` {
			t.Errorf("request %d: ETag %q for version %d", i, r.Header.Get("ETag"), b.Version)
		}
		if prev, dup := byVersion[b.Version]; dup {
			t.Errorf("requests %d and %d both answered version %d", prev, i, b.Version)
		}
		byVersion[b.Version] = i
		got := b.Title
		if field(i) == "description" {
			got = deref(b.Description)
		}
		if got != value(i) {
			t.Errorf("request %d answered %s %q, want %q", i, field(i), got, value(i))
		}
	}
	successes := len(byVersion)

	var final taskBody
	r := e.do("GET", "/api/v1/tasks/"+itoa(task.ID), alice, nil)
	r.JSON(t, &final)
	if final.Version != int64(1+successes) {
		t.Errorf("version %d after %d changes, want %d", final.Version, successes, 1+successes)
	}
	if r.Header.Get("ETag") != `"`+itoa(final.Version)+`"` {
		t.Errorf("ETag %q, version %d", r.Header.Get("ETag"), final.Version)
	}

	// The log holds one task_updated per change, in seq order without gaps,
	// and replaying them one field at a time gives every event's data: an
	// update never carries a stale value of the field it did not set.
	evs := e.eventLog(alice, pid)
	var updates []map[string]any
	for i, ev := range evs {
		if ev["seq"] != float64(i+1) {
			t.Errorf("event %d has seq %v", i, ev["seq"])
		}
		if ev["event"] == "task_updated" {
			updates = append(updates, ev)
		}
	}
	if len(updates) != successes {
		t.Errorf("%d task_updated events for %d changes", len(updates), successes)
	}
	state := taskBody{Title: "original"}
	var prevSeq float64
	for k, ev := range updates {
		if seq := ev["seq"].(float64); seq <= prevSeq {
			t.Errorf("task_updated seq %v after %v", seq, prevSeq)
		} else {
			prevSeq = seq
		}
		var d taskBody
		if err := json.Unmarshal(mustJSON(t, ev["data"]), &d); err != nil {
			t.Fatal(err)
		}
		if d.Version != int64(k+2) {
			t.Errorf("update %d carries version %d, want %d", k, d.Version, k+2)
		}
		i, ok := byVersion[d.Version]
		if !ok {
			t.Errorf("event for version %d that no request was answered", d.Version)
			continue
		}
		if field(i) == "title" {
			state.Title = value(i)
		} else {
			v := value(i)
			state.Description = &v
		}
		if d.Title != state.Title || deref(d.Description) != deref(state.Description) {
			t.Errorf("version %d: title %q description %q, want %q %q (a lost update)",
				d.Version, d.Title, deref(d.Description), state.Title, deref(state.Description))
		}
	}
	if final.Title != state.Title || deref(final.Description) != deref(state.Description) {
		t.Errorf("final title %q description %q, want %q %q (a lost update)",
			final.Title, deref(final.Description), state.Title, deref(state.Description))
	}
}

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}

func TestConcurrentIfMatch(t *testing.T) {
	e := newEnv(t)
	_, alice := e.user("alice")
	pid := e.project(alice)
	for _, c := range []struct {
		name   string
		method string
		suffix string
		body   func(i int) any
	}{
		{"Status", "PATCH", "/status", func(int) any { return map[string]string{"status": "done"} }},
		{"StatusDistinct", "PATCH", "/status", func(i int) any {
			return map[string]string{"status": []string{"in_progress", "done"}[i%2]}
		}},
		{"Put", "PUT", "", func(i int) any { return map[string]string{"title": fmt.Sprintf("t%d", i)} }},
	} {
		t.Run(c.name, func(t *testing.T) {
			task := e.as(t).task(alice, pid, "contended")
			const n = 16
			res := parallel(t, n, func(i int) (response, error) {
				return sendRaw(e.URL, c.method, "/api/v1/tasks/"+itoa(task.ID)+c.suffix, alice, c.body(i), "If-Match", `"1"`)
			})
			ok, failed := 0, 0
			for i, r := range res {
				switch r.Status {
				case http.StatusOK:
					ok++
					if r.Header.Get("ETag") != `"2"` {
						t.Errorf("winner's ETag %q, want \"2\"", r.Header.Get("ETag"))
					}
				case http.StatusPreconditionFailed:
					failed++
					var body struct{ Detail string }
					if err := json.Unmarshal(r.Body, &body); err != nil || body.Detail == "" {
						t.Errorf("412 body %s", r.Body)
					}
				default:
					t.Errorf("request %d: %d %s", i, r.Status, r.Body)
				}
			}
			if ok != 1 || failed != n-1 {
				t.Errorf("%d succeeded and %d got 412, want 1 and %d", ok, failed, n-1)
			}
			r := e.as(t).do("GET", "/api/v1/tasks/"+itoa(task.ID), alice, nil)
			if r.Header.Get("ETag") != `"2"` {
				t.Errorf("final ETag %q, want \"2\"", r.Header.Get("ETag"))
			}
		})
	}
	// One event per winner.
	var changes int
	for _, ev := range e.eventLog(alice, pid) {
		if ev["event"] == "status_changed" || ev["event"] == "task_updated" {
			changes++
		}
	}
	if changes != 3 {
		t.Errorf("%d change events for 3 winners", changes)
	}
}

func TestConcurrentIdempotentCreates(t *testing.T) {
	e := newEnv(t)
	_, alice := e.user("alice")
	bobID, bob := e.user("bob")
	pid := e.project(alice)
	const n = 16

	t.Run("Task", func(t *testing.T) {
		body := map[string]any{"title": "exactly once", "description": "d"}
		res := parallel(t, n, func(int) (response, error) {
			return sendRaw(e.URL, "POST", "/api/v1/projects/"+itoa(pid)+"/tasks", alice, body, "Idempotency-Key", "same-key")
		})
		ids := map[int64]bool{}
		for i, r := range res {
			if r.Status != http.StatusCreated {
				t.Errorf("request %d: %d %s", i, r.Status, r.Body)
				continue
			}
			if i > 0 && res[0].Status == http.StatusCreated {
				var a, b any
				_ = json.Unmarshal(r.Body, &a)
				_ = json.Unmarshal(res[0].Body, &b)
				if d := matchJSON("$", b, a); len(d) > 0 {
					t.Errorf("request %d answered differently: %s vs %s", i, r.Body, res[0].Body)
				}
			}
			ids[idOf(t, r)] = true
		}
		if len(ids) != 1 {
			t.Errorf("responses name tasks %v, want one", ids)
		}
		r := e.as(t).do("GET", "/api/v1/projects/"+itoa(pid)+"/tasks", alice, nil)
		if got := listIDs(t, r); len(got) != 1 {
			t.Errorf("%d tasks created, want 1: %v", len(got), got)
		}
		if got := eventTypes(e.as(t).eventLog(alice, pid)); !slices.Equal(got, []string{"task_created"}) {
			t.Errorf("events %v, want one task_created", got)
		}
	})
	t.Run("Project", func(t *testing.T) {
		res := parallel(t, n, func(int) (response, error) {
			return sendRaw(e.URL, "POST", "/api/v1/projects/", bob, map[string]string{"name": "once"}, "Idempotency-Key", "p-key")
		})
		ids := map[int64]bool{}
		for i, r := range res {
			if r.Status != http.StatusCreated {
				t.Errorf("request %d: %d %s", i, r.Status, r.Body)
				continue
			}
			ids[idOf(t, r)] = true
		}
		if len(ids) != 1 {
			t.Errorf("responses name projects %v, want one", ids)
		}
		if got := e.as(t).projectIDs(bob); len(got) != 1 {
			t.Errorf("bob has projects %v, want one", got)
		}
	})
	t.Run("Member", func(t *testing.T) {
		res := parallel(t, n, func(int) (response, error) {
			return sendRaw(e.URL, "POST", "/api/v1/projects/"+itoa(pid)+"/members", alice, map[string]any{"user_id": bobID}, "Idempotency-Key", "m-key")
		})
		for i, r := range res {
			if r.Status != http.StatusCreated {
				t.Errorf("request %d: %d %s", i, r.Status, r.Body)
			}
		}
		var added int
		for _, ev := range e.as(t).eventLog(alice, pid) {
			if ev["event"] == "member_added" {
				added++
			}
		}
		if added != 1 {
			t.Errorf("%d member_added events, want 1", added)
		}
	})
	t.Run("DifferentUsersSameKey", func(t *testing.T) {
		res := parallel(t, 2, func(i int) (response, error) {
			tok := []string{alice, bob}[i]
			return sendRaw(e.URL, "POST", "/api/v1/projects/"+itoa(pid)+"/tasks", tok, map[string]any{"title": "shared key"}, "Idempotency-Key", "shared")
		})
		if res[0].Status != 201 || res[1].Status != 201 {
			t.Fatalf("answers %d %s / %d %s", res[0].Status, res[0].Body, res[1].Status, res[1].Body)
		}
		if idOf(t, res[0]) == idOf(t, res[1]) {
			t.Errorf("alice's and bob's requests with the same key made one task")
		}
	})
}

// TestConcurrentConflicts races requests that only one may win; the losers
// get the contract's error, never a 5xx from a constraint violation.
func TestConcurrentConflicts(t *testing.T) {
	e := newEnv(t)
	_, alice := e.user("alice")
	bobID, bob := e.user("bob")
	pid := e.project(alice)
	const n = 12
	expect := func(t *testing.T, res []response, win int, lose int, loseDetail string) {
		t.Helper()
		wins := 0
		for i, r := range res {
			switch {
			case r.Status == win:
				wins++
			case r.Status == lose:
				var body struct{ Detail string }
				if err := json.Unmarshal(r.Body, &body); err != nil || loseDetail != "" && body.Detail != loseDetail {
					t.Errorf("request %d: %d %s, want detail %q", i, r.Status, r.Body, loseDetail)
				}
			default:
				t.Errorf("request %d: %d %s, want %d or %d", i, r.Status, r.Body, win, lose)
			}
		}
		if wins != 1 {
			t.Errorf("%d requests won, want 1", wins)
		}
	}
	t.Run("SignupSameEmail", func(t *testing.T) {
		res := parallel(t, n, func(i int) (response, error) {
			return sendRaw(e.URL, "POST", "/api/v1/auth/signup", "",
				map[string]string{"email": "race@example.com", "username": fmt.Sprintf("racer%d", i), "password": "pw"})
		})
		expect(t, res, 201, 400, "Email already registered")
	})
	t.Run("SignupSameUsername", func(t *testing.T) {
		res := parallel(t, n, func(i int) (response, error) {
			return sendRaw(e.URL, "POST", "/api/v1/auth/signup", "",
				map[string]string{"email": fmt.Sprintf("u%d@example.com", i), "username": "samename", "password": "pw"})
		})
		expect(t, res, 201, 400, "Username already taken")
	})
	t.Run("AddSameMember", func(t *testing.T) {
		res := parallel(t, n, func(int) (response, error) {
			return sendRaw(e.URL, "POST", "/api/v1/projects/"+itoa(pid)+"/members", alice, map[string]any{"user_id": bobID})
		})
		expect(t, res, 201, 400, "User is already a member of this project")
	})
	t.Run("RemoveSameMember", func(t *testing.T) {
		res := parallel(t, n, func(i int) (response, error) {
			tok := alice
			if i%2 == 1 {
				tok = bob // leaving while being removed
			}
			return sendRaw(e.URL, "DELETE", "/api/v1/projects/"+itoa(pid)+"/members/"+itoa(bobID), tok, nil)
		})
		wins := 0
		for i, r := range res {
			switch r.Status {
			case 204:
				wins++
			case 403, 404: // bob is no longer a member / the member is gone
			default:
				t.Errorf("request %d: %d %s", i, r.Status, r.Body)
			}
		}
		if wins != 1 {
			t.Errorf("%d removals succeeded, want 1", wins)
		}
	})
	t.Run("DeleteSameTask", func(t *testing.T) {
		task := e.as(t).task(alice, pid, "doomed")
		res := parallel(t, n, func(int) (response, error) {
			return sendRaw(e.URL, "DELETE", "/api/v1/tasks/"+itoa(task.ID), alice, nil)
		})
		expect(t, res, 204, 404, "Task not found")
	})
	t.Run("UpdateWhileDeletingProject", func(t *testing.T) {
		other := e.as(t).project(alice)
		task := e.as(t).task(alice, other, "racing")
		res := parallel(t, n, func(i int) (response, error) {
			if i == 0 {
				return sendRaw(e.URL, "DELETE", "/api/v1/projects/"+itoa(other), alice, nil)
			}
			return sendRaw(e.URL, "PUT", "/api/v1/tasks/"+itoa(task.ID), alice, map[string]string{"title": fmt.Sprint(i)})
		})
		if res[0].Status != 204 {
			t.Errorf("delete project: %d %s", res[0].Status, res[0].Body)
		}
		for i, r := range res[1:] {
			if r.Status != 200 && r.Status != 404 {
				t.Errorf("update %d: %d %s", i+1, r.Status, r.Body)
			}
		}
	})
	// Every seq of the project is still gapless.
	for i, ev := range e.eventLog(alice, pid) {
		if ev["seq"] != float64(i+1) {
			t.Fatalf("event %d has seq %v", i, ev["seq"])
		}
	}
}
