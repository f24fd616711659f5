package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
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
			release := holdWriter(db)
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
			if err := release(); err != nil {
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

// TestBatchWithoutSavepointsPostgres: on PostgreSQL a batch first runs
// without savepoints. A unit that fails having only read leaves the others
// committed in that one pass; a unit that fails after a write, or whose
// read failed at the server (the transaction is then aborted), makes the
// batch run again with savepoints, where it fails alone with its own
// error. A task write held back for the event's statement is seen by the
// unit's later reads and is never lost.
func TestBatchWithoutSavepointsPostgres(t *testing.T) {
	db := newPostgres(t)
	ctx := context.Background()
	var alice taskwire.User
	var p taskwire.Project
	var task taskwire.Task
	mustUpdate(t, db, func(tx taskwire.Tx) (err error) {
		if alice, err = tx.CreateUser(ctx, taskwire.User{Email: "a@example.com", Username: "a", HashedPassword: "x", CreatedAt: time.Now()}); err != nil {
			return err
		}
		if p, err = tx.CreateProject(ctx, taskwire.Project{Name: "p", OwnerID: alice.ID, CreatedAt: time.Now()}); err != nil {
			return err
		}
		task, err = tx.CreateTask(ctx, taskwire.Task{Title: "t0", Status: taskwire.StatusTodo, ProjectID: p.ID, Version: 1, CreatedAt: time.Now(), UpdatedAt: time.Now()})
		return err
	})
	errRefused := errors.New("refused after reading")
	noSuchUser := int64(1 << 40)

	// Each good unit renames the task, reads it back, appends an event.
	// failing is the unit placed in the middle of the batch.
	for _, tc := range []struct {
		name    string
		failing func(tx taskwire.Tx) error
		wantErr func(error) bool
		rerun   bool // the batch runs again, with savepoints
	}{
		{"FailsAfterReads", func(tx taskwire.Tx) error {
			if _, _, _, err := tx.LockTask(ctx, task.ID, alice.ID); err != nil {
				return err
			}
			return errRefused
		}, func(err error) bool { return errors.Is(err, errRefused) }, false},
		{"ReadFailsAtServer", func(tx taskwire.Tx) error {
			_, err := tx.UserByUsername(ctx, "bad\xffutf8")
			return err
		}, func(err error) bool { return err != nil && !strings.Contains(err.Error(), "25P02") }, true},
		{"HeldWriteFailsWithItsEvent", func(tx taskwire.Tx) error {
			bad := task
			bad.AssigneeID = &noSuchUser // a foreign key violation, reported with the event
			if err := tx.UpdateTask(ctx, bad); err != nil {
				return err
			}
			_, err := tx.AppendEvent(ctx, taskwire.Event{ProjectID: p.ID, ActorID: alice.ID, Type: taskwire.EventTaskUpdated, Data: []byte(`{}`), TS: time.Now()})
			return err
		}, func(err error) bool { return err != nil && strings.Contains(err.Error(), "23503") }, true},
		{"PanicsAfterAWrite", func(tx taskwire.Tx) error {
			if _, err := tx.AppendEvent(ctx, taskwire.Event{ProjectID: p.ID, ActorID: alice.ID, Type: taskwire.EventTaskUpdated, Data: []byte(`{}`), TS: time.Now()}); err != nil {
				return err
			}
			panic("after a write")
		}, func(err error) bool { return err != nil && strings.Contains(err.Error(), "after a write") }, true},
		{"FailsAfterAJobInsert", func(tx taskwire.Tx) error {
			// The job queue writes through the unit's transaction.
			st := tx.(interface{ SQLTx() *sql.Tx }).SQLTx()
			if _, err := st.ExecContext(ctx, "CREATE TEMPORARY TABLE unit_jobs (id int)"); err != nil {
				return err
			}
			return errRefused
		}, func(err error) bool { return errors.Is(err, errRefused) }, true},
		{"HeldWriteFailsBeforeARead", func(tx taskwire.Tx) error {
			bad := task
			bad.AssigneeID = &noSuchUser
			if err := tx.UpdateTask(ctx, bad); err != nil {
				return err
			}
			_, err := tx.Task(ctx, task.ID)
			return err
		}, func(err error) bool { return err != nil && strings.Contains(err.Error(), "23503") }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before, err := db.Events(ctx, p.ID, 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			release := holdWriter(db)
			const n = 7
			var runs [n]atomic.Int32
			errs := make([]error, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					errs[i] = db.Update(ctx, func(tx taskwire.Tx) error {
						runs[i].Add(1)
						if i == n/2 {
							return tc.failing(tx)
						}
						cur, err := tx.Task(ctx, task.ID)
						if err != nil {
							return err
						}
						cur.Title = fmt.Sprint(tc.name, " ", i)
						cur.Version++
						if err := tx.UpdateTask(ctx, cur); err != nil {
							return err
						}
						if got, err := tx.Task(ctx, task.ID); err != nil || got.Title != cur.Title {
							return fmt.Errorf("the unit reads back %q (%v), want its own write %q", got.Title, err, cur.Title)
						}
						cur.Title += " and again" // held until the event carries it
						if err := tx.UpdateTask(ctx, cur); err != nil {
							return err
						}
						_, err = tx.AppendEvent(ctx, taskwire.Event{ProjectID: p.ID, ActorID: alice.ID, Type: taskwire.EventTaskUpdated,
							Data: fmt.Appendf(nil, `{"title":%q}`, cur.Title), TS: time.Now()})
						return err
					})
				})
				time.Sleep(5 * time.Millisecond) // queue in order
			}
			time.Sleep(200 * time.Millisecond)
			if err := release(); err != nil {
				t.Fatal(err)
			}
			wg.Wait()
			// Units before the failing one in its batch run twice when the
			// batch runs again. (A unit that missed the batch runs once,
			// so the test asks for at least one rerun, not three.)
			twice := 0
			for i, err := range errs {
				switch {
				case i == n/2 && !tc.wantErr(err):
					t.Errorf("the failing unit returned %v", err)
				case i != n/2 && err != nil:
					t.Errorf("unit %d: %v", i, err)
				}
				switch r := runs[i].Load(); {
				case r == 2 && i < n/2:
					twice++
				case r != 1 && i != n/2:
					t.Errorf("unit %d ran %d times", i, r)
				}
			}
			if tc.rerun != (twice > 0) {
				t.Errorf("%d units before the failing one ran twice; the batch should run again: %v", twice, tc.rerun)
			}
			after, err := db.Events(ctx, p.ID, 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			if got := len(after) - len(before); got != n-1 {
				t.Fatalf("%d events appended, want %d", got, n-1)
			}
			last := after[len(after)-1]
			final, err := db.Task(ctx, task.ID)
			if err != nil {
				t.Fatal(err)
			}
			if want := fmt.Sprintf(`{"title":%q}`, final.Title); string(last.Data) != want || !strings.HasSuffix(final.Title, " and again") {
				t.Errorf("the task is %q; the last event says %s", final.Title, last.Data)
			}
			if final.AssigneeID != nil {
				t.Errorf("the failing unit's write committed: assignee %d", *final.AssigneeID)
			}
			task = final
		})
	}
}

