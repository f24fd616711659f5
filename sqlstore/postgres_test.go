package sqlstore_test

import (
	"context"
	"database/sql"
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

// TestWriterSurvivesLostConnection: the writer's connection dies in the
// middle of a batch — the server ends the backend, or a unit's statement on
// the job queue's transaction is cancelled. Every unit of the batch gets an
// error (none hangs, none reports success), and the next unit of work
// commits on a new connection.
func TestWriterSurvivesLostConnection(t *testing.T) {
	for _, tc := range []struct {
		name   string
		break_ func(ctx context.Context, tx taskwire.Tx) error
	}{
		{"BackendTerminated", func(ctx context.Context, tx taskwire.Tx) error {
			st := tx.(interface{ SQLTx() *sql.Tx }).SQLTx()
			_, err := st.ExecContext(ctx, "SELECT pg_terminate_backend(pg_backend_pid())")
			if err == nil {
				_, err = st.ExecContext(ctx, "SELECT 1")
			}
			return err
		}},
		{"StatementCancelled", func(ctx context.Context, tx taskwire.Tx) error {
			st := tx.(interface{ SQLTx() *sql.Tx }).SQLTx()
			cctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
			defer cancel()
			_, err := st.ExecContext(cctx, "SELECT pg_sleep(1)")
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := newPostgres(t)
			ctx := context.Background()
			var alice taskwire.User
			var p taskwire.Project
			mustUpdate(t, db, func(tx taskwire.Tx) (err error) {
				if alice, err = tx.CreateUser(ctx, taskwire.User{Email: "a@example.com", Username: "a", HashedPassword: "x", CreatedAt: time.Now()}); err != nil {
					return err
				}
				p, err = tx.CreateProject(ctx, taskwire.Project{Name: "p", OwnerID: alice.ID, CreatedAt: time.Now()})
				return err
			})
			appendEvent := func(tx taskwire.Tx) error {
				_, err := tx.AppendEvent(ctx, taskwire.Event{ProjectID: p.ID, ActorID: alice.ID, Type: taskwire.EventTaskCreated, Data: []byte(`{}`), TS: time.Now()})
				return err
			}
			// Hold the writer so that the next units queue into one batch.
			started, release := make(chan struct{}), make(chan struct{})
			held := make(chan error, 1)
			go func() {
				held <- db.Update(ctx, func(taskwire.Tx) error { close(started); <-release; return nil })
			}()
			<-started
			const n = 6
			errs := make(chan error, n)
			for i := range n {
				go func() {
					errs <- db.Update(ctx, func(tx taskwire.Tx) error {
						if err := appendEvent(tx); err != nil {
							return err
						}
						if i == n/2 {
							return tc.break_(ctx, tx)
						}
						return nil
					})
				}()
			}
			time.Sleep(200 * time.Millisecond) // let them queue
			close(release)
			if err := <-held; err != nil {
				t.Fatal(err)
			}
			timeout := time.After(30 * time.Second)
			committed := 0
			for range n {
				select {
				case err := <-errs:
					if err == nil {
						committed++
					}
				case <-timeout:
					t.Fatal("units of the broken batch never returned: the writer hangs")
				}
			}
			es, err := db.Events(ctx, p.ID, 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			if len(es) != committed {
				t.Fatalf("%d units reported success but the log holds %d events", committed, len(es))
			}
			done := make(chan error, 1)
			go func() { done <- db.Update(ctx, appendEvent) }()
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("the next unit of work: %v", err)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("the next unit of work never returned: the writer hangs")
			}
			t.Logf("%d of %d units committed around the break", committed, n)
		})
	}
}
