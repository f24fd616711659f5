package sqlstore_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/taskwire/taskwire"
	"github.com/taskwire/taskwire/sqlstore"
	"github.com/taskwire/taskwire/storetest"
)

func newPostgres(t *testing.T) *sqlstore.DB {
	ctx := context.Background()
	target, err := sqlstore.ParseURL(storetest.PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlstore.Open(ctx, target, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return db
}

func TestStorePostgres(t *testing.T) {
	storetest.PostgresURL(t) // skips early when there is no PostgreSQL
	storetest.Run(t, func(t *testing.T) taskwire.Store { return newPostgres(t) })
}

// TestGroupCommitPostgres: the batch writer on PostgreSQL, where a failed
// statement aborts the transaction until the unit's savepoint is rolled
// back.
func TestGroupCommitPostgres(t *testing.T) {
	testGroupCommit(t, newPostgres(t))
}

// TestWriteKeysKeepOrder: units of work on several projects, each keyed by
// its project, run on parallel writers; each project's log has no gap and
// its after-commit hooks run in seq order.
func TestWriteKeysKeepOrder(t *testing.T) {
	db := newPostgres(t)
	ctx := context.Background()
	var alice taskwire.User
	projects := make([]taskwire.Project, 6)
	mustUpdate(t, db, func(tx taskwire.Tx) (err error) {
		if alice, err = tx.CreateUser(ctx, taskwire.User{Email: "a@example.com", Username: "a", HashedPassword: "x", CreatedAt: time.Now()}); err != nil {
			return err
		}
		for i := range projects {
			if projects[i], err = tx.CreateProject(ctx, taskwire.Project{Name: fmt.Sprint("p", i), OwnerID: alice.ID, CreatedAt: time.Now()}); err != nil {
				return err
			}
		}
		return nil
	})
	const perProject = 100
	var mu sync.Mutex
	hooked := map[int64][]int64{} // project → seqs in hook order
	var wg sync.WaitGroup
	for _, p := range projects {
		for range perProject {
			wg.Go(func() {
				err := db.Update(taskwire.WithWriteKey(ctx, p.ID), func(tx taskwire.Tx) error {
					e, err := tx.AppendEvent(ctx, taskwire.Event{ProjectID: p.ID, ActorID: alice.ID, Type: taskwire.EventTaskCreated, Data: []byte(`{}`), TS: time.Now()})
					if err != nil {
						return err
					}
					tx.AfterCommit(func() {
						mu.Lock()
						hooked[p.ID] = append(hooked[p.ID], e.Seq)
						mu.Unlock()
					})
					return nil
				})
				if err != nil {
					t.Error(err)
				}
			})
		}
	}
	wg.Wait()
	for _, p := range projects {
		got := hooked[p.ID]
		if len(got) != perProject || !slices.IsSorted(got) || got[0] != 1 || got[len(got)-1] != perProject {
			t.Errorf("project %d: hooks ran for seqs %v, want 1..%d in order", p.ID, got, perProject)
		}
	}
}
