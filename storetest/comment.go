package storetest

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/taskwire/taskwire"
)

func testComments(t *testing.T, newStore func(t *testing.T) taskwire.Store) {
	t.Run("CreateAndRead", func(t *testing.T) {
		tests := []struct {
			name     string
			body     string
			mentions []int64 // nil: none
		}{
			{"Plain", "Looks good", nil},
			{"Mentions", "@bob and @carol, see above", []int64{2, 3}},
			{"Unicode", "ünïcødé ✓ 東京 \"quoted\" <b>&amp;</b>\n\ttabs and lines", []int64{2}},
			{"Longest", strings.Repeat("é", taskwire.MaxCommentLen), nil},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				s := newStore(t)
				alice, bob, carol := createUser(t, s, "alice"), createUser(t, s, "bob"), createUser(t, s, "carol")
				p := createProject(t, s, alice, "p")
				addMember(t, s, p.ID, alice, bob)
				task := createTask(t, s, p.ID, "t", nil)
				want := taskwire.Comment{TaskID: task.ID, ProjectID: p.ID, AuthorID: alice.ID, Body: tc.body,
					Mentions: tc.mentions, CreatedAt: at(0), UpdatedAt: at(time.Second)}
				created := createComment(t, s, want)
				if created.ID <= 0 {
					t.Fatalf("CreateComment: ID = %d, want a positive id", created.ID)
				}
				want.ID = created.ID
				if want.Mentions == nil {
					want.Mentions = []int64{} // read back as an empty list, never null
				}
				checkComment(t, created, want)
				got, err := s.Comment(t.Context(), created.ID)
				if err != nil {
					t.Fatal(err)
				}
				checkComment(t, got, want)
				list, err := s.Comments(t.Context(), task.ID, taskwire.Page{})
				if err != nil || len(list) != 1 {
					t.Fatalf("Comments = %v, %v; want the one comment", list, err)
				}
				checkComment(t, list[0], want)
				wantProject, err := s.Project(t.Context(), p.ID)
				if err != nil {
					t.Fatal(err)
				}
				for _, who := range []struct {
					user   taskwire.User
					member bool
				}{{alice, true}, {bob, true}, {carol, false}} {
					update(t, s, func(tx taskwire.Tx) error {
						locked, lp, member, err := tx.LockComment(t.Context(), created.ID, who.user.ID)
						if err != nil {
							return err
						}
						checkComment(t, locked, want)
						if lp.ID != wantProject.ID || lp.OwnerID != alice.ID || lp.Name != "p" || lp.LastSeq != wantProject.LastSeq {
							t.Errorf("LockComment project = %+v, want %+v", lp, wantProject)
						}
						if member != who.member {
							t.Errorf("LockComment(%s) member = %v, want %v", who.user.Username, member, who.member)
						}
						return nil
					})
				}
			})
		}
	})

	t.Run("NotFound", func(t *testing.T) {
		s := newStore(t)
		alice := createUser(t, s, "alice")
		p := createProject(t, s, alice, "p")
		task := createTask(t, s, p.ID, "t", nil)
		c := createComment(t, s, taskwire.Comment{TaskID: task.ID, ProjectID: p.ID, AuthorID: alice.ID, Body: "x", CreatedAt: at(0), UpdatedAt: at(0)})
		missing := c.ID + 100
		t.Run("Comment", func(t *testing.T) {
			_, err := s.Comment(t.Context(), missing)
			wantError(t, err, taskwire.NotFound, taskwire.MsgCommentNotFound)
		})
		t.Run("LockComment", func(t *testing.T) {
			err := s.Update(t.Context(), func(tx taskwire.Tx) error {
				_, _, _, err := tx.LockComment(t.Context(), missing, alice.ID)
				return err
			})
			wantError(t, err, taskwire.NotFound, taskwire.MsgCommentNotFound)
		})
		t.Run("CommentsOfMissingTask", func(t *testing.T) {
			cs, err := s.Comments(t.Context(), task.ID+100, taskwire.Page{})
			if err != nil || len(cs) != 0 {
				t.Fatalf("Comments(missing task) = %v, %v; want none", cs, err)
			}
		})
	})

	t.Run("UpdateAndDelete", func(t *testing.T) {
		s := newStore(t)
		alice, bob := createUser(t, s, "alice"), createUser(t, s, "bob")
		p := createProject(t, s, alice, "p")
		task := createTask(t, s, p.ID, "t", nil)
		c := createComment(t, s, taskwire.Comment{TaskID: task.ID, ProjectID: p.ID, AuthorID: alice.ID, Body: "first @bob",
			Mentions: []int64{bob.ID}, CreatedAt: at(0), UpdatedAt: at(0)})
		bystander := createComment(t, s, taskwire.Comment{TaskID: task.ID, ProjectID: p.ID, AuthorID: bob.ID, Body: "bystander",
			CreatedAt: at(0), UpdatedAt: at(0)})
		for i, st := range []struct {
			name     string
			body     string
			mentions []int64
		}{
			{"MentionsDropped", "second", []int64{}},
			{"MentionsAdded", "third @alice @bob", []int64{alice.ID, bob.ID}},
		} {
			t.Run(st.name, func(t *testing.T) {
				want := c
				want.Body, want.Mentions, want.UpdatedAt = st.body, st.mentions, at(time.Duration(i+1)*time.Minute)
				update(t, s, func(tx taskwire.Tx) error { return tx.UpdateComment(t.Context(), want) })
				got, err := s.Comment(t.Context(), c.ID)
				if err != nil {
					t.Fatal(err)
				}
				checkComment(t, got, want)
				c = want
			})
		}
		got, err := s.Comment(t.Context(), bystander.ID)
		if err != nil {
			t.Fatal(err)
		}
		checkComment(t, got, bystander)

		t.Run("Delete", func(t *testing.T) {
			update(t, s, func(tx taskwire.Tx) error { return tx.DeleteComment(t.Context(), c.ID) })
			_, err := s.Comment(t.Context(), c.ID)
			wantError(t, err, taskwire.NotFound, taskwire.MsgCommentNotFound)
			cs, err := s.Comments(t.Context(), task.ID, taskwire.Page{})
			if err != nil {
				t.Fatal(err)
			}
			if got := commentIDs(cs); !slices.Equal(got, []int64{bystander.ID}) {
				t.Fatalf("Comments after DeleteComment = %v, want [%d]", got, bystander.ID)
			}
		})
	})

	t.Run("ListOldestFirst", func(t *testing.T) {
		s := newStore(t)
		alice := createUser(t, s, "alice")
		p := createProject(t, s, alice, "p")
		task, other := createTask(t, s, p.ID, "t", nil), createTask(t, s, p.ID, "other", nil)
		var ids []int64
		for i := range 5 {
			mk := func(taskID int64) int64 {
				return createComment(t, s, taskwire.Comment{TaskID: taskID, ProjectID: p.ID, AuthorID: alice.ID, Body: "c",
					CreatedAt: at(time.Duration(i) * time.Second), UpdatedAt: at(time.Duration(i) * time.Second)}).ID
			}
			ids = append(ids, mk(task.ID))
			mk(other.ID) // interleaved: another task's comments are never listed
		}
		tests := []struct {
			name string
			page taskwire.Page
			want []int64
		}{
			{"All", taskwire.Page{}, ids},
			{"FirstPage", taskwire.Page{Limit: 2}, ids[:2]},
			{"SecondPage", taskwire.Page{Limit: 2, After: ids[1]}, ids[2:4]},
			{"LastPage", taskwire.Page{Limit: 2, After: ids[3]}, ids[4:]},
			{"PageBeyondEnd", taskwire.Page{Limit: 2, After: ids[4]}, []int64{}},
			{"AfterWithoutLimit", taskwire.Page{After: ids[2]}, ids[3:]},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				cs, err := s.Comments(t.Context(), task.ID, tc.page)
				if err != nil {
					t.Fatal(err)
				}
				if got := commentIDs(cs); !slices.Equal(got, tc.want) {
					t.Fatalf("Comments(%+v) = %v, want %v", tc.page, got, tc.want)
				}
			})
		}
	})

	// A task's comments go with it, and a project's with its tasks: the
	// schema's cascades (on SQLite, proof that foreign keys are on).
	t.Run("Cascade", func(t *testing.T) {
		s := newStore(t)
		alice := createUser(t, s, "alice")
		p, kept := createProject(t, s, alice, "p"), createProject(t, s, alice, "kept")
		doomed, survivor := createTask(t, s, p.ID, "doomed", nil), createTask(t, s, p.ID, "survivor", nil)
		keptTask := createTask(t, s, kept.ID, "elsewhere", nil)
		comment := func(task taskwire.Task) taskwire.Comment {
			return createComment(t, s, taskwire.Comment{TaskID: task.ID, ProjectID: task.ProjectID, AuthorID: alice.ID, Body: "c",
				CreatedAt: at(0), UpdatedAt: at(0)})
		}
		ofDoomed, ofSurvivor, ofKept := comment(doomed), comment(survivor), comment(keptTask)

		update(t, s, func(tx taskwire.Tx) error { return tx.DeleteTask(t.Context(), doomed.ID) })
		_, err := s.Comment(t.Context(), ofDoomed.ID)
		wantError(t, err, taskwire.NotFound, taskwire.MsgCommentNotFound)
		if _, err := s.Comment(t.Context(), ofSurvivor.ID); err != nil {
			t.Fatalf("a comment of another task went with the deleted task: %v", err)
		}

		update(t, s, func(tx taskwire.Tx) error { return tx.DeleteProject(t.Context(), p.ID) })
		_, err = s.Comment(t.Context(), ofSurvivor.ID)
		wantError(t, err, taskwire.NotFound, taskwire.MsgCommentNotFound)
		if cs, err := s.Comments(t.Context(), survivor.ID, taskwire.Page{}); err != nil || len(cs) != 0 {
			t.Fatalf("Comments of the deleted project's task = %v, %v; want none", commentIDs(cs), err)
		}
		if _, err := s.Comment(t.Context(), ofKept.ID); err != nil {
			t.Fatalf("a comment of another project went with the deleted project: %v", err)
		}
	})

	t.Run("TaskMustExist", func(t *testing.T) {
		s := newStore(t)
		alice := createUser(t, s, "alice")
		p := createProject(t, s, alice, "p")
		task := createTask(t, s, p.ID, "t", nil)
		err := s.Update(t.Context(), func(tx taskwire.Tx) error {
			_, err := tx.CreateComment(t.Context(), taskwire.Comment{TaskID: task.ID + 100, ProjectID: p.ID, AuthorID: alice.ID,
				Body: "orphan", CreatedAt: at(0), UpdatedAt: at(0)})
			return err
		})
		if err == nil {
			t.Fatal("CreateComment on a missing task succeeded; want a foreign key error")
		}
	})
}

