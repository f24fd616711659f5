// Package storetest is the contract suite every taskwire.Store backend must
// pass unchanged. A backend's test calls Run with a constructor of fresh
// stores:
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) taskwire.Store { return openTestDB(t) })
//	}
//
// The suite speaks only the taskwire.Store, Tx and Reader interfaces.
package storetest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/taskwire/taskwire"
)

// Run runs the contract suite. newStore must return a new, empty, migrated
// store on every call and release it with t.Cleanup; every subtest calls it
// once, so subtests never see each other's rows.
func Run(t *testing.T, newStore func(t *testing.T) taskwire.Store) {
	t.Run("Users", func(t *testing.T) { testUsers(t, newStore) })
	t.Run("APITokens", func(t *testing.T) { testAPITokens(t, newStore) })
	t.Run("Projects", func(t *testing.T) { testProjects(t, newStore) })
	t.Run("Members", func(t *testing.T) { testMembers(t, newStore) })
	t.Run("Tasks", func(t *testing.T) { testTasks(t, newStore) })
	t.Run("Comments", func(t *testing.T) { testComments(t, newStore) })
	t.Run("LabelsAndDueDates", func(t *testing.T) { testLabelsAndDueDates(t, newStore) })
	t.Run("Search", func(t *testing.T) { testSearch(t, newStore) })
	t.Run("Reminders", func(t *testing.T) { testReminders(t, newStore) })
	t.Run("Webhooks", func(t *testing.T) { testWebhooks(t, newStore) })
	t.Run("WebhookOutbox", func(t *testing.T) { testWebhookOutbox(t, newStore) })
	t.Run("WebhooksAfterTaskLock", func(t *testing.T) { testWebhooksAfterTaskLock(t, newStore) })
	t.Run("DeleteProject", func(t *testing.T) { testDeleteProject(t, newStore) })
	t.Run("Events", func(t *testing.T) { testEvents(t, newStore) })
	t.Run("Idempotency", func(t *testing.T) { testIdempotency(t, newStore) })
	t.Run("Atomicity", func(t *testing.T) { testAtomicity(t, newStore) })
	t.Run("AfterCommit", func(t *testing.T) { testAfterCommit(t, newStore) })
	t.Run("Concurrency", func(t *testing.T) { testConcurrency(t, newStore) })
	t.Run("Notifications", func(t *testing.T) { testNotifications(t, newStore) })
	t.Run("Invitations", func(t *testing.T) { testInvitations(t, newStore) })
	t.Run("View", func(t *testing.T) { testView(t, newStore) })
}

// base is the suite's reference time. It has nanoseconds and a zone other
// than UTC, so a backend must keep the instant at microsecond precision.
func base() time.Time {
	return time.Date(2025, time.March, 14, 15, 9, 26, 535897932, time.FixedZone("CET", 3600))
}

// at returns base shifted by d.
func at(d time.Duration) time.Time { return base().Add(d) }

// sameTime reports whether a and b are the same instant at the precision
// stores keep (microseconds).
func sameTime(a, b time.Time) bool {
	return a.Truncate(time.Microsecond).Equal(b.Truncate(time.Microsecond))
}

