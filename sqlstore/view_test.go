package sqlstore_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/taskwire/taskwire"
	"github.com/taskwire/taskwire/sqlstore"
)

// TestViewsAndReadsShareAFullPool: snapshot reads (each holding a
// connection of the reader pool for its transaction) and plain reads race
// on a pool of two connections, on statements not prepared yet. None may
// wait for a connection while holding what the holders of the connections
// wait for.
func TestViewsAndReadsShareAFullPool(t *testing.T) {
	for _, tc := range []struct {
		name string
		open func(t *testing.T) *sqlstore.DB
	}{
		{"SQLite", func(t *testing.T) *sqlstore.DB { return newDB(t, sqlstore.Options{Readers: 2}) }},
		{"PostgreSQL", func(t *testing.T) *sqlstore.DB {
			db := openPostgres(t)
			if err := db.Migrate(context.Background()); err != nil {
				t.Fatal(err)
			}
			return db
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := tc.open(t)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			var u taskwire.User
			var p taskwire.Project
			mustUpdate(t, db, func(tx taskwire.Tx) (err error) {
				if u, err = tx.CreateUser(ctx, taskwire.User{Email: "a@example.com", Username: "a", HashedPassword: "x", CreatedAt: time.Now()}); err != nil {
					return err
				}
				if p, err = tx.CreateProject(ctx, taskwire.Project{Name: "p", OwnerID: u.ID, CreatedAt: time.Now()}); err != nil {
					return err
				}
				return tx.AddMember(ctx, p.ID, u.ID)
			})
			var wg sync.WaitGroup
			for i := range 40 {
				wg.Go(func() {
					var err error
					if i%2 == 0 {
						err = db.View(ctx, func(r taskwire.Reader) error {
							if _, _, err := r.ProjectMembership(ctx, p.ID, u.ID); err != nil {
								return err
							}
							_, err := r.Members(ctx, p.ID)
							return err
						})
					} else {
						_, err = db.UserByID(ctx, u.ID)
					}
					if err != nil {
						t.Errorf("read %d: %v", i, err)
					}
				})
			}
			wg.Wait()
			if ctx.Err() != nil {
				t.Fatal("the reads did not finish within 30 s: the reader pool starved")
			}
		})
	}
}
