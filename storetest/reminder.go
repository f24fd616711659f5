package storetest

import (
	"testing"
	"time"

	"github.com/taskwire/taskwire"
)

func testReminders(t *testing.T, newStore func(t *testing.T) taskwire.Store) {
	s := newStore(t)
	alice := createUser(t, s, "alice")
	p := createProject(t, s, alice, "p")
	task := createTask(t, s, p.ID, "a", &alice.ID)
	read := func() (r taskwire.Reminder, ok bool) {
		t.Helper()
		update(t, s, func(tx taskwire.Tx) (err error) {
			r, ok, err = tx.Reminded(t.Context(), task.ID)
			return err
		})
		return r, ok
	}
	if _, ok := read(); ok {
		t.Fatal("a new task has a reminder")
	}
	first := taskwire.Reminder{TaskID: task.ID, UserID: alice.ID, DueAt: at(time.Hour), Seq: 3}
	update(t, s, func(tx taskwire.Tx) error { return tx.RecordReminder(t.Context(), first) })
	if r, ok := read(); !ok || r.UserID != first.UserID || r.Seq != first.Seq || !sameTime(r.DueAt, first.DueAt) {
		t.Errorf("Reminded = %+v, %v; want %+v", r, ok, first)
	}
	second := taskwire.Reminder{TaskID: task.ID, UserID: alice.ID, DueAt: at(2 * time.Hour), Seq: 9}
	update(t, s, func(tx taskwire.Tx) error { return tx.RecordReminder(t.Context(), second) })
	if r, ok := read(); !ok || r.Seq != 9 || !sameTime(r.DueAt, second.DueAt) {
		t.Errorf("after a second RecordReminder: %+v, %v; want %+v", r, ok, second)
	}
	update(t, s, func(tx taskwire.Tx) error { return tx.DeleteTask(t.Context(), task.ID) })
	if _, ok := read(); ok {
		t.Error("the reminder outlived its task")
	}
}
