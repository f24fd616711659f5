package storetest

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/taskwire/taskwire"
)

func testAPITokens(t *testing.T, newStore func(t *testing.T) taskwire.Store) {
	t.Run("CreateListAndRead", func(t *testing.T) {
		s := newStore(t)
		alice, bob := createUser(t, s, "alice"), createUser(t, s, "bob")
		exp := at(24 * time.Hour)
		first := createAPIToken(t, s, taskwire.APIToken{UserID: alice.ID, Name: "ci", Hash: hashOf("a1"), CreatedAt: at(0), ExpiresAt: &exp})
		second := createAPIToken(t, s, taskwire.APIToken{UserID: alice.ID, Name: "chat bot", Hash: hashOf("a2"), CreatedAt: at(time.Minute)})
		other := createAPIToken(t, s, taskwire.APIToken{UserID: bob.ID, Name: "ci", Hash: hashOf("b1"), CreatedAt: at(0)})
		if first.ID <= 0 || second.ID <= first.ID || other.ID == first.ID {
			t.Fatalf("ids %d, %d, %d: want positive, distinct, growing", first.ID, second.ID, other.ID)
		}

		got, err := s.APITokens(t.Context(), alice.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 {
			t.Fatalf("APITokens(alice) = %d tokens, want 2 (newest first)", len(got))
		}
		checkAPIToken(t, got[0], second)
		checkAPIToken(t, got[1], first)
		if got, err := s.APITokens(t.Context(), alice.ID+bob.ID+1); err != nil || got == nil || len(got) != 0 {
			t.Errorf("APITokens(nobody) = %v, %v; want an empty list", got, err)
		}

		tok, u, err := s.APITokenByHash(t.Context(), hashOf("a1"))
		if err != nil {
			t.Fatal(err)
		}
		checkAPIToken(t, tok, first)
		checkUser(t, u, alice)
		tok, u, err = s.APITokenByHash(t.Context(), hashOf("b1"))
		if err != nil {
			t.Fatal(err)
		}
		checkAPIToken(t, tok, other)
		checkUser(t, u, bob)
	})

	t.Run("Owners", func(t *testing.T) {
		s := newStore(t)
		alice, bob := createUser(t, s, "alice"), createUser(t, s, "bob")
		a := createAPIToken(t, s, taskwire.APIToken{UserID: alice.ID, Name: "a", Hash: hashOf("a"), CreatedAt: at(0)})
		b := createAPIToken(t, s, taskwire.APIToken{UserID: bob.ID, Name: "b", Hash: hashOf("b"), CreatedAt: at(0)})
		gone := createAPIToken(t, s, taskwire.APIToken{UserID: bob.ID, Name: "gone", Hash: hashOf("c"), CreatedAt: at(0)})
		update(t, s, func(tx taskwire.Tx) error { return tx.DeleteAPIToken(t.Context(), bob.ID, gone.ID) })
		got, err := s.APITokenOwners(t.Context(), []int64{a.ID, b.ID, gone.ID, b.ID + 100})
		if err != nil {
			t.Fatal(err)
		}
		if want := map[int64]int64{a.ID: alice.ID, b.ID: bob.ID}; !reflect.DeepEqual(got, want) {
			t.Errorf("APITokenOwners = %v, want %v", got, want)
		}
		if got, err := s.APITokenOwners(t.Context(), nil); err != nil || len(got) != 0 {
			t.Errorf("APITokenOwners(none) = %v, %v; want empty", got, err)
		}
	})

	t.Run("UnknownHash", func(t *testing.T) {
		s := newStore(t)
		alice := createUser(t, s, "alice")
		createAPIToken(t, s, taskwire.APIToken{UserID: alice.ID, Name: "ci", Hash: hashOf("a1"), CreatedAt: at(0)})
		for _, h := range []string{hashOf("nope"), "", strings.ToUpper(hashOf("a1"))} {
			_, _, err := s.APITokenByHash(t.Context(), h)
			wantError(t, err, taskwire.NotFound, taskwire.MsgTokenNotFound)
		}
	})

	t.Run("HashIsUnique", func(t *testing.T) {
		s := newStore(t)
		alice, bob := createUser(t, s, "alice"), createUser(t, s, "bob")
		createAPIToken(t, s, taskwire.APIToken{UserID: alice.ID, Name: "ci", Hash: hashOf("same"), CreatedAt: at(0)})
		err := s.Update(t.Context(), func(tx taskwire.Tx) error {
			_, err := tx.CreateAPIToken(t.Context(), taskwire.APIToken{UserID: bob.ID, Name: "ci", Hash: hashOf("same"), CreatedAt: at(0)})
			return err
		})
		wantError(t, err, taskwire.Conflict, "")
	})

	t.Run("Delete", func(t *testing.T) {
		s := newStore(t)
		alice, bob := createUser(t, s, "alice"), createUser(t, s, "bob")
		tok := createAPIToken(t, s, taskwire.APIToken{UserID: alice.ID, Name: "ci", Hash: hashOf("a1"), CreatedAt: at(0)})
		keep := createAPIToken(t, s, taskwire.APIToken{UserID: alice.ID, Name: "keep", Hash: hashOf("a2"), CreatedAt: at(0)})
		del := func(userID, id int64) error {
			return s.Update(t.Context(), func(tx taskwire.Tx) error { return tx.DeleteAPIToken(t.Context(), userID, id) })
		}
		wantError(t, del(bob.ID, tok.ID), taskwire.NotFound, taskwire.MsgTokenNotFound)
		wantError(t, del(alice.ID, keep.ID+100), taskwire.NotFound, taskwire.MsgTokenNotFound)
		if err := del(alice.ID, tok.ID); err != nil {
			t.Fatalf("DeleteAPIToken: %v", err)
		}
		wantError(t, del(alice.ID, tok.ID), taskwire.NotFound, taskwire.MsgTokenNotFound)
		_, _, err := s.APITokenByHash(t.Context(), hashOf("a1"))
		wantError(t, err, taskwire.NotFound, taskwire.MsgTokenNotFound)
		got, err := s.APITokens(t.Context(), alice.ID)
		if err != nil {
			t.Fatal(err)
		}
		if ids := apiTokenIDs(got); !slices.Equal(ids, []int64{keep.ID}) {
			t.Errorf("APITokens after delete = %v, want [%d]", ids, keep.ID)
		}
	})

	t.Run("Touch", func(t *testing.T) {
		s := newStore(t)
		alice := createUser(t, s, "alice")
		tok := createAPIToken(t, s, taskwire.APIToken{UserID: alice.ID, Name: "ci", Hash: hashOf("a1"), CreatedAt: at(0)})
		touch := func(id int64, when time.Time) {
			t.Helper()
			update(t, s, func(tx taskwire.Tx) error { return tx.TouchAPIToken(t.Context(), id, when) })
		}
		lastUsed := func() *time.Time {
			t.Helper()
			got, _, err := s.APITokenByHash(t.Context(), hashOf("a1"))
			if err != nil {
				t.Fatal(err)
			}
			return got.LastUsedAt
		}
		if lu := lastUsed(); lu != nil {
			t.Fatalf("a new token's LastUsedAt = %v, want nil", lu)
		}
		touch(tok.ID, at(time.Hour))
		if lu := lastUsed(); lu == nil || !sameTime(*lu, at(time.Hour)) {
			t.Fatalf("LastUsedAt = %v, want %v", lu, at(time.Hour))
		}
		touch(tok.ID, at(time.Minute)) // an older use, written late
		if lu := lastUsed(); lu == nil || !sameTime(*lu, at(time.Hour)) {
			t.Fatalf("LastUsedAt after an older touch = %v, want %v still", lu, at(time.Hour))
		}
		touch(tok.ID, at(2*time.Hour))
		if lu := lastUsed(); lu == nil || !sameTime(*lu, at(2*time.Hour)) {
			t.Fatalf("LastUsedAt = %v, want %v", lu, at(2*time.Hour))
		}
		touch(tok.ID+100, at(time.Hour)) // a revoked token: nothing to do
	})
}

// hashOf returns a hash-like text for s (the store does not check it).
func hashOf(s string) string { return strings.Repeat("0", 64-len(s)) + s }

func createAPIToken(t *testing.T, s taskwire.Store, tok taskwire.APIToken) taskwire.APIToken {
	t.Helper()
	update(t, s, func(tx taskwire.Tx) (err error) {
		tok, err = tx.CreateAPIToken(t.Context(), tok)
		return err
	})
	return tok
}

func checkAPIToken(t *testing.T, got, want taskwire.APIToken) {
	t.Helper()
	if got.ID != want.ID || got.UserID != want.UserID || got.Name != want.Name || got.Hash != want.Hash {
		t.Errorf("token = {%d %d %q %q}, want {%d %d %q %q}", got.ID, got.UserID, got.Name, got.Hash, want.ID, want.UserID, want.Name, want.Hash)
	}
	if !sameTime(got.CreatedAt, want.CreatedAt) {
		t.Errorf("CreatedAt = %v, want %v", got.CreatedAt, want.CreatedAt)
	}
	for _, f := range []struct {
		name      string
		got, want *time.Time
	}{{"ExpiresAt", got.ExpiresAt, want.ExpiresAt}, {"LastUsedAt", got.LastUsedAt, want.LastUsedAt}} {
		if (f.got == nil) != (f.want == nil) || f.got != nil && !sameTime(*f.got, *f.want) {
			t.Errorf("%s = %v, want %v", f.name, f.got, f.want)
		}
	}
}

func apiTokenIDs(ts []taskwire.APIToken) []int64 {
	ids := make([]int64, len(ts))
	for i, tok := range ts {
		ids[i] = tok.ID
	}
	return ids
}
