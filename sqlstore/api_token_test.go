package sqlstore_test

import (
	"testing"

	"github.com/taskwire/taskwire"
	"github.com/taskwire/taskwire/sqlstore"
	"github.com/taskwire/taskwire/storetest"
)

// TestAPITokensGoWithTheirUser: deleting a user (no route does; an operator
// may) deletes their API tokens, on both databases.
func TestAPITokensGoWithTheirUser(t *testing.T) {
	stores := map[string]func(t *testing.T) *sqlstore.DB{
		"SQLite":     func(t *testing.T) *sqlstore.DB { return newDB(t, sqlstore.Options{}) },
		"PostgreSQL": func(t *testing.T) *sqlstore.DB { storetest.PostgresURL(t); return newPostgres(t) },
	}
	for name, open := range stores {
		t.Run(name, func(t *testing.T) {
			db := open(t)
			ctx := t.Context()
			var u taskwire.User
			err := db.Update(ctx, func(tx taskwire.Tx) (err error) {
				u, err = tx.CreateUser(ctx, taskwire.User{Email: "a@example.com", Username: "a", HashedPassword: "x"})
				if err != nil {
					return err
				}
				_, err = tx.CreateAPIToken(ctx, taskwire.APIToken{UserID: u.ID, Name: "ci", Hash: "h1"})
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.RawExec(ctx, "DELETE FROM users WHERE id = ?", u.ID); err != nil {
				t.Fatal(err)
			}
			n, err := db.RawColumn(ctx, "SELECT CAST(COUNT(*) AS TEXT) FROM api_tokens")
			if err != nil {
				t.Fatal(err)
			}
			if n[0] != "0" {
				t.Errorf("%s API tokens left after their user was deleted, want 0", n[0])
			}
			_, _, err = db.APITokenByHash(ctx, "h1")
			if taskwire.ErrorKind(err) != taskwire.NotFound {
				t.Errorf("APITokenByHash after the user was deleted: %v, want NotFound", err)
			}
		})
	}
}