func createComment(t *testing.T, s taskwire.Store, c taskwire.Comment) taskwire.Comment {
	t.Helper()
	update(t, s, func(tx taskwire.Tx) (err error) {
		c, err = tx.CreateComment(t.Context(), c)
		return err
	})
	return c
}

func checkComment(t *testing.T, got, want taskwire.Comment) {
	t.Helper()
	wantMentions := want.Mentions
	if wantMentions == nil {
		wantMentions = []int64{}
	}
	if got.ID != want.ID || got.TaskID != want.TaskID || got.ProjectID != want.ProjectID || got.AuthorID != want.AuthorID ||
		got.Body != want.Body || got.Mentions == nil || !slices.Equal(got.Mentions, wantMentions) {
		t.Errorf("comment = {id %d task %d project %d author %d %q mentions %v}, want {id %d task %d project %d author %d %q mentions %v}",
			got.ID, got.TaskID, got.ProjectID, got.AuthorID, got.Body, got.Mentions,
			want.ID, want.TaskID, want.ProjectID, want.AuthorID, want.Body, wantMentions)
	}
	if !sameTime(got.CreatedAt, want.CreatedAt) || !sameTime(got.UpdatedAt, want.UpdatedAt) {
		t.Errorf("comment %d times = (%v, %v), want (%v, %v)", got.ID, got.CreatedAt, got.UpdatedAt, want.CreatedAt, want.UpdatedAt)
	}
}

func commentIDs(cs []taskwire.Comment) []int64 {
	ids := []int64{}
	for _, c := range cs {
		ids = append(ids, c.ID)
	}
	return ids
}
