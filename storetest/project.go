package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/taskwire/taskwire"
)

func testProjects(t *testing.T, newStore func(t *testing.T) taskwire.Store) {
	t.Run("CreateAndRead", func(t *testing.T) {
		tests := []struct {
			name        string
			description *string
		}{
			{"WithDescription", ptr("the plan")},
			{"EmptyDescription", ptr("")},
			{"NilDescription", nil},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				s := newStore(t)
				owner := createUser(t, s, "owner")
				want := taskwire.Project{Name: "Apollo ✓", Description: tc.description, OwnerID: owner.ID, CreatedAt: at(0)}
				var created taskwire.Project
				update(t, s, func(tx taskwire.Tx) (err error) {
					created, err = tx.CreateProject(t.Context(), want)
					return err
				})
				if created.ID <= 0 {
					t.Fatalf("CreateProject: ID = %d, want a positive id", created.ID)
				}
				want.ID = created.ID
				got, err := s.Project(t.Context(), created.ID)
				if err != nil {
					t.Fatal(err)
				}
				checkProject(t, got, want)
				if got.LastSeq != 0 {
					t.Errorf("LastSeq of a new project = %d, want 0", got.LastSeq)
				}
			})
		}
	})

	t.Run("NotFound", func(t *testing.T) {
		s := newStore(t)
		owner := createUser(t, s, "owner")
		p := createProject(t, s, owner, "p")
		_, err := s.Project(t.Context(), p.ID+100)
		wantError(t, err, taskwire.NotFound, taskwire.MsgProjectNotFound)
	})

	t.Run("Update", func(t *testing.T) {
		s := newStore(t)
		owner := createUser(t, s, "owner")
		p := createProject(t, s, owner, "old")
		other := createProject(t, s, owner, "other")
		steps := []struct {
			name        string
			newName     string
			description *string
		}{
			{"SetDescription", "new", ptr("described")},
			{"ClearDescription", "newer", nil},
		}
		for _, st := range steps {
			t.Run(st.name, func(t *testing.T) {
				p.Name, p.Description = st.newName, st.description
				update(t, s, func(tx taskwire.Tx) error { return tx.UpdateProject(t.Context(), p) })
				got, err := s.Project(t.Context(), p.ID)
				if err != nil {
					t.Fatal(err)
				}
				checkProject(t, got, p)
			})
		}
		got, err := s.Project(t.Context(), other.ID)
		if err != nil {
			t.Fatal(err)
		}
		checkProject(t, got, other)
	})

	t.Run("ProjectsOf", func(t *testing.T) {
		s := newStore(t)
		alice, bob, carol := createUser(t, s, "alice"), createUser(t, s, "bob"), createUser(t, s, "carol")
		owned := createProject(t, s, alice, "owned, no membership row")
		joined := createProject(t, s, bob, "bob's, alice is a member")
		addMember(t, s, joined.ID, bob, alice)
		both := createProject(t, s, alice, "owned and member")
		addMember(t, s, both.ID, alice)
		bobs := createProject(t, s, bob, "bob's only")
		addMember(t, s, bobs.ID, bob)
		left := createProject(t, s, bob, "alice left")
		addMember(t, s, left.ID, alice)
		update(t, s, func(tx taskwire.Tx) error { return tx.RemoveMember(t.Context(), left.ID, alice.ID) })
		last := createProject(t, s, carol, "carol's, alice is a member")
		addMember(t, s, last.ID, alice)

		tests := []struct {
			name string
			user taskwire.User
			page taskwire.Page
			want []int64
		}{
			{"All", alice, taskwire.Page{}, []int64{owned.ID, joined.ID, both.ID, last.ID}},
			{"FirstPage", alice, taskwire.Page{Limit: 2}, []int64{owned.ID, joined.ID}},
			{"SecondPage", alice, taskwire.Page{Limit: 2, After: joined.ID}, []int64{both.ID, last.ID}},
			{"PageBeyondEnd", alice, taskwire.Page{Limit: 2, After: last.ID}, []int64{}},
			{"AfterWithoutLimit", alice, taskwire.Page{After: owned.ID}, []int64{joined.ID, both.ID, last.ID}},
			{"AfterAnotherUsersID", alice, taskwire.Page{After: bobs.ID}, []int64{last.ID}},
			{"LimitLargerThanList", alice, taskwire.Page{Limit: 100}, []int64{owned.ID, joined.ID, both.ID, last.ID}},
			{"LimitOne", alice, taskwire.Page{Limit: 1, After: both.ID}, []int64{last.ID}},
			{"OtherUser", bob, taskwire.Page{}, []int64{joined.ID, bobs.ID, left.ID}},
			{"NoProjects", createUser(t, s, "dave"), taskwire.Page{}, []int64{}},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				ps, err := s.ProjectsOf(t.Context(), tc.user.ID, tc.page)
				if err != nil {
					t.Fatal(err)
				}
				if got := projectIDs(ps); !slices.Equal(got, tc.want) {
					t.Fatalf("ProjectsOf(%s, %+v) = %v, want %v", tc.user.Username, tc.page, got, tc.want)
				}
			})
		}
		t.Run("Fields", func(t *testing.T) {
			ps, err := s.ProjectsOf(t.Context(), alice.ID, taskwire.Page{Limit: 1})
			if err != nil {
				t.Fatal(err)
			}
			if len(ps) != 1 {
				t.Fatalf("got %d projects, want 1", len(ps))
			}
			checkProject(t, ps[0], owned)
		})
	})
}