// holdWriter occupies the store's writer with a unit of work until the
// returned release is called, so that the units sent meanwhile queue up
// and commit as one batch. release returns the holding unit's outcome.
func holdWriter(db *sqlstore.DB) (release func() error) {
	started, done := make(chan struct{}), make(chan struct{})
	held := make(chan error, 1)
	go func() {
		held <- db.Update(context.Background(), func(taskwire.Tx) error { close(started); <-done; return nil })
	}()
	<-started
	return func() error { close(done); return <-held }
}

// TestBatchNotificationsPostgres: the notifications of a batch are stored
// together before its commit. Units that notify the same users, in any
// order, leave each user's notifications numbered 1..k without a gap in the
// order the units ran, every returned notification carries the ID and seq
// it was stored with, and a unit that notifies a user who does not exist
// fails alone with "User not found".
func TestBatchNotificationsPostgres(t *testing.T) {
	db := newPostgres(t)
	ctx := context.Background()
	users := make([]taskwire.User, 3)
	var p taskwire.Project
	mustUpdate(t, db, func(tx taskwire.Tx) (err error) {
		for i := range users {
			name := fmt.Sprint("u", i)
			if users[i], err = tx.CreateUser(ctx, taskwire.User{Email: name + "@example.com", Username: name, HashedPassword: "x", CreatedAt: time.Now()}); err != nil {
				return err
			}
		}
		p, err = tx.CreateProject(ctx, taskwire.Project{Name: "p", OwnerID: users[0].ID, CreatedAt: time.Now()})
		return err
	})
	for _, tc := range []struct {
		name     string
		badUnit  int // -1: none
		wantSeqs int // per user, after this round
	}{
		{"OverlappingUsers", -1, 6},
		{"OneUnitNotifiesNobody", 3, 11}, // the bad unit's notifications are rolled back with it
	} {
		t.Run(tc.name, func(t *testing.T) {
			release := holdWriter(db)
			const n = 6
			got := make([][]*taskwire.Notification, n)
			errs := make([]error, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					errs[i] = db.Update(ctx, func(tx taskwire.Tx) error {
						got[i] = nil
						order := []int{0, 1, 2}
						if i%2 == 1 {
							order = []int{2, 1, 0}
						}
						for _, u := range order {
							nt, err := tx.CreateNotification(ctx, taskwire.Notification{UserID: users[u].ID, Type: taskwire.NotifyTaskAssigned,
								ProjectID: p.ID, ActorID: users[0].ID, CreatedAt: time.Now(), Data: fmt.Appendf(nil, `{"unit":%d}`, i)})
							if err != nil {
								return err
							}
							got[i] = append(got[i], nt)
						}
						if i == tc.badUnit {
							_, err := tx.CreateNotification(ctx, taskwire.Notification{UserID: 1 << 40, Type: taskwire.NotifyTaskAssigned,
								ProjectID: p.ID, ActorID: users[0].ID, CreatedAt: time.Now(), Data: []byte(`{}`)})
							return err
						}
						return nil
					})
				})
				time.Sleep(5 * time.Millisecond)
			}
			time.Sleep(200 * time.Millisecond)
			if err := release(); err != nil {
				t.Fatal(err)
			}
			wg.Wait()
			for i, err := range errs {
				if i == tc.badUnit {
					if taskwire.ErrorKind(err) != taskwire.NotFound || !strings.Contains(err.Error(), taskwire.MsgUserNotFound) {
						t.Errorf("the unit notifying nobody returned %v, want NotFound %q", err, taskwire.MsgUserNotFound)
					}
				} else if err != nil {
					t.Errorf("unit %d: %v", i, err)
				}
			}
			for _, u := range users {
				stored, err := db.NotificationsAfter(ctx, u.ID, 0, 0)
				if err != nil {
					t.Fatal(err)
				}
				if len(stored) != tc.wantSeqs {
					t.Fatalf("user %d has %d notifications, want %d", u.ID, len(stored), tc.wantSeqs)
				}
				byID := map[int64]taskwire.Notification{}
				for j, s := range stored {
					if s.Seq != int64(j+1) {
						t.Fatalf("user %d: seqs %v..., want 1..%d", u.ID, s.Seq, tc.wantSeqs)
					}
					byID[s.ID] = s
				}
				// The returned notifications are the stored ones, numbered in
				// the order the units committed.
				last := int64(tc.wantSeqs - n)
				if tc.badUnit >= 0 {
					last++
				}
				for i := range n {
					if i == tc.badUnit {
						continue
					}
					for _, nt := range got[i] {
						if nt.UserID != u.ID {
							continue
						}
						s, ok := byID[nt.ID]
						if !ok || s.Seq != nt.Seq || string(s.Data) != string(nt.Data) {
							t.Errorf("unit %d was given %+v; stored: %+v", i, *nt, s)
						}
						if nt.Seq <= last {
							t.Errorf("user %d: unit %d got seq %d after %d", u.ID, i, nt.Seq, last)
						}
						last = nt.Seq
					}
				}
			}
		})
	}
}
