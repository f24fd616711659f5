package storetest

import (
	"testing"

	"github.com/taskwire/taskwire"
)

func testUsers(t *testing.T, newStore func(t *testing.T) taskwire.Store) {
	t.Run("CreateAndRead", func(t *testing.T) {
		s := newStore(t)
		want := newUser("alice")
		got := createUser(t, s, "alice")
		if got.ID <= 0 {
			t.Fatalf("CreateUser: ID = %d, want a positive id", got.ID)
		}
		want.ID = got.ID
		reads := []struct {
			name string
			read func() (taskwire.User, error)
		}{
			{"ByID", func() (taskwire.User, error) { return s.UserByID(t.Context(), got.ID) }},
			{"ByUsername", func() (taskwire.User, error) { return s.UserByUsername(t.Context(), "alice") }},
			{"ByEmail", func() (taskwire.User, error) { return s.UserByEmail(t.Context(), "alice@example.com") }},
		}
		for _, r := range reads {
			t.Run(r.name, func(t *testing.T) {
				u, err := r.read()
				if err != nil {
					t.Fatal(err)
				}
				checkUser(t, u, want)
			})
		}
	})

	t.Run("DistinctIDs", func(t *testing.T) {
		s := newStore(t)
		a, b := createUser(t, s, "alice"), createUser(t, s, "bob")
		if a.ID == b.ID {
			t.Fatalf("two users share id %d", a.ID)
		}
		u, err := s.UserByID(t.Context(), b.ID)
		if err != nil {
			t.Fatal(err)
		}
		if u.Username != "bob" {
			t.Fatalf("UserByID(%d).Username = %q, want bob", b.ID, u.Username)
		}
	})

	t.Run("NotFound", func(t *testing.T) {
		s := newStore(t)
		alice := createUser(t, s, "alice")
		tests := []struct {
			name string
			read func() (taskwire.User, error)
		}{
			{"ByID", func() (taskwire.User, error) { return s.UserByID(t.Context(), alice.ID+100) }},
			{"ByUsername", func() (taskwire.User, error) { return s.UserByUsername(t.Context(), "nobody") }},
			{"ByEmail", func() (taskwire.User, error) { return s.UserByEmail(t.Context(), "nobody@example.com") }},
			{"ByUsernameIsExact", func() (taskwire.User, error) { return s.UserByUsername(t.Context(), "alic") }},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				_, err := tc.read()
				wantError(t, err, taskwire.NotFound, taskwire.MsgUserNotFound)
			})
		}
	})

	duplicates := []struct {
		name  string
		user  taskwire.User
		field string // the taken field, per Tx.CreateUser's contract
	}{
		{"Email", taskwire.User{Email: "alice@example.com", Username: "alice2", HashedPassword: "x", CreatedAt: at(0)}, "email"},
		{"Username", taskwire.User{Email: "alice2@example.com", Username: "alice", HashedPassword: "x", CreatedAt: at(0)}, "username"},
	}
	t.Run("Duplicate", func(t *testing.T) {
		for _, tc := range duplicates {
			t.Run(tc.name, func(t *testing.T) {
				s := newStore(t)
				alice := createUser(t, s, "alice")
				err := s.Update(t.Context(), func(tx taskwire.Tx) error {
					_, err := tx.CreateUser(t.Context(), tc.user)
					return err
				})
				wantError(t, err, taskwire.Conflict, "")
				// Neither the new user nor a change to the old one is visible.
				if _, err := s.UserByEmail(t.Context(), "alice2@example.com"); taskwire.ErrorKind(err) != taskwire.NotFound {
					t.Errorf("UserByEmail(alice2) after the conflict: err = %v, want NotFound", err)
				}
				if _, err := s.UserByUsername(t.Context(), "alice2"); taskwire.ErrorKind(err) != taskwire.NotFound {
					t.Errorf("UserByUsername(alice2) after the conflict: err = %v, want NotFound", err)
				}
				u, err := s.UserByID(t.Context(), alice.ID)
				if err != nil {
					t.Fatal(err)
				}
				checkUser(t, u, alice)
			})
		}
	})

	// Tx.CreateUser documents "Conflict with Field "email" or "username"".
	t.Run("DuplicateNamesField", func(t *testing.T) {
		for _, tc := range duplicates {
			t.Run(tc.name, func(t *testing.T) {
				s := newStore(t)
				createUser(t, s, "alice")
				err := s.Update(t.Context(), func(tx taskwire.Tx) error {
					_, err := tx.CreateUser(t.Context(), tc.user)
					return err
				})
				e, ok := taskwire.AsError(err)
				if !ok || e.Kind != taskwire.Conflict {
					t.Fatalf("err = %v, want a Conflict *taskwire.Error", err)
				}
				if e.Field != tc.field {
					t.Errorf("Conflict Field = %q, want %q (err: %v)", e.Field, tc.field, err)
				}
			})
		}
	})

	t.Run("ReadOwnWriteInUnit", func(t *testing.T) {
		s := newStore(t)
		update(t, s, func(tx taskwire.Tx) error {
			u, err := tx.CreateUser(t.Context(), newUser("alice"))
			if err != nil {
				return err
			}
			got, err := tx.UserByID(t.Context(), u.ID)
			if err != nil {
				t.Errorf("UserByID inside the unit of work: %v", err)
			} else if got.Username != "alice" {
				t.Errorf("UserByID inside the unit of work: Username = %q, want alice", got.Username)
			}
			if _, err := tx.UserByEmail(t.Context(), "alice@example.com"); err != nil {
				t.Errorf("UserByEmail inside the unit of work: %v", err)
			}
			return nil
		})
	})
}

func checkUser(t *testing.T, got, want taskwire.User) {
	t.Helper()
	if got.ID != want.ID || got.Email != want.Email || got.Username != want.Username || got.HashedPassword != want.HashedPassword {
		t.Errorf("user = {%d %q %q %q}, want {%d %q %q %q}",
			got.ID, got.Email, got.Username, got.HashedPassword, want.ID, want.Email, want.Username, want.HashedPassword)
	}
	if !sameTime(got.CreatedAt, want.CreatedAt) {
		t.Errorf("CreatedAt = %v, want %v", got.CreatedAt, want.CreatedAt)
	}
}