func testMembers(t *testing.T, newStore func(t *testing.T) taskwire.Store) {
	t.Run("AddAndList", func(t *testing.T) {
		s := newStore(t)
		alice, bob, carol := createUser(t, s, "alice"), createUser(t, s, "bob"), createUser(t, s, "carol")
		stranger := createUser(t, s, "stranger")
		p := createProject(t, s, alice, "p")
		other := createProject(t, s, stranger, "other")
		addMember(t, s, other.ID, stranger, carol)
		// Joined out of id order: the list follows joining, not ids.
		addMember(t, s, p.ID, carol, alice, bob)

		ms, err := s.Members(t.Context(), p.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := []taskwire.User{carol, alice, bob}
		if len(ms) != len(want) {
			t.Fatalf("Members = %+v, want %d members", ms, len(want))
		}
		for i, m := range ms {
			u := want[i]
			if m.ProjectID != p.ID || m.UserID != u.ID || m.User.ID != u.ID || m.User.Email != u.Email || m.User.Username != u.Username {
				t.Errorf("Members[%d] = {project %d user %d {%d %q %q}}, want {project %d user %d {%d %q %q}}",
					i, m.ProjectID, m.UserID, m.User.ID, m.User.Email, m.User.Username, p.ID, u.ID, u.ID, u.Email, u.Username)
			}
		}

		tests := []struct {
			name      string
			projectID int64
			user      taskwire.User
			want      bool
		}{
			{"Member", p.ID, bob, true},
			{"Owner", p.ID, alice, true},
			{"Stranger", p.ID, stranger, false},
			{"MemberOfAnotherProject", other.ID, bob, false},
			{"NoSuchProject", other.ID + 100, alice, false},
			{"NoSuchUser", p.ID, taskwire.User{ID: stranger.ID + 100}, false},
		}
		for _, tc := range tests {
			t.Run("IsMember/"+tc.name, func(t *testing.T) {
				got, err := s.IsMember(t.Context(), tc.projectID, tc.user.ID)
				if err != nil {
					t.Fatal(err)
				}
				if got != tc.want {
					t.Fatalf("IsMember(%d, %d) = %v, want %v", tc.projectID, tc.user.ID, got, tc.want)
				}
			})
			t.Run("ProjectMembership/"+tc.name, func(t *testing.T) {
				gotP, got, err := s.ProjectMembership(t.Context(), tc.projectID, tc.user.ID)
				if tc.name == "NoSuchProject" {
					if taskwire.ErrorKind(err) != taskwire.NotFound || err.Error() != taskwire.MsgProjectNotFound {
						t.Fatalf("ProjectMembership(no project) err = %v, want NotFound %q", err, taskwire.MsgProjectNotFound)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if got != tc.want || gotP.ID != tc.projectID {
					t.Fatalf("ProjectMembership(%d, %d) = project %d, %v; want project %d, %v", tc.projectID, tc.user.ID, gotP.ID, got, tc.projectID, tc.want)
				}
			})
		}
	})

	t.Run("NoMembers", func(t *testing.T) {
		s := newStore(t)
		p := createProject(t, s, createUser(t, s, "alice"), "p")
		ms, err := s.Members(t.Context(), p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(ms) != 0 {
			t.Fatalf("Members of a project nobody joined = %+v, want none", ms)
		}
	})

	t.Run("DuplicateAdd", func(t *testing.T) {
		s := newStore(t)
		alice, bob := createUser(t, s, "alice"), createUser(t, s, "bob")
		p := createProject(t, s, alice, "p")
		addMember(t, s, p.ID, alice, bob)
		err := s.Update(t.Context(), func(tx taskwire.Tx) error { return tx.AddMember(t.Context(), p.ID, bob.ID) })
		wantError(t, err, taskwire.BadRequest, "")
		ms, err := s.Members(t.Context(), p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(ms) != 2 {
			t.Fatalf("after a duplicate AddMember, %d members, want 2", len(ms))
		}
	})

	t.Run("LockMember", func(t *testing.T) {
		s := newStore(t)
		alice, bob, carol := createUser(t, s, "alice"), createUser(t, s, "bob"), createUser(t, s, "carol")
		p := createProject(t, s, alice, "p")
		addMember(t, s, p.ID, alice, bob)
		want := map[int64]bool{alice.ID: true, bob.ID: true, carol.ID: false}
		update(t, s, func(tx taskwire.Tx) error {
			for id, w := range want {
				got, err := tx.LockMember(t.Context(), p.ID, id)
				if err != nil {
					return err
				}
				if got != w {
					t.Errorf("LockMember(user %d) = %v, want %v", id, got, w)
				}
			}
			// The lock does not keep the unit of work itself from removing.
			return tx.RemoveMember(t.Context(), p.ID, bob.ID)
		})
		update(t, s, func(tx taskwire.Tx) error {
			if got, err := tx.LockMember(t.Context(), p.ID, bob.ID); err != nil || got {
				t.Errorf("LockMember after the removal = %v, %v; want false", got, err)
			}
			return nil
		})
	})

	t.Run("Remove", func(t *testing.T) {
		s := newStore(t)
		alice, bob, carol := createUser(t, s, "alice"), createUser(t, s, "bob"), createUser(t, s, "carol")
		p := createProject(t, s, alice, "p")
		other := createProject(t, s, alice, "other")
		addMember(t, s, p.ID, alice, bob, carol)
		addMember(t, s, other.ID, bob)
		update(t, s, func(tx taskwire.Tx) error { return tx.RemoveMember(t.Context(), p.ID, bob.ID) })

		if ok, err := s.IsMember(t.Context(), p.ID, bob.ID); err != nil || ok {
			t.Errorf("IsMember(removed) = %v, %v; want false", ok, err)
		}
		if ok, err := s.IsMember(t.Context(), other.ID, bob.ID); err != nil || !ok {
			t.Errorf("IsMember(other project) = %v, %v; want true", ok, err)
		}
		ms, err := s.Members(t.Context(), p.ID)
		if err != nil {
			t.Fatal(err)
		}
		var got []int64
		for _, m := range ms {
			got = append(got, m.UserID)
		}
		if want := []int64{alice.ID, carol.ID}; !slices.Equal(got, want) {
			t.Fatalf("Members after RemoveMember = %v, want %v", got, want)
		}
		// The user can join again.
		addMember(t, s, p.ID, bob)
		if ok, err := s.IsMember(t.Context(), p.ID, bob.ID); err != nil || !ok {
			t.Errorf("IsMember(rejoined) = %v, %v; want true", ok, err)
		}
	})
}

func testDeleteProject(t *testing.T, newStore func(t *testing.T) taskwire.Store) {
	s := newStore(t)
	alice, bob := createUser(t, s, "alice"), createUser(t, s, "bob")
	doomed := createProject(t, s, alice, "doomed")
	kept := createProject(t, s, alice, "kept")
	addMember(t, s, doomed.ID, alice, bob)
	addMember(t, s, kept.ID, alice, bob)
	doomedTasks := []taskwire.Task{
		createTask(t, s, doomed.ID, "one", &bob.ID),
		createTask(t, s, doomed.ID, "two", nil),
	}
	keptTask := createTask(t, s, kept.ID, "stays", &bob.ID)
	appendEvent(t, s, doomed.ID, alice.ID, at(0), 1)
	appendEvent(t, s, kept.ID, alice.ID, at(0), 1)
	// As Service.DeleteProject does: the last event and the delete commit together.
	var last taskwire.Event
	update(t, s, func(tx taskwire.Tx) (err error) {
		last, err = tx.AppendEvent(t.Context(), newEvent(doomed.ID, alice.ID, at(time.Second), 2))
		if err != nil {
			return err
		}
		return tx.DeleteProject(t.Context(), doomed.ID)
	})

	t.Run("ProjectGone", func(t *testing.T) {
		_, err := s.Project(t.Context(), doomed.ID)
		wantError(t, err, taskwire.NotFound, taskwire.MsgProjectNotFound)
		ps, err := s.ProjectsOf(t.Context(), bob.ID, taskwire.Page{})
		if err != nil {
			t.Fatal(err)
		}
		if got := projectIDs(ps); !slices.Equal(got, []int64{kept.ID}) {
			t.Fatalf("ProjectsOf(bob) = %v, want [%d]", got, kept.ID)
		}
	})
	t.Run("TasksCascade", func(t *testing.T) {
		for _, task := range doomedTasks {
			_, err := s.Task(t.Context(), task.ID)
			wantError(t, err, taskwire.NotFound, taskwire.MsgTaskNotFound)
		}
		ts, err := s.Tasks(t.Context(), doomed.ID, taskwire.TaskFilter{}, taskwire.Page{})
		if err != nil {
			t.Fatal(err)
		}
		if len(ts) != 0 {
			t.Fatalf("Tasks of the deleted project = %v, want none", taskIDs(ts))
		}
	})
	t.Run("MembersCascade", func(t *testing.T) {
		if ok, err := s.IsMember(t.Context(), doomed.ID, bob.ID); err != nil || ok {
			t.Errorf("IsMember(deleted project) = %v, %v; want false", ok, err)
		}
		ms, err := s.Members(t.Context(), doomed.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(ms) != 0 {
			t.Fatalf("Members of the deleted project = %+v, want none", ms)
		}
	})
	t.Run("EventsKept", func(t *testing.T) {
		es, err := s.Events(t.Context(), doomed.ID, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(es) != 2 || es[0].Seq != 1 || es[1].Seq != 2 {
			t.Fatalf("events of the deleted project: %+v, want seqs 1 and 2", es)
		}
		checkEvent(t, es[1], last)
		seq, err := s.FirstEventSince(t.Context(), doomed.ID, at(time.Second))
		if err != nil || seq != 2 {
			t.Fatalf("FirstEventSince(deleted project) = %d, %v; want 2", seq, err)
		}
	})
	t.Run("OthersUntouched", func(t *testing.T) {
		if _, err := s.UserByID(t.Context(), bob.ID); err != nil {
			t.Errorf("UserByID(member of deleted project): %v", err)
		}
		if _, err := s.Project(t.Context(), kept.ID); err != nil {
			t.Errorf("Project(kept): %v", err)
		}
		got, err := s.Task(t.Context(), keptTask.ID)
		if err != nil {
			t.Fatal(err)
		}
		checkTask(t, got, keptTask)
		if ok, err := s.IsMember(t.Context(), kept.ID, bob.ID); err != nil || !ok {
			t.Errorf("IsMember(kept project) = %v, %v; want true", ok, err)
		}
		if got := eventSeqs(t, s, kept.ID, 0, 0); !slices.Equal(got, []int64{1}) {
			t.Errorf("events of the kept project: %v, want [1]", got)
		}
	})
}

func checkProject(t *testing.T, got, want taskwire.Project) {
	t.Helper()
	if got.ID != want.ID || got.Name != want.Name || got.OwnerID != want.OwnerID || !equalPtr(got.Description, want.Description) {
		t.Errorf("project = {%d %q %s owner %d}, want {%d %q %s owner %d}",
			got.ID, got.Name, fmtPtr(got.Description), got.OwnerID, want.ID, want.Name, fmtPtr(want.Description), want.OwnerID)
	}
	if !sameTime(got.CreatedAt, want.CreatedAt) {
		t.Errorf("project CreatedAt = %v, want %v", got.CreatedAt, want.CreatedAt)
	}
}
