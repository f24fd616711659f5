package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/taskwire/taskwire"
)

func testLabelsAndDueDates(t *testing.T, newStore func(t *testing.T) taskwire.Store) {
	t.Run("StoredAndRead", func(t *testing.T) {
		s := newStore(t)
		p := createProject(t, s, createUser(t, s, "alice"), "p")
		due := at(72 * time.Hour)
		task := createTaskWith(t, s, taskwire.Task{Title: "a", Status: taskwire.StatusTodo, ProjectID: p.ID,
			DueAt: &due, Labels: []string{"Bug", "naïve", "日本語"}})
		got, err := s.Task(t.Context(), task.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.DueAt == nil || !sameTime(*got.DueAt, due) {
			t.Errorf("due_at = %v, want %v", got.DueAt, due)
		}
		if !slices.Equal(got.Labels, []string{"Bug", "naïve", "日本語"}) {
			t.Errorf("labels = %q, want them as written, in order", got.Labels)
		}
		bare := createTask(t, s, p.ID, "bare", nil)
		if got, _ := s.Task(t.Context(), bare.ID); got.DueAt != nil || got.Labels == nil || len(got.Labels) != 0 {
			t.Errorf("a task without them reads due_at %v, labels %#v; want nil and an empty list", got.DueAt, got.Labels)
		}
	})

	t.Run("FilterAndCount", func(t *testing.T) {
		s := newStore(t)
		p := createProject(t, s, createUser(t, s, "alice"), "p")
		other := createProject(t, s, createUser(t, s, "bob"), "q")
		mk := func(pid int64, status taskwire.Status, due *time.Time, labels ...string) taskwire.Task {
			return createTaskWith(t, s, taskwire.Task{Title: "t", Status: status, ProjectID: pid, DueAt: due, Labels: labels})
		}
		soon, late := at(time.Hour), at(48*time.Hour)
		a := mk(p.ID, taskwire.StatusTodo, &soon, "Bug", "ui")
		b := mk(p.ID, taskwire.StatusDone, &soon, "bug")
		c := mk(p.ID, taskwire.StatusInProgress, &late, "ui")
		d := mk(p.ID, taskwire.StatusTodo, nil)
		mk(other.ID, taskwire.StatusTodo, &soon, "bug")

		no, yes := false, true
		now := at(2 * time.Hour)
		dueBefore := at(24 * time.Hour)
		tests := []struct {
			name   string
			filter taskwire.TaskFilter
			want   []int64
		}{
			{"OneLabel", taskwire.TaskFilter{Labels: []string{"bug"}}, []int64{a.ID, b.ID}},
			{"EveryLabelMustMatch", taskwire.TaskFilter{Labels: []string{"bug", "ui"}}, []int64{a.ID}},
			{"UnknownLabel", taskwire.TaskFilter{Labels: []string{"nope"}}, nil},
			{"DueBefore", taskwire.TaskFilter{DueBefore: &dueBefore}, []int64{a.ID, b.ID}},
			{"Overdue", taskwire.TaskFilter{Overdue: &yes, Now: now}, []int64{a.ID}},
			{"NotOverdue", taskwire.TaskFilter{Overdue: &no, Now: now}, []int64{b.ID, c.ID, d.ID}},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				got, err := s.Tasks(t.Context(), p.ID, tc.filter, taskwire.Page{})
				if err != nil {
					t.Fatal(err)
				}
				if ids := taskIDs(got); !slices.Equal(ids, tc.want) {
					t.Errorf("tasks = %v, want %v", ids, tc.want)
				}
			})
		}

		counts, err := s.Labels(t.Context(), p.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := []taskwire.LabelCount{{Name: "Bug", Count: 2}, {Name: "ui", Count: 2}}
		if !slices.Equal(counts, want) {
			t.Errorf("labels = %v, want %v (first spelling, most used first, then by name)", counts, want)
		}
	})

	t.Run("ReplacedAndDeleted", func(t *testing.T) {
		s := newStore(t)
		p := createProject(t, s, createUser(t, s, "alice"), "p")
		task := createTaskWith(t, s, taskwire.Task{Title: "a", Status: taskwire.StatusTodo, ProjectID: p.ID, Labels: []string{"old"}})
		task.Labels, task.Version = []string{"new", "other"}, 2
		update(t, s, func(tx taskwire.Tx) error {
			if err := tx.UpdateTask(t.Context(), task); err != nil {
				return err
			}
			return tx.SetTaskLabels(t.Context(), task)
		})
		counts, err := s.Labels(t.Context(), p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if want := []taskwire.LabelCount{{Name: "new", Count: 1}, {Name: "other", Count: 1}}; !slices.Equal(counts, want) {
			t.Errorf("after replacing: labels = %v, want %v", counts, want)
		}
		update(t, s, func(tx taskwire.Tx) error { return tx.DeleteTask(t.Context(), task.ID) })
		if counts, err := s.Labels(t.Context(), p.ID); err != nil || len(counts) != 0 {
			t.Errorf("after deleting the task: labels = %v, %v; want none", counts, err)
		}
	})
}
