package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/taskwire/taskwire"
	"github.com/taskwire/taskwire/sqlstore"
	"github.com/taskwire/taskwire/storetest"
)

// newDB returns a migrated SQLite store in a fresh file, closed at cleanup.
func newDB(t *testing.T, opts sqlstore.Options) *sqlstore.DB {
	t.Helper()
	path := filepath.Join(t.TempDir(), "taskwire.db")
	db, err := sqlstore.Open(context.Background(), sqlstore.Target{Dialect: "sqlite", Path: path}, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	if err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return db
}

func TestStore(t *testing.T) {
	tests := []struct {
		name string
		opts sqlstore.Options
	}{
		{"Defaults", sqlstore.Options{}},
		// One unit per transaction: the writer without group commit.
		{"MaxBatch1", sqlstore.Options{MaxBatch: 1, Synchronous: "NORMAL"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T) taskwire.Store { return newDB(t, tc.opts) })
		})
	}
}

func TestParseURL(t *testing.T) {
	tests := []struct {
		name    string
		raw     string
		want    sqlstore.Target
		wantErr bool
	}{
		{"SQLiteDotRelative", "sqlite:///./peroxia.db", sqlstore.Target{Dialect: "sqlite", Path: "./peroxia.db"}, false},
		{"SQLiteRelative", "sqlite:///peroxia.db", sqlstore.Target{Dialect: "sqlite", Path: "peroxia.db"}, false},
		{"SQLiteRelativeDir", "sqlite:///data/peroxia.db", sqlstore.Target{Dialect: "sqlite", Path: "data/peroxia.db"}, false},
		{"SQLiteAbsolute", "sqlite:////abs/path.db", sqlstore.Target{Dialect: "sqlite", Path: "/abs/path.db"}, false},
		{"SQLiteDriverSuffix", "sqlite+pysqlite:///x.db", sqlstore.Target{Dialect: "sqlite", Path: "x.db"}, false},
		{"SQLiteQueryDropped", "sqlite:///x.db?check_same_thread=false", sqlstore.Target{Dialect: "sqlite", Path: "x.db"}, false},
		{"SQLiteSurroundingSpace", "  sqlite:///x.db\n", sqlstore.Target{Dialect: "sqlite", Path: "x.db"}, false},
		{"BareRelative", "data/taskwire.db", sqlstore.Target{Dialect: "sqlite", Path: "data/taskwire.db"}, false},
		{"BareRelativeFile", "taskwire.db", sqlstore.Target{Dialect: "sqlite", Path: "taskwire.db"}, false},
		{"BareAbsolute", "/var/lib/taskwire/taskwire.db", sqlstore.Target{Dialect: "sqlite", Path: "/var/lib/taskwire/taskwire.db"}, false},
		// A bare path is a bare path even when the file is named after the engine.
		{"BareRelativeNamedSQLite", "sqlite.db", sqlstore.Target{Dialect: "sqlite", Path: "sqlite.db"}, false},
		{"BareRelativeDirNamedSQLite", "sqlite/taskwire.db", sqlstore.Target{Dialect: "sqlite", Path: "sqlite/taskwire.db"}, false},
		{"Postgres", "postgres://u:p@localhost:5432/taskwire?sslmode=disable",
			sqlstore.Target{Dialect: "postgres", DSN: "postgres://u:p@localhost:5432/taskwire?sslmode=disable"}, false},
		{"PostgreSQL", "postgresql://localhost/taskwire", sqlstore.Target{Dialect: "postgres", DSN: "postgresql://localhost/taskwire"}, false},

		{"ErrEmpty", "", sqlstore.Target{}, true},
		{"ErrBlank", "   ", sqlstore.Target{}, true},
		{"ErrMemory", "sqlite:///:memory:", sqlstore.Target{}, true},
		{"ErrBareMemory", ":memory:", sqlstore.Target{}, true},
		{"ErrFileMemory", "file::memory:?cache=shared", sqlstore.Target{}, true},
		{"ErrSQLiteNoPath", "sqlite:///", sqlstore.Target{}, true},
		{"ErrSQLiteOnlyQuery", "sqlite:///?mode=memory", sqlstore.Target{}, true},
		{"ErrTwoSlashes", "sqlite://x.db", sqlstore.Target{}, true},
		{"ErrSQLiteNoSlashes", "sqlite:x.db", sqlstore.Target{}, true},
		{"ErrSQLiteLookalikeScheme", "sqlite3:///x.db", sqlstore.Target{}, true},
		{"ErrMySQL", "mysql://u:p@localhost/taskwire", sqlstore.Target{}, true},
		{"ErrHTTP", "http://example.com/x.db", sqlstore.Target{}, true},
	}

	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := sqlstore.ParseURL(tc.raw)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("ParseURL(%q) = %+v, want an error", tc.raw, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseURL(%q): %v", tc.raw, err)
			}
			if got != tc.want {
				t.Fatalf("ParseURL(%q) = %+v, want %+v", tc.raw, got, tc.want)
			}
		})
	}
}

