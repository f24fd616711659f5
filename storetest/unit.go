package storetest

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/taskwire/taskwire"
)

// testAtomicity checks that a unit of work commits whole or not at all.
func testAtomicity(t *testing.T, newStore func(t *testing.T) taskwire.Store) {
	errBoom := errors.New("boom")

	// fixture is a project with one member, one task and one event, plus a
	// unit of work that writes through every Tx method and then fails.
	type fixture struct {
		s     taskwire.Store
		alice taskwire.User
		p     taskwire.Project
		task  taskwire.Task
		write func(tx taskwire.Tx) error
	}
	setup := func(t *testing.T) fixture {
		s := newStore(t)
		alice := createUser(t, s, "alice")
		p := createProject(t, s, alice, "p")
		addMember(t, s, p.ID, alice)
		task := createTask(t, s, p.ID, "task", &alice.ID)
		appendEvent(t, s, p.ID, alice.ID, at(0), 1)
		write := func(tx taskwire.Tx) error {
			ctx := t.Context()
			ghost, err := tx.CreateUser(ctx, newUser("ghost"))
			if err != nil {
				return err
			}
			if _, err := tx.CreateProject(ctx, taskwire.Project{Name: "ghost project", OwnerID: alice.ID, CreatedAt: at(0)}); err != nil {
				return err
			}
			if err := tx.AddMember(ctx, p.ID, ghost.ID); err != nil {
				return err
			}
			renamed := p
			renamed.Name = "renamed"
			if err := tx.UpdateProject(ctx, renamed); err != nil {
				return err
			}
			if _, err := tx.AppendEvent(ctx, newEvent(p.ID, alice.ID, at(time.Second), 2)); err != nil {
				return err
			}
			if _, err := tx.CreateTask(ctx, taskwire.Task{Title: "ghost task", Status: taskwire.StatusTodo, ProjectID: p.ID, Version: 1, CreatedAt: at(0), UpdatedAt: at(0)}); err != nil {
				return err
			}
			changed := task
			changed.Title, changed.Version = "changed", 2
			if err := tx.UpdateTask(ctx, changed); err != nil {
				return err
			}
			if _, err := tx.UnassignTasks(ctx, p.ID, alice.ID, at(time.Hour)); err != nil {
				return err
			}
			return tx.PutIdempotency(ctx, taskwire.IdempotencyRecord{
				IdempotencyKey: taskwire.IdempotencyKey{UserID: alice.ID, Scope: "POST /x", Key: "k", Hash: "h"},
				Body:           []byte(`{}`), CreatedAt: at(0),
			})
		}
		return fixture{s: s, alice: alice, p: p, task: task, write: write}
	}
	// unchanged checks that f's store holds what setup left, and that the
	// project's next event still gets seq 2.
	unchanged := func(t *testing.T, f fixture) {
		t.Helper()
		s := f.s
		if _, err := s.UserByUsername(t.Context(), "ghost"); taskwire.ErrorKind(err) != taskwire.NotFound {
			t.Errorf("UserByUsername(ghost): err = %v, want NotFound", err)
		}
		if ps, err := s.ProjectsOf(t.Context(), f.alice.ID, taskwire.Page{}); err != nil || !slices.Equal(projectIDs(ps), []int64{f.p.ID}) {
			t.Errorf("ProjectsOf(alice) = %v, %v; want [%d]", projectIDs(ps), err, f.p.ID)
		}
		if p, err := s.Project(t.Context(), f.p.ID); err != nil {
			t.Error(err)
		} else {
			checkProject(t, p, f.p)
			if p.LastSeq != 1 {
				t.Errorf("LastSeq = %d, want 1", p.LastSeq)
			}
		}
		if ms, err := s.Members(t.Context(), f.p.ID); err != nil || len(ms) != 1 {
			t.Errorf("Members = %+v, %v; want only alice", ms, err)
		}
		if ts, err := s.Tasks(t.Context(), f.p.ID, taskwire.TaskFilter{}, taskwire.Page{}); err != nil || len(ts) != 1 {
			t.Errorf("Tasks = %v, %v; want only the first task", taskIDs(ts), err)
		} else {
			checkTask(t, ts[0], f.task)
		}
		if got := eventSeqs(t, s, f.p.ID, 0, 0); !slices.Equal(got, []int64{1}) {
			t.Errorf("event seqs = %v, want [1]", got)
		}
		if _, err := s.Idempotency(t.Context(), f.alice.ID, "POST /x", "k"); taskwire.ErrorKind(err) != taskwire.NotFound {
			t.Errorf("Idempotency: err = %v, want NotFound", err)
		}
		// The store is still usable and the log stays gapless.
		if e := appendEvent(t, s, f.p.ID, f.alice.ID, at(time.Minute), 3); e.Seq != 2 {
			t.Errorf("next append got seq %d, want 2", e.Seq)
		}
		createUser(t, s, "ghost")
	}

	t.Run("WritesCommit", func(t *testing.T) {
		// The fixture's writes do commit when the unit succeeds, so the
		// failure cases below test rollback and not a no-op.
		f := setup(t)
		update(t, f.s, f.write)
		if _, err := f.s.UserByUsername(t.Context(), "ghost"); err != nil {
			t.Errorf("UserByUsername(ghost): %v", err)
		}
		if got := eventSeqs(t, f.s, f.p.ID, 0, 0); !slices.Equal(got, []int64{1, 2}) {
			t.Errorf("event seqs = %v, want [1 2]", got)
		}
		if _, err := f.s.Idempotency(t.Context(), f.alice.ID, "POST /x", "k"); err != nil {
			t.Errorf("Idempotency: %v", err)
		}
	})

	t.Run("ErrorRollsBack", func(t *testing.T) {
		f := setup(t)
		err := f.s.Update(t.Context(), func(tx taskwire.Tx) error {
			if err := f.write(tx); err != nil {
				return err
			}
			return fmt.Errorf("after writes: %w", errBoom)
		})
		if !errors.Is(err, errBoom) {
			t.Fatalf("Update returned %v, want the unit's error", err)
		}
		unchanged(t, f)
	})

	t.Run("StoreErrorRollsBack", func(t *testing.T) {
		f := setup(t)
		err := f.s.Update(t.Context(), func(tx taskwire.Tx) error {
			if err := f.write(tx); err != nil {
				return err
			}
			_, err := tx.CreateUser(t.Context(), newUser("alice")) // taken
			return err
		})
		wantError(t, err, taskwire.Conflict, "")
		unchanged(t, f)
	})

	panics := []struct {
		name  string
		panic func()
	}{
		{"String", func() { panic("boom") }},
		{"Error", func() { panic(errBoom) }},
		{"Nil", func() { panic(nil) }},
		{"Runtime", func() {
			var s []int
			_ = s[len(s)] // index out of range
		}},
	}
	for _, pc := range panics {
		t.Run("Panic/"+pc.name, func(t *testing.T) {
			f := setup(t)
			var err error
			func() {
				defer func() {
					if p := recover(); p != nil {
						t.Fatalf("Update let the unit's panic through: %v", p)
					}
				}()
				err = f.s.Update(t.Context(), func(tx taskwire.Tx) error {
					if err := f.write(tx); err != nil {
						return err
					}
					pc.panic()
					return nil
				})
			}()
			if err == nil {
				t.Fatal("Update of a panicking unit returned nil")
			}
			unchanged(t, f)
		})
	}
}

