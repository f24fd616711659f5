package storetest

import (
	"errors"
	"testing"

	"github.com/taskwire/taskwire"
)

// testView: a View's reads all see the database as of its first read,
// whatever commits meanwhile; an error from fn is returned as it is.
func testView(t *testing.T, newStore func(t *testing.T) taskwire.Store) {
	t.Run("OneSnapshot", func(t *testing.T) {
		s := newStore(t)
		ctx := t.Context()
		owner := createUser(t, s, "owner")
		p := createProject(t, s, owner, "p")
		createTask(t, s, p.ID, "first", nil)
		appendEvent(t, s, p.ID, owner.ID, at(0), 1)
		err := s.View(ctx, func(r taskwire.Reader) error {
			before, err := r.Project(ctx, p.ID)
			if err != nil {
				return err
			}
			// Commits after the view's first read: it must not see them.
			createTask(t, s, p.ID, "second", nil)
			appendEvent(t, s, p.ID, owner.ID, at(0), 2)
			after, err := r.Project(ctx, p.ID)
			if err != nil {
				return err
			}
			if before.LastSeq != 1 || after.LastSeq != 1 {
				t.Errorf("LastSeq in one view = %d then %d, want 1 both times", before.LastSeq, after.LastSeq)
			}
			tasks, err := r.Tasks(ctx, p.ID, taskwire.TaskFilter{}, taskwire.Page{})
			if err != nil {
				return err
			}
			if len(tasks) != 1 {
				t.Errorf("view sees %d tasks, want the 1 of its snapshot", len(tasks))
			}
			events, err := r.Events(ctx, p.ID, 0, 0)
			if err != nil {
				return err
			}
			if len(events) != 1 {
				t.Errorf("view sees %d events, want the 1 of its snapshot", len(events))
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		// A new view sees both commits.
		err = s.View(ctx, func(r taskwire.Reader) error {
			p, err := r.Project(ctx, p.ID)
			if err == nil && p.LastSeq != 2 {
				t.Errorf("a later view sees LastSeq %d, want 2", p.LastSeq)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	})
	t.Run("ErrorReturned", func(t *testing.T) {
		s := newStore(t)
		want := errors.New("stop")
		if err := s.View(t.Context(), func(taskwire.Reader) error { return want }); err != want {
			t.Errorf("View returned %v, want fn's error", err)
		}
		err := s.View(t.Context(), func(r taskwire.Reader) error {
			_, err := r.Project(t.Context(), 999)
			return err
		})
		wantError(t, err, taskwire.NotFound, taskwire.MsgProjectNotFound)
	})
}
