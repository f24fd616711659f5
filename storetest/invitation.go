package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/taskwire/taskwire"
)

// newInvitation returns an unsaved invitation to email in the project,
// with a token hash of its own.
func newInvitation(projectID, invitedBy int64, email, hash string) taskwire.Invitation {
	return taskwire.Invitation{ProjectID: projectID, Email: email, InvitedBy: invitedBy,
		TokenHash: taskwire.InvitationTokenHash(hash), CreatedAt: at(0), ExpiresAt: at(7 * 24 * time.Hour)}
}

func createInvitation(t *testing.T, s taskwire.Store, inv taskwire.Invitation) taskwire.Invitation {
	t.Helper()
	update(t, s, func(tx taskwire.Tx) (err error) {
		inv, err = tx.CreateInvitation(t.Context(), inv)
		return err
	})
	return inv
}

func checkInvitation(t *testing.T, got, want taskwire.Invitation) {
	t.Helper()
	if got.ID != want.ID || got.ProjectID != want.ProjectID || got.Email != want.Email || got.InvitedBy != want.InvitedBy ||
		got.TokenHash != want.TokenHash || !sameTime(got.CreatedAt, want.CreatedAt) || !sameTime(got.ExpiresAt, want.ExpiresAt) ||
		!equalPtr(got.AcceptedBy, want.AcceptedBy) || (got.AcceptedAt == nil) != (want.AcceptedAt == nil) ||
		(got.AcceptedAt != nil && !sameTime(*got.AcceptedAt, *want.AcceptedAt)) {
		t.Errorf("invitation\n got %+v\nwant %+v", got, want)
	}
}