func FuzzParseURL(f *testing.F) {
	for _, s := range []string{
		"sqlite:///./peroxia.db", "sqlite:////abs/path.db", "sqlite+pysqlite:///x.db", "sqlite://x.db",
		"sqlite:///:memory:", "sqlite:///?x", "postgres://localhost/db", "mysql://x", "x.db", "", " ", "sqlite",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		got, err := sqlstore.ParseURL(raw)
		if err != nil {
			if got != (sqlstore.Target{}) {
				t.Errorf("ParseURL(%q) = %+v with error %v, want the zero Target", raw, got, err)
			}
			return
		}
		switch got.Dialect {
		case "sqlite":
			if got.Path == "" {
				t.Errorf("ParseURL(%q) = %+v: SQLite target without a path", raw, got)
			}
			if got.Path == ":memory:" {
				t.Errorf("ParseURL(%q) = %+v: in-memory database accepted", raw, got)
			}
		case "postgres":
			if got.DSN == "" {
				t.Errorf("ParseURL(%q) = %+v: PostgreSQL target without a DSN", raw, got)
			}
		default:
			t.Errorf("ParseURL(%q) = %+v: unknown dialect", raw, got)
		}
	})
}

func TestMigrateSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "taskwire.db")
	db, err := sqlstore.Open(context.Background(), sqlstore.Target{Dialect: "sqlite", Path: path}, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := db.Migrate(context.Background()); err != nil {
		t.Fatalf("second Migrate: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	// The seed's tables and columns, which its data and tools rely on.
	seed := []struct {
		table   string
		columns []string
	}{
		{"users", []string{"id", "email", "username", "hashed_password"}},
		{"projects", []string{"id", "name", "description", "owner_id"}},
		{"project_members", []string{"project_id", "user_id"}},
		{"tasks", []string{"id", "title", "description", "status", "project_id", "assignee_id"}},
	}
	for _, tc := range seed {
		t.Run(tc.table, func(t *testing.T) {
			rows, err := raw.Query("SELECT name FROM pragma_table_info(?)", tc.table)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var have []string
			for rows.Next() {
				var name string
				if err := rows.Scan(&name); err != nil {
					t.Fatal(err)
				}
				have = append(have, name)
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			for _, c := range tc.columns {
				if !slices.Contains(have, c) {
					t.Errorf("table %s has columns %v, missing %s", tc.table, have, c)
				}
			}
		})
	}

	t.Run("Reopen", func(t *testing.T) {
		db, err := sqlstore.Open(context.Background(), sqlstore.Target{Dialect: "sqlite", Path: path}, sqlstore.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if err := db.Migrate(context.Background()); err != nil {
			t.Fatalf("Migrate of a migrated file: %v", err)
		}
		if err := db.Ping(context.Background()); err != nil {
			t.Fatal(err)
		}
	})
}

func TestPrune(t *testing.T) {
	ctx := context.Background()
	db := newDB(t, sqlstore.Options{})
	now := time.Now().UTC()
	var alice taskwire.User
	var p1, p2, gone, fresh taskwire.Project
	mustUpdate(t, db, func(tx taskwire.Tx) (err error) {
		if alice, err = tx.CreateUser(ctx, taskwire.User{Email: "a@example.com", Username: "alice", HashedPassword: "x", CreatedAt: now}); err != nil {
			return err
		}
		for _, p := range []*taskwire.Project{&p1, &p2, &gone, &fresh} {
			if *p, err = tx.CreateProject(ctx, taskwire.Project{Name: "p", OwnerID: alice.ID, CreatedAt: now}); err != nil {
				return err
			}
		}
		return nil
	})
	appendAt := func(p taskwire.Project, ts ...time.Time) {
		t.Helper()
		mustUpdate(t, db, func(tx taskwire.Tx) error {
			for _, at := range ts {
				if _, err := tx.AppendEvent(ctx, taskwire.Event{ProjectID: p.ID, ActorID: alice.ID, Type: taskwire.EventTaskCreated, Data: []byte(`{}`), TS: at}); err != nil {
					return err
				}
			}
			return nil
		})
	}
	// p1: five recent events; the count policy keeps the newest three.
	appendAt(p1, now, now, now, now, now)
	// p2: an event older than the age policy, then a recent one.
	appendAt(p2, now.Add(-1000*time.Hour), now)
	// gone: a deleted project whose last event is over an hour old.
	appendAt(gone, now.Add(-2*time.Hour))
	// fresh: a just-deleted project; rooms may still need its last event.
	appendAt(fresh, now)
	mustUpdate(t, db, func(tx taskwire.Tx) error {
		if err := tx.DeleteProject(ctx, gone.ID); err != nil {
			return err
		}
		return tx.DeleteProject(ctx, fresh.ID)
	})
	records := []struct {
		key     string
		created time.Time
		kept    bool
	}{
		{"expired", now.Add(-48 * time.Hour), false},
		{"just-expired", now.Add(-taskwire.IdempotencyTTL - time.Minute), false},
		{"fresh", now.Add(-time.Hour), true},
		{"new", now, true},
	}
	mustUpdate(t, db, func(tx taskwire.Tx) error {
		for _, r := range records {
			err := tx.PutIdempotency(ctx, taskwire.IdempotencyRecord{
				IdempotencyKey: taskwire.IdempotencyKey{UserID: alice.ID, Scope: "POST /x", Key: r.key, Hash: "h"},
				Body:           []byte(`{}`), CreatedAt: r.created,
			})
			if err != nil {
				return err
			}
		}
		return nil
	})

	policy := sqlstore.PrunePolicy{IdempotencyTTL: taskwire.IdempotencyTTL, EventAge: 720 * time.Hour, EventCount: 3}
	n, err := db.Prune(ctx, policy)
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(2 + 2 + 1 + 1); n != want {
		t.Errorf("Prune removed %d rows, want %d", n, want)
	}

	events := []struct {
		name    string
		project taskwire.Project
		want    []int64
	}{
		{"BeyondCount", p1, []int64{3, 4, 5}},
		{"TooOld", p2, []int64{2}},
		{"DeletedProject", gone, []int64{}},
		{"JustDeletedProject", fresh, []int64{1}},
	}
	for _, tc := range events {
		t.Run("Events/"+tc.name, func(t *testing.T) {
			es, err := db.Events(ctx, tc.project.ID, 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			got := []int64{}
			for _, e := range es {
				got = append(got, e.Seq)
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("events left: %v, want %v", got, tc.want)
			}
		})
	}
	for _, r := range records {
		t.Run("Idempotency/"+r.key, func(t *testing.T) {
			_, err := db.Idempotency(ctx, alice.ID, "POST /x", r.key)
			switch {
			case r.kept && err != nil:
				t.Fatalf("record was pruned: %v", err)
			case !r.kept && taskwire.ErrorKind(err) != taskwire.NotFound:
				t.Fatalf("expired record: err = %v, want NotFound", err)
			}
		})
	}
	t.Run("SeqContinues", func(t *testing.T) {
		// Pruning never rewinds a project's seq.
		var e taskwire.Event
		mustUpdate(t, db, func(tx taskwire.Tx) (err error) {
			e, err = tx.AppendEvent(ctx, taskwire.Event{ProjectID: p1.ID, ActorID: alice.ID, Type: taskwire.EventTaskCreated, Data: []byte(`{}`), TS: now})
			return err
		})
		if e.Seq != 6 {
			t.Fatalf("append after pruning got seq %d, want 6", e.Seq)
		}
	})
	t.Run("Again", func(t *testing.T) {
		n, err := db.Prune(ctx, policy)
		if err != nil {
			t.Fatal(err)
		}
		if n != 1 { // p1's seq 3, pushed out by SeqContinues' append
			t.Fatalf("second Prune removed %d rows, want 1", n)
		}
	})
}

func TestPruneManyRows(t *testing.T) {
	// More expired rows than one delete statement takes.
	ctx := context.Background()
	db := newDB(t, sqlstore.Options{})
	const n = 5000 + 123
	old := time.Now().Add(-48 * time.Hour)
	mustUpdate(t, db, func(tx taskwire.Tx) error {
		for i := range n {
			err := tx.PutIdempotency(ctx, taskwire.IdempotencyRecord{
				IdempotencyKey: taskwire.IdempotencyKey{UserID: 1, Scope: "POST /x", Key: fmt.Sprint(i), Hash: "h"},
				Body:           []byte(`{}`), CreatedAt: old,
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	got, err := db.Prune(ctx, sqlstore.PrunePolicy{IdempotencyTTL: taskwire.IdempotencyTTL, EventAge: time.Hour, EventCount: 10})
	if err != nil {
		t.Fatal(err)
	}
	if got != n {
		t.Fatalf("Prune removed %d rows, want %d", got, n)
	}
}

// TestGroupCommit checks that units of work committed together by the
// writer stay independent: in one batch, failing units leave nothing and
// the others all commit.
func TestGroupCommit(t *testing.T) {
	testGroupCommit(t, newDB(t, sqlstore.Options{}))
}

func testGroupCommit(t *testing.T, db *sqlstore.DB) {
	ctx := context.Background()
	var alice taskwire.User
	var p taskwire.Project
	mustUpdate(t, db, func(tx taskwire.Tx) (err error) {
		if alice, err = tx.CreateUser(ctx, taskwire.User{Email: "alice@example.com", Username: "alice", HashedPassword: "x", CreatedAt: time.Now()}); err != nil {
			return err
		}
		p, err = tx.CreateProject(ctx, taskwire.Project{Name: "p", OwnerID: alice.ID, CreatedAt: time.Now()})
		return err
	})

	errUnit := errors.New("unit failed")
	// How unit i ends; every unit first creates user u<i> and appends an event.
	outcome := func(i int) string {
		switch i % 5 {
		case 1:
			return "error"
		case 3:
			return "constraint" // a store error after the writes
		case 4:
			if i%10 == 4 {
				return "panic"
			}
		}
		return "ok"
	}
	const n = 60
	errs := make([]error, n)
	var batched atomic.Int32 // units that saw an earlier, uncommitted unit's writes

	// A first unit holds the writer while the burst queues behind it, so the
	// burst is committed as one batch.
	release := holdWriter(db)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			errs[i] = db.Update(ctx, func(tx taskwire.Tx) error {
				name := fmt.Sprint("u", i)
				if _, err := tx.CreateUser(ctx, taskwire.User{Email: name + "@example.com", Username: name, HashedPassword: "x", CreatedAt: time.Now()}); err != nil {
					return err
				}
				e, err := tx.AppendEvent(ctx, taskwire.Event{ProjectID: p.ID, ActorID: alice.ID, Type: taskwire.EventTaskCreated,
					Data: fmt.Appendf(nil, `{"unit":%d}`, i), TS: time.Now()})
				if err != nil {
					return err
				}
				committed, err := db.Events(ctx, p.ID, 0, 0) // the reader pool sees only commits
				if err != nil {
					return err
				}
				if e.Seq > int64(len(committed))+1 {
					batched.Add(1)
				}
				switch outcome(i) {
				case "error":
					return errUnit
				case "constraint":
					_, err := tx.CreateUser(ctx, taskwire.User{Email: "alice@example.com", Username: "alice", HashedPassword: "x", CreatedAt: time.Now()})
					return err
				case "panic":
					panic("unit panicked")
				}
				return nil
			})
		})
	}
	time.Sleep(200 * time.Millisecond) // let the burst queue up
	if err := release(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if batched.Load() == 0 {
		t.Fatal("no unit shared a transaction with another: the burst was not group-committed, so the test proves nothing")
	}

	var okUnits []string
	for i := range n {
		name := fmt.Sprint("u", i)
		_, uerr := db.UserByUsername(ctx, name)
		if outcome(i) == "ok" {
			okUnits = append(okUnits, fmt.Sprintf(`{"unit":%d}`, i))
			if errs[i] != nil {
				t.Errorf("unit %d: %v, want success", i, errs[i])
			}
			if uerr != nil {
				t.Errorf("unit %d committed but its user is missing: %v", i, uerr)
			}
			continue
		}
		if errs[i] == nil {
			t.Errorf("unit %d (%s) returned nil", i, outcome(i))
		}
		if outcome(i) == "error" && !errors.Is(errs[i], errUnit) {
			t.Errorf("unit %d returned %v, want its own error", i, errs[i])
		}
		if outcome(i) == "constraint" && taskwire.ErrorKind(errs[i]) != taskwire.Conflict {
			t.Errorf("unit %d returned %v, want Conflict", i, errs[i])
		}
		if taskwire.ErrorKind(uerr) != taskwire.NotFound {
			t.Errorf("unit %d (%s) failed but left its user: err = %v", i, outcome(i), uerr)
		}
	}
	es, err := db.Events(ctx, p.ID, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	var gotUnits []string
	for i, e := range es {
		if e.Seq != int64(i+1) {
			t.Errorf("event %d has seq %d: the log has a gap", i, e.Seq)
		}
		gotUnits = append(gotUnits, string(e.Data))
	}
	slices.Sort(gotUnits)
	slices.Sort(okUnits)
	if !slices.Equal(gotUnits, okUnits) {
		t.Errorf("log holds the events of units %v, want exactly the successful ones %v", gotUnits, okUnits)
	}
	if proj, err := db.Project(ctx, p.ID); err != nil || proj.LastSeq != int64(len(okUnits)) {
		t.Errorf("LastSeq = %d, %v; want %d", proj.LastSeq, err, len(okUnits))
	}
	t.Logf("%d of %d units ran after an uncommitted unit of their batch", batched.Load(), n)
}

func mustUpdate(t *testing.T, db *sqlstore.DB, fn func(tx taskwire.Tx) error) {
	t.Helper()
	if err := db.Update(context.Background(), fn); err != nil {
		t.Fatalf("Update: %v", err)
	}
}