// testAfterCommit checks Tx.AfterCommit: hooks run once their unit has
// committed, never for a failed unit, and in commit order.
func testAfterCommit(t *testing.T, newStore func(t *testing.T) taskwire.Store) {
	t.Run("SeesCommittedWrites", func(t *testing.T) {
		s := newStore(t)
		var rec recorder
		update(t, s, func(tx taskwire.Tx) error {
			u, err := tx.CreateUser(t.Context(), newUser("alice"))
			if err != nil {
				return err
			}
			tx.AfterCommit(func() {
				// Through the store, not the unit: the commit is done.
				if _, err := s.UserByID(t.Context(), u.ID); err != nil {
					rec.add("not visible: " + err.Error())
					return
				}
				rec.add("visible")
			})
			return nil
		})
		if got := rec.wait(t, 1); !slices.Equal(got, []string{"visible"}) {
			t.Fatalf("hook reported %q, want [visible]", got)
		}
	})

	t.Run("OrderWithinAndAcrossUnits", func(t *testing.T) {
		s := newStore(t)
		var rec recorder
		hook := func(name string) func() { return func() { rec.add(name) } }
		update(t, s, func(tx taskwire.Tx) error {
			tx.AfterCommit(hook("a1"))
			tx.AfterCommit(hook("a2"))
			tx.AfterCommit(hook("a3"))
			return nil
		})
		update(t, s, func(tx taskwire.Tx) error {
			tx.AfterCommit(hook("b1"))
			return nil
		})
		want := []string{"a1", "a2", "a3", "b1"}
		if got := rec.wait(t, len(want)); !slices.Equal(got, want) {
			t.Fatalf("hooks ran as %q, want %q", got, want)
		}
	})

	t.Run("NotForFailedUnits", func(t *testing.T) {
		s := newStore(t)
		var rec recorder
		err := s.Update(t.Context(), func(tx taskwire.Tx) error {
			tx.AfterCommit(func() { rec.add("failed unit") })
			return errors.New("fail")
		})
		if err == nil {
			t.Fatal("a failing unit returned nil")
		}
		func() {
			defer func() { _ = recover() }() // reported by the Atomicity tests
			_ = s.Update(t.Context(), func(tx taskwire.Tx) error {
				tx.AfterCommit(func() { rec.add("panicked unit") })
				panic("boom")
			})
		}()
		err = s.Update(t.Context(), func(tx taskwire.Tx) error {
			tx.AfterCommit(func() { rec.add("conflicting unit") })
			_, err := tx.CreateUser(t.Context(), newUser("alice"))
			if err != nil {
				return err
			}
			_, err = tx.CreateUser(t.Context(), newUser("alice"))
			return err
		})
		if err == nil {
			t.Fatal("a unit creating a user twice returned nil")
		}
		update(t, s, func(tx taskwire.Tx) error {
			tx.AfterCommit(func() { rec.add("committed unit") })
			return nil
		})
		rec.wait(t, 1)
		time.Sleep(20 * time.Millisecond) // a stray hook would have run by now
		if got := rec.wait(t, 1); !slices.Equal(got, []string{"committed unit"}) {
			t.Fatalf("hooks ran: %q, want only the committed unit's", got)
		}
	})

	t.Run("CommitOrderUnderConcurrency", func(t *testing.T) {
		// Each unit appends to the same project, so seq order is commit
		// order; the hooks must report the seqs in that order.
		s := newStore(t)
		alice := createUser(t, s, "alice")
		p := createProject(t, s, alice, "p")
		const n = 50
		var rec recorder
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				err := s.Update(t.Context(), func(tx taskwire.Tx) error {
					e, err := tx.AppendEvent(t.Context(), newEvent(p.ID, alice.ID, at(0), i))
					if err != nil {
						return err
					}
					tx.AfterCommit(func() { rec.add(strconv.FormatInt(e.Seq, 10)) })
					return nil
				})
				if err != nil {
					t.Errorf("unit %d: %v", i, err)
				}
			})
		}
		wg.Wait()
		got := rec.wait(t, n)
		want := make([]string, n)
		for i := range want {
			want[i] = strconv.Itoa(i + 1)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("hooks reported seqs in the order %v, want 1..%d", got, n)
		}
	})
}