func testInvitations(t *testing.T, newStore func(t *testing.T) taskwire.Store) {
	t.Run("CreateReadList", func(t *testing.T) {
		s := newStore(t)
		alice := createUser(t, s, "alice")
		p, q := createProject(t, s, alice, "p"), createProject(t, s, alice, "q")
		a := createInvitation(t, s, newInvitation(p.ID, alice.ID, "Bob@Example.com", "a"))
		b := createInvitation(t, s, newInvitation(p.ID, alice.ID, "ünïcødé@example.com", "b"))
		c := createInvitation(t, s, newInvitation(q.ID, alice.ID, "carol@example.com", "c"))
		if a.ID <= 0 || b.ID <= a.ID || c.ID <= b.ID {
			t.Fatalf("ids %d, %d, %d: want increasing positive ids", a.ID, b.ID, c.ID)
		}
		got, err := s.Invitation(t.Context(), a.ID)
		if err != nil {
			t.Fatal(err)
		}
		checkInvitation(t, got, a)
		if got, err = s.InvitationByToken(t.Context(), taskwire.InvitationTokenHash("b")); err != nil {
			t.Fatal(err)
		}
		checkInvitation(t, got, b)
		list, err := s.Invitations(t.Context(), p.ID)
		if err != nil || len(list) != 2 {
			t.Fatalf("Invitations = %v, %v; want a and b", list, err)
		}
		checkInvitation(t, list[0], a)
		checkInvitation(t, list[1], b)
		if list, err := s.Invitations(t.Context(), 9999); err != nil || len(list) != 0 {
			t.Errorf("Invitations of an unknown project = %v, %v; want an empty list", list, err)
		}
		update(t, s, func(tx taskwire.Tx) error {
			got, err := tx.LockInvitation(t.Context(), taskwire.InvitationTokenHash("c"))
			checkInvitation(t, got, c)
			return err
		})
	})

	t.Run("NotFound", func(t *testing.T) {
		s := newStore(t)
		_, err := s.Invitation(t.Context(), 9999)
		wantError(t, err, taskwire.NotFound, taskwire.MsgInvitationNotFound)
		_, err = s.InvitationByToken(t.Context(), taskwire.InvitationTokenHash("nope"))
		wantError(t, err, taskwire.NotFound, taskwire.MsgInvitationNotFound)
		err = s.Update(t.Context(), func(tx taskwire.Tx) error {
			_, err := tx.LockInvitation(t.Context(), taskwire.InvitationTokenHash("nope"))
			return err
		})
		wantError(t, err, taskwire.NotFound, taskwire.MsgInvitationNotFound)
		err = s.Update(t.Context(), func(tx taskwire.Tx) error { return tx.DeleteInvitation(t.Context(), 9999) })
		wantError(t, err, taskwire.NotFound, taskwire.MsgInvitationNotFound)
		err = s.Update(t.Context(), func(tx taskwire.Tx) error { return tx.AcceptInvitation(t.Context(), 9999, 1, at(0)) })
		wantError(t, err, taskwire.NotFound, taskwire.MsgInvitationNotFound)
	})

	t.Run("TokenHashUnique", func(t *testing.T) {
		s := newStore(t)
		alice := createUser(t, s, "alice")
		p := createProject(t, s, alice, "p")
		createInvitation(t, s, newInvitation(p.ID, alice.ID, "bob@example.com", "same"))
		err := s.Update(t.Context(), func(tx taskwire.Tx) error {
			_, err := tx.CreateInvitation(t.Context(), newInvitation(p.ID, alice.ID, "carol@example.com", "same"))
			return err
		})
		if err == nil {
			t.Fatal("a second invitation with the same token hash was stored")
		}
	})

	t.Run("AcceptOnce", func(t *testing.T) {
		s := newStore(t)
		alice, bob := createUser(t, s, "alice"), createUser(t, s, "bob")
		p := createProject(t, s, alice, "p")
		inv := createInvitation(t, s, newInvitation(p.ID, alice.ID, "bob@example.com", "t"))
		update(t, s, func(tx taskwire.Tx) error { return tx.AcceptInvitation(t.Context(), inv.ID, bob.ID, at(time.Hour)) })
		inv.AcceptedAt, inv.AcceptedBy = ptr(at(time.Hour)), &bob.ID
		got, err := s.Invitation(t.Context(), inv.ID)
		if err != nil {
			t.Fatal(err)
		}
		checkInvitation(t, got, inv)
		err = s.Update(t.Context(), func(tx taskwire.Tx) error { return tx.AcceptInvitation(t.Context(), inv.ID, alice.ID, at(2*time.Hour)) })
		wantError(t, err, taskwire.Gone, taskwire.MsgInvitationGone)
		if got, _ := s.Invitation(t.Context(), inv.ID); got.AcceptedBy == nil || *got.AcceptedBy != bob.ID {
			t.Errorf("a second AcceptInvitation changed it: %+v", got)
		}
	})

	// ConcurrentAccept: units that lock the invitation and accept it if
	// still pending, run at once, accept it exactly once.
	t.Run("ConcurrentAccept", func(t *testing.T) {
		s := newStore(t)
		alice := createUser(t, s, "alice")
		p := createProject(t, s, alice, "p")
		inv := createInvitation(t, s, newInvitation(p.ID, alice.ID, "bob@example.com", "race"))
		const n = 8
		var wg sync.WaitGroup
		var mu sync.Mutex
		won := 0
		for range n {
			wg.Go(func() {
				var accepted bool
				err := s.Update(t.Context(), func(tx taskwire.Tx) error {
					got, err := tx.LockInvitation(t.Context(), inv.TokenHash)
					if err != nil || got.AcceptedAt != nil {
						return err
					}
					accepted = true
					return tx.AcceptInvitation(t.Context(), got.ID, alice.ID, at(time.Hour))
				})
				if err != nil {
					t.Errorf("Update: %v", err)
				}
				mu.Lock()
				defer mu.Unlock()
				if accepted {
					won++
				}
			})
		}
		wg.Wait()
		if won != 1 {
			t.Errorf("%d units accepted the invitation, want 1", won)
		}
	})

	t.Run("Delete", func(t *testing.T) {
		s := newStore(t)
		alice, bob := createUser(t, s, "alice"), createUser(t, s, "bob")
		p := createProject(t, s, alice, "p")
		a := createInvitation(t, s, newInvitation(p.ID, alice.ID, "x@example.com", "a"))
		b := createInvitation(t, s, newInvitation(p.ID, bob.ID, "y@example.com", "b"))
		update(t, s, func(tx taskwire.Tx) error { return tx.DeleteInvitation(t.Context(), a.ID) })
		_, err := s.Invitation(t.Context(), a.ID)
		wantError(t, err, taskwire.NotFound, taskwire.MsgInvitationNotFound)
		// A deleted inviter leaves the invitation, without an inviter.
		update(t, s, func(tx taskwire.Tx) error { return tx.AcceptInvitation(t.Context(), b.ID, bob.ID, at(time.Hour)) })
		if list, err := s.Invitations(t.Context(), p.ID); err != nil || len(list) != 1 || list[0].ID != b.ID {
			t.Fatalf("Invitations after a delete = %v, %v; want only b", list, err)
		}
		// The project's deletion takes its invitations.
		update(t, s, func(tx taskwire.Tx) error { return tx.DeleteProject(t.Context(), p.ID) })
		_, err = s.Invitation(t.Context(), b.ID)
		wantError(t, err, taskwire.NotFound, taskwire.MsgInvitationNotFound)
	})
}
