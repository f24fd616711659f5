package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/taskwire/taskwire"
)

func testTasks(t *testing.T, newStore func(t *testing.T) taskwire.Store) {
	t.Run("CreateAndRead", func(t *testing.T) {
		tests := []struct {
			name     string
			task     taskwire.Task
			assigned bool
		}{
			{"AllFields", taskwire.Task{Title: "Write the suite", Description: ptr("with tables"), Status: taskwire.StatusInProgress}, true},
			{"NilOptionals", taskwire.Task{Title: "Bare", Status: taskwire.StatusTodo}, false},
			{"EmptyTitleAndDescription", taskwire.Task{Title: "", Description: ptr(""), Status: taskwire.StatusDone}, false},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				s := newStore(t)
				alice := createUser(t, s, "alice")
				p := createProject(t, s, alice, "p")
				want := tc.task
				want.ProjectID = p.ID
				if tc.assigned {
					want.AssigneeID = &alice.ID
				}
				want.Version = 1
				want.CreatedAt, want.UpdatedAt = at(0), at(time.Second)
				var created taskwire.Task
				update(t, s, func(tx taskwire.Tx) (err error) {
					created, err = tx.CreateTask(t.Context(), want)
					return err
				})
				if created.ID <= 0 {
					t.Fatalf("CreateTask: ID = %d, want a positive id", created.ID)
				}
				want.ID = created.ID
				checkTask(t, created, want)
				got, err := s.Task(t.Context(), created.ID)
				if err != nil {
					t.Fatal(err)
				}
				checkTask(t, got, want)
				update(t, s, func(tx taskwire.Tx) error {
					locked, _, _, err := tx.LockTask(t.Context(), created.ID, alice.ID)
					if err != nil {
						return err
					}
					checkTask(t, locked, want)
					return nil
				})
			})
		}
	})

	t.Run("NotFound", func(t *testing.T) {
		s := newStore(t)
		p := createProject(t, s, createUser(t, s, "alice"), "p")
		task := createTask(t, s, p.ID, "exists", nil)
		missing := task.ID + 100
		t.Run("Task", func(t *testing.T) {
			_, err := s.Task(t.Context(), missing)
			wantError(t, err, taskwire.NotFound, taskwire.MsgTaskNotFound)
		})
		t.Run("LockTask", func(t *testing.T) {
			err := s.Update(t.Context(), func(tx taskwire.Tx) error {
				_, _, _, err := tx.LockTask(t.Context(), missing, p.OwnerID)
				return err
			})
			wantError(t, err, taskwire.NotFound, taskwire.MsgTaskNotFound)
		})
		t.Run("TaskInUnit", func(t *testing.T) {
			err := s.Update(t.Context(), func(tx taskwire.Tx) error {
				_, err := tx.Task(t.Context(), missing)
				return err
			})
			wantError(t, err, taskwire.NotFound, taskwire.MsgTaskNotFound)
		})
	})

	t.Run("LockTaskMembership", func(t *testing.T) {
		s := newStore(t)
		alice, bob, carol := createUser(t, s, "alice"), createUser(t, s, "bob"), createUser(t, s, "carol")
		p := createProject(t, s, alice, "p")
		addMember(t, s, p.ID, alice, bob)
		task := createTask(t, s, p.ID, "shared", &bob.ID)
		wantProject, err := s.Project(t.Context(), p.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			user   taskwire.User
			member bool
		}{{alice, true}, {bob, true}, {carol, false}} {
			t.Run(tc.user.Username, func(t *testing.T) {
				update(t, s, func(tx taskwire.Tx) error {
					gotTask, gotProject, member, err := tx.LockTask(t.Context(), task.ID, tc.user.ID)
					if err != nil {
						return err
					}
					checkTask(t, gotTask, task)
					if gotProject.ID != wantProject.ID || gotProject.Name != wantProject.Name ||
						gotProject.OwnerID != wantProject.OwnerID || gotProject.LastSeq != wantProject.LastSeq ||
						!gotProject.CreatedAt.Equal(wantProject.CreatedAt) {
						t.Errorf("project = %+v, want %+v", gotProject, wantProject)
					}
					if member != tc.member {
						t.Errorf("member = %v, want %v", member, tc.member)
					}
					return nil
				})
			})
		}
	})

	t.Run("Update", func(t *testing.T) {
		s := newStore(t)
		alice, bob := createUser(t, s, "alice"), createUser(t, s, "bob")
		p := createProject(t, s, alice, "p")
		task := createTaskWith(t, s, taskwire.Task{Title: "old", Description: ptr("old description"),
			Status: taskwire.StatusTodo, ProjectID: p.ID, AssigneeID: &alice.ID})
		bystander := createTask(t, s, p.ID, "bystander", &alice.ID)
		steps := []struct {
			name   string
			change func(taskwire.Task) taskwire.Task
		}{
			{"ClearOptionals", func(t taskwire.Task) taskwire.Task {
				t.Title, t.Description, t.Status, t.AssigneeID = "new", nil, taskwire.StatusDone, nil
				return t
			}},
			{"SetOptionals", func(t taskwire.Task) taskwire.Task {
				t.Description, t.Status, t.AssigneeID = ptr("described again"), taskwire.StatusInProgress, &bob.ID
				return t
			}},
			{"EmptyStrings", func(t taskwire.Task) taskwire.Task {
				t.Title, t.Description = "", ptr("")
				return t
			}},
		}
		for i, st := range steps {
			t.Run(st.name, func(t *testing.T) {
				want := st.change(task)
				want.Version = task.Version + 1
				want.UpdatedAt = at(time.Duration(i+1) * time.Minute)
				update(t, s, func(tx taskwire.Tx) error {
					locked, _, _, err := tx.LockTask(t.Context(), task.ID, alice.ID)
					if err != nil {
						return err
					}
					checkTask(t, locked, task)
					return tx.UpdateTask(t.Context(), want)
				})
				got, err := s.Task(t.Context(), task.ID)
				if err != nil {
					t.Fatal(err)
				}
				checkTask(t, got, want)
				task = want
			})
		}
		got, err := s.Task(t.Context(), bystander.ID)
		if err != nil {
			t.Fatal(err)
		}
		checkTask(t, got, bystander)
	})

	t.Run("Delete", func(t *testing.T) {
		s := newStore(t)
		p := createProject(t, s, createUser(t, s, "alice"), "p")
		doomed := createTask(t, s, p.ID, "doomed", nil)
		kept := createTask(t, s, p.ID, "kept", nil)
		update(t, s, func(tx taskwire.Tx) error { return tx.DeleteTask(t.Context(), doomed.ID) })
		_, err := s.Task(t.Context(), doomed.ID)
		wantError(t, err, taskwire.NotFound, taskwire.MsgTaskNotFound)
		ts, err := s.Tasks(t.Context(), p.ID, taskwire.TaskFilter{}, taskwire.Page{})
		if err != nil {
			t.Fatal(err)
		}
		if got := taskIDs(ts); !slices.Equal(got, []int64{kept.ID}) {
			t.Fatalf("Tasks after DeleteTask = %v, want [%d]", got, kept.ID)
		}
	})

	t.Run("List", func(t *testing.T) {
		s := newStore(t)
		alice, bob := createUser(t, s, "alice"), createUser(t, s, "bob")
		p := createProject(t, s, alice, "p")
		other := createProject(t, s, alice, "other")
		mk := func(projectID int64, status taskwire.Status, assignee *int64) int64 {
			return createTaskWith(t, s, taskwire.Task{Title: "t", Status: status, ProjectID: projectID, AssigneeID: assignee}).ID
		}
		t1 := mk(p.ID, taskwire.StatusTodo, &alice.ID)
		t2 := mk(p.ID, taskwire.StatusDone, &bob.ID)
		mk(other.ID, taskwire.StatusTodo, &alice.ID) // another project's task is never listed
		t3 := mk(p.ID, taskwire.StatusTodo, nil)
		t4 := mk(p.ID, taskwire.StatusInProgress, &alice.ID)
		t5 := mk(p.ID, taskwire.StatusTodo, &alice.ID)
		todo, done, inProgress := taskwire.StatusTodo, taskwire.StatusDone, taskwire.StatusInProgress

		tests := []struct {
			name   string
			filter taskwire.TaskFilter
			page   taskwire.Page
			want   []int64
		}{
			{"All", taskwire.TaskFilter{}, taskwire.Page{}, []int64{t1, t2, t3, t4, t5}},
			{"StatusTodo", taskwire.TaskFilter{Status: &todo}, taskwire.Page{}, []int64{t1, t3, t5}},
			{"StatusInProgress", taskwire.TaskFilter{Status: &inProgress}, taskwire.Page{}, []int64{t4}},
			{"Assignee", taskwire.TaskFilter{AssigneeID: &alice.ID}, taskwire.Page{}, []int64{t1, t4, t5}},
			{"StatusAndAssignee", taskwire.TaskFilter{Status: &todo, AssigneeID: &alice.ID}, taskwire.Page{}, []int64{t1, t5}},
			{"NoMatch", taskwire.TaskFilter{Status: &done, AssigneeID: &alice.ID}, taskwire.Page{}, []int64{}},
			{"FirstPage", taskwire.TaskFilter{}, taskwire.Page{Limit: 2}, []int64{t1, t2}},
			{"SecondPage", taskwire.TaskFilter{}, taskwire.Page{Limit: 2, After: t2}, []int64{t3, t4}},
			{"LastPage", taskwire.TaskFilter{}, taskwire.Page{Limit: 2, After: t4}, []int64{t5}},
			{"PageBeyondEnd", taskwire.TaskFilter{}, taskwire.Page{Limit: 2, After: t5}, []int64{}},
			{"AfterWithoutLimit", taskwire.TaskFilter{}, taskwire.Page{After: t3}, []int64{t4, t5}},
			{"FilteredPage", taskwire.TaskFilter{Status: &todo}, taskwire.Page{Limit: 1, After: t1}, []int64{t3}},
			{"FilteredAssigneePage", taskwire.TaskFilter{AssigneeID: &alice.ID}, taskwire.Page{Limit: 2, After: t1}, []int64{t4, t5}},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				ts, err := s.Tasks(t.Context(), p.ID, tc.filter, tc.page)
				if err != nil {
					t.Fatal(err)
				}
				if got := taskIDs(ts); !slices.Equal(got, tc.want) {
					t.Fatalf("Tasks(%+v, %+v) = %v, want %v", tc.filter, tc.page, got, tc.want)
				}
				for _, task := range ts {
					if task.ProjectID != p.ID {
						t.Errorf("task %d has ProjectID %d, want %d", task.ID, task.ProjectID, p.ID)
					}
				}
			})
		}
	})

	t.Run("UnassignTasks", func(t *testing.T) {
		s := newStore(t)
		alice, bob := createUser(t, s, "alice"), createUser(t, s, "bob")
		p := createProject(t, s, alice, "p")
		other := createProject(t, s, alice, "other")
		mine1 := createTask(t, s, p.ID, "mine 1", &bob.ID)
		alices := createTask(t, s, p.ID, "alice's", &alice.ID)
		mine2 := createTaskWith(t, s, taskwire.Task{Title: "mine 2", Description: ptr("d"), Status: taskwire.StatusDone, ProjectID: p.ID, AssigneeID: &bob.ID})
		unassigned := createTask(t, s, p.ID, "nobody's", nil)
		elsewhere := createTask(t, s, other.ID, "bob's elsewhere", &bob.ID)
		now := at(time.Hour)

		var changed []taskwire.Task
		update(t, s, func(tx taskwire.Tx) (err error) {
			changed, err = tx.UnassignTasks(t.Context(), p.ID, bob.ID, now)
			return err
		})
		slices.SortFunc(changed, func(a, b taskwire.Task) int { return int(a.ID - b.ID) })
		if got := taskIDs(changed); !slices.Equal(got, []int64{mine1.ID, mine2.ID}) {
			t.Fatalf("UnassignTasks returned %v, want [%d %d]", got, mine1.ID, mine2.ID)
		}
		for i, before := range []taskwire.Task{mine1, mine2} {
			want := before
			want.AssigneeID, want.Version, want.UpdatedAt = nil, before.Version+1, now
			checkTask(t, changed[i], want)
			got, err := s.Task(t.Context(), before.ID)
			if err != nil {
				t.Fatal(err)
			}
			checkTask(t, got, want)
		}
		for _, untouched := range []taskwire.Task{alices, unassigned, elsewhere} {
			got, err := s.Task(t.Context(), untouched.ID)
			if err != nil {
				t.Fatal(err)
			}
			checkTask(t, got, untouched)
		}

		t.Run("Again", func(t *testing.T) {
			var again []taskwire.Task
			update(t, s, func(tx taskwire.Tx) (err error) {
				again, err = tx.UnassignTasks(t.Context(), p.ID, bob.ID, at(2*time.Hour))
				return err
			})
			if len(again) != 0 {
				t.Fatalf("second UnassignTasks returned %v, want none", taskIDs(again))
			}
		})
	})
}