// update runs fn in a unit of work and fails the test if it fails.
func update(t *testing.T, s taskwire.Store, fn func(tx taskwire.Tx) error) {
	t.Helper()
	if err := s.Update(t.Context(), fn); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

// newUser returns an unsaved user called name.
func newUser(name string) taskwire.User {
	return taskwire.User{
		Email:          name + "@example.com",
		Username:       name,
		HashedPassword: "$2b$04$hash-of-" + name,
		CreatedAt:      at(0),
	}
}

func createUser(t *testing.T, s taskwire.Store, name string) taskwire.User {
	t.Helper()
	u := newUser(name)
	update(t, s, func(tx taskwire.Tx) (err error) {
		u, err = tx.CreateUser(t.Context(), u)
		return err
	})
	return u
}

// createProject creates a project owned by owner, without any membership.
func createProject(t *testing.T, s taskwire.Store, owner taskwire.User, name string) taskwire.Project {
	t.Helper()
	p := taskwire.Project{Name: name, OwnerID: owner.ID, CreatedAt: at(0)}
	update(t, s, func(tx taskwire.Tx) (err error) {
		p, err = tx.CreateProject(t.Context(), p)
		return err
	})
	return p
}

func addMember(t *testing.T, s taskwire.Store, projectID int64, users ...taskwire.User) {
	t.Helper()
	for _, u := range users {
		update(t, s, func(tx taskwire.Tx) error { return tx.AddMember(t.Context(), projectID, u.ID) })
	}
}

// createTask creates a todo task, version 1, in the project.
func createTask(t *testing.T, s taskwire.Store, projectID int64, title string, assignee *int64) taskwire.Task {
	t.Helper()
	return createTaskWith(t, s, taskwire.Task{Title: title, Status: taskwire.StatusTodo, ProjectID: projectID, AssigneeID: assignee})
}

func createTaskWith(t *testing.T, s taskwire.Store, task taskwire.Task) taskwire.Task {
	t.Helper()
	task.Version = 1
	task.CreatedAt, task.UpdatedAt = at(0), at(0)
	update(t, s, func(tx taskwire.Tx) (err error) {
		task, err = tx.CreateTask(t.Context(), task)
		return err
	})
	return task
}

// appendEvent appends a task_created event stamped ts whose data names n.
func appendEvent(t *testing.T, s taskwire.Store, projectID, actorID int64, ts time.Time, n int) taskwire.Event {
	t.Helper()
	var e taskwire.Event
	update(t, s, func(tx taskwire.Tx) (err error) {
		e, err = tx.AppendEvent(t.Context(), newEvent(projectID, actorID, ts, n))
		return err
	})
	return e
}

// newEvent returns an unsequenced event whose data is {"n": n}.
func newEvent(projectID, actorID int64, ts time.Time, n int) taskwire.Event {
	return taskwire.Event{
		ProjectID: projectID,
		ActorID:   actorID,
		Type:      taskwire.EventTaskCreated,
		Data:      json.RawMessage(fmt.Sprintf(`{"n":%d,"title":"task \"%d\" <&>"}`, n, n)),
		TS:        ts,
	}
}

// wantError fails the test unless err has the kind and, when msg is not
// empty, the message.
func wantError(t *testing.T, err error, kind taskwire.Kind, msg string) {
	t.Helper()
	if err == nil {
		t.Fatalf("err = nil, want %s %q", kindName(kind), msg)
	}
	if got := taskwire.ErrorKind(err); got != kind {
		t.Fatalf("kind of %v = %s, want %s", err, kindName(got), kindName(kind))
	}
	if msg == "" {
		return
	}
	if e, _ := taskwire.AsError(err); e.Message != msg {
		t.Fatalf("message = %q, want %q", e.Message, msg)
	}
}

func kindName(k taskwire.Kind) string {
	switch k {
	case taskwire.Internal:
		return "Internal"
	case taskwire.Invalid:
		return "Invalid"
	case taskwire.BadRequest:
		return "BadRequest"
	case taskwire.Unauthenticated:
		return "Unauthenticated"
	case taskwire.Forbidden:
		return "Forbidden"
	case taskwire.NotFound:
		return "NotFound"
	case taskwire.Conflict:
		return "Conflict"
	case taskwire.Gone:
		return "Gone"
	case taskwire.PreconditionFailed:
		return "PreconditionFailed"
	case taskwire.RateLimited:
		return "RateLimited"
	}
	return fmt.Sprintf("Kind(%d)", k)
}

// eventSeqs returns the seqs of a project's events after since.
func eventSeqs(t *testing.T, r taskwire.Reader, projectID, since int64, limit int) []int64 {
	t.Helper()
	es, err := r.Events(t.Context(), projectID, since, limit)
	if err != nil {
		t.Fatalf("Events(%d, %d, %d): %v", projectID, since, limit, err)
	}
	seqs := []int64{}
	for _, e := range es {
		if e.ProjectID != projectID {
			t.Errorf("Events(%d) returned an event of project %d", projectID, e.ProjectID)
		}
		seqs = append(seqs, e.Seq)
	}
	return seqs
}

// seqRange returns from, from+1, ..., to.
func seqRange(from, to int64) []int64 {
	seqs := []int64{}
	for s := from; s <= to; s++ {
		seqs = append(seqs, s)
	}
	return seqs
}

func projectIDs(ps []taskwire.Project) []int64 {
	ids := []int64{}
	for _, p := range ps {
		ids = append(ids, p.ID)
	}
	return ids
}

func taskIDs(ts []taskwire.Task) []int64 {
	ids := []int64{}
	for _, t := range ts {
		ids = append(ids, t.ID)
	}
	return ids
}

// jsonEqual reports whether a and b are the same JSON value, so a backend
// may store data as text or as a normalized JSON type.
func jsonEqual(a, b []byte) bool {
	var va, vb any
	da, db := json.NewDecoder(bytes.NewReader(a)), json.NewDecoder(bytes.NewReader(b))
	da.UseNumber()
	db.UseNumber()
	if da.Decode(&va) != nil || db.Decode(&vb) != nil {
		return false
	}
	return reflect.DeepEqual(va, vb)
}

func ptr[T any](v T) *T { return &v }

func equalPtr[T comparable](a, b *T) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

func fmtPtr[T any](p *T) string {
	if p == nil {
		return "nil"
	}
	return fmt.Sprint(*p)
}

// recorder collects what after-commit hooks report, in the order they run.
type recorder struct {
	mu  sync.Mutex // guards got
	got []string
}

func (r *recorder) add(s string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, s)
}

// wait returns what the hooks reported once there are at least n reports,
// or fails the test after five seconds. Stores may run hooks after Update
// returns, so the suite waits rather than assuming they already ran.
func (r *recorder) wait(t *testing.T, n int) []string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		r.mu.Lock()
		got := slices.Clone(r.got)
		r.mu.Unlock()
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("after-commit hooks reported %q, want %d reports", got, n)
		}
		time.Sleep(time.Millisecond)
	}
}