// testConcurrency checks that concurrent units of work serialize correctly.
func testConcurrency(t *testing.T, newStore func(t *testing.T) taskwire.Store) {
	// appendAll runs one unit per project in projects, concurrently, each
	// appending one event, and returns the seqs each project's units got.
	appendAll := func(t *testing.T, s taskwire.Store, actor int64, projects []int64) map[int64][]int64 {
		t.Helper()
		var mu sync.Mutex // guards got
		got := map[int64][]int64{}
		var wg sync.WaitGroup
		for i, pid := range projects {
			wg.Go(func() {
				var e taskwire.Event
				err := s.Update(t.Context(), func(tx taskwire.Tx) (err error) {
					e, err = tx.AppendEvent(t.Context(), newEvent(pid, actor, at(0), i))
					return err
				})
				if err != nil {
					t.Errorf("unit %d: %v", i, err)
					return
				}
				mu.Lock()
				got[pid] = append(got[pid], e.Seq)
				mu.Unlock()
			})
		}
		wg.Wait()
		return got
	}
	checkLog := func(t *testing.T, s taskwire.Store, pid int64, returned []int64, n int64) {
		t.Helper()
		returned = slices.Sorted(slices.Values(returned))
		if !slices.Equal(returned, seqRange(1, n)) {
			t.Errorf("project %d: units got seqs %v, want each of 1..%d once", pid, returned, n)
		}
		if got := eventSeqs(t, s, pid, 0, 0); !slices.Equal(got, seqRange(1, n)) {
			t.Errorf("project %d: log holds seqs %v, want 1..%d", pid, got, n)
		}
		p, err := s.Project(t.Context(), pid)
		if err != nil {
			t.Fatal(err)
		}
		if p.LastSeq != n {
			t.Errorf("project %d: LastSeq = %d, want %d", pid, p.LastSeq, n)
		}
	}

	t.Run("SameProject", func(t *testing.T) {
		s := newStore(t)
		alice := createUser(t, s, "alice")
		p := createProject(t, s, alice, "p")
		const n = 50
		got := appendAll(t, s, alice.ID, slices.Repeat([]int64{p.ID}, n))
		checkLog(t, s, p.ID, got[p.ID], n)
	})

	t.Run("DifferentProjects", func(t *testing.T) {
		s := newStore(t)
		alice := createUser(t, s, "alice")
		var ids []int64
		for i := range 4 {
			ids = append(ids, createProject(t, s, alice, fmt.Sprint("p", i)).ID)
		}
		const perProject = 25
		var units []int64
		for range perProject {
			units = append(units, ids...) // interleaved
		}
		got := appendAll(t, s, alice.ID, units)
		for _, pid := range ids {
			checkLog(t, s, pid, got[pid], perProject)
		}
	})

	t.Run("ReadersSeeNoGaps", func(t *testing.T) {
		s := newStore(t)
		alice := createUser(t, s, "alice")
		p := createProject(t, s, alice, "p")
		stop := make(chan struct{})
		var readers sync.WaitGroup
		for r := range 4 {
			readers.Go(func() {
				seen := 0
				for {
					select {
					case <-stop:
						return
					default:
					}
					es, err := s.Events(t.Context(), p.ID, 0, 0)
					if err != nil {
						t.Errorf("reader %d: %v", r, err)
						return
					}
					for i, e := range es {
						if e.Seq != int64(i+1) {
							t.Errorf("reader %d saw seqs with a gap at index %d: seq %d", r, i, e.Seq)
							return
						}
					}
					if len(es) < seen {
						t.Errorf("reader %d saw %d events after seeing %d", r, len(es), seen)
						return
					}
					seen = len(es)
				}
			})
		}
		const n = 40
		got := appendAll(t, s, alice.ID, slices.Repeat([]int64{p.ID}, n))
		close(stop)
		readers.Wait()
		checkLog(t, s, p.ID, got[p.ID], n)
	})

	t.Run("FailuresStayIndependent", func(t *testing.T) {
		// Concurrent units, some failing after their writes: a store that
		// commits units together must still undo exactly the failed ones.
		s := newStore(t)
		alice := createUser(t, s, "alice")
		p := createProject(t, s, alice, "p")
		const n = 45
		fails := func(i int) bool { return i%3 == 1 }
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				errs[i] = s.Update(t.Context(), func(tx taskwire.Tx) error {
					if _, err := tx.CreateUser(t.Context(), newUser(fmt.Sprint("u", i))); err != nil {
						return err
					}
					if _, err := tx.AppendEvent(t.Context(), newEvent(p.ID, alice.ID, at(0), i)); err != nil {
						return err
					}
					if fails(i) {
						return errors.New("unit failed")
					}
					return nil
				})
			})
		}
		wg.Wait()
		var want []string
		for i := range n {
			_, err := s.UserByUsername(t.Context(), fmt.Sprint("u", i))
			if fails(i) {
				if errs[i] == nil {
					t.Errorf("failing unit %d returned nil", i)
				}
				if taskwire.ErrorKind(err) != taskwire.NotFound {
					t.Errorf("failing unit %d left its user: err = %v", i, err)
				}
				continue
			}
			if errs[i] != nil {
				t.Errorf("unit %d: %v", i, errs[i])
			}
			if err != nil {
				t.Errorf("unit %d committed but its user is missing: %v", i, err)
			}
			want = append(want, string(newEvent(0, 0, at(0), i).Data))
		}
		es, err := s.Events(t.Context(), p.ID, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for i, e := range es {
			if e.Seq != int64(i+1) {
				t.Errorf("event %d has seq %d: the log has a gap", i, e.Seq)
			}
			got = append(got, string(e.Data))
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("log holds %d events %v, want exactly the %d successful units' %v", len(got), got, len(want), want)
		}
	})

	t.Run("LockTaskPreventsLostUpdates", func(t *testing.T) {
		s := newStore(t)
		alice := createUser(t, s, "alice")
		p := createProject(t, s, alice, "p")
		task := createTask(t, s, p.ID, "counter", nil)
		const n = 20
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				err := s.Update(t.Context(), func(tx taskwire.Tx) error {
					cur, _, _, err := tx.LockTask(t.Context(), task.ID, alice.ID)
					if err != nil {
						return err
					}
					cur.Version++
					cur.Title = fmt.Sprint("update ", i)
					return tx.UpdateTask(t.Context(), cur)
				})
				if err != nil {
					t.Errorf("unit %d: %v", i, err)
				}
			})
		}
		wg.Wait()
		got, err := s.Task(t.Context(), task.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Version != 1+n {
			t.Fatalf("Version after %d concurrent read-modify-writes = %d, want %d", n, got.Version, 1+n)
		}
	})

	t.Run("SameUsername", func(t *testing.T) {
		s := newStore(t)
		const n = 20
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				u := newUser("alice")
				u.Email = fmt.Sprintf("alice%d@example.com", i)
				errs[i] = s.Update(t.Context(), func(tx taskwire.Tx) error {
					_, err := tx.CreateUser(t.Context(), u)
					return err
				})
			})
		}
		wg.Wait()
		created := 0
		for i, err := range errs {
			switch {
			case err == nil:
				created++
			case taskwire.ErrorKind(err) != taskwire.Conflict:
				t.Errorf("signup %d: %v, want nil or Conflict", i, err)
			}
		}
		if created != 1 {
			t.Fatalf("%d of %d concurrent signups with one username succeeded, want 1", created, n)
		}
	})
}