func checkTask(t *testing.T, got, want taskwire.Task) {
	t.Helper()
	if got.ID != want.ID || got.Title != want.Title || !equalPtr(got.Description, want.Description) ||
		got.Status != want.Status || got.ProjectID != want.ProjectID || !equalPtr(got.AssigneeID, want.AssigneeID) ||
		got.Version != want.Version {
		t.Errorf("task = {id %d %q desc %s %s project %d assignee %s v%d}, want {id %d %q desc %s %s project %d assignee %s v%d}",
			got.ID, got.Title, fmtPtr(got.Description), got.Status, got.ProjectID, fmtPtr(got.AssigneeID), got.Version,
			want.ID, want.Title, fmtPtr(want.Description), want.Status, want.ProjectID, fmtPtr(want.AssigneeID), want.Version)
	}
	if !slices.Equal(got.Labels, want.Labels) || (got.DueAt == nil) != (want.DueAt == nil) ||
		(got.DueAt != nil && !sameTime(*got.DueAt, *want.DueAt)) {
		t.Errorf("task %d labels %q due %v, want labels %q due %v", got.ID, got.Labels, got.DueAt, want.Labels, want.DueAt)
	}
	if !sameTime(got.CreatedAt, want.CreatedAt) || !sameTime(got.UpdatedAt, want.UpdatedAt) {
		t.Errorf("task %d times = (%v, %v), want (%v, %v)", got.ID, got.CreatedAt, got.UpdatedAt, want.CreatedAt, want.UpdatedAt)
	}
}
