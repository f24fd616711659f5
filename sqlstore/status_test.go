package sqlstore_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/taskwire/taskwire"
	"github.com/taskwire/taskwire/sqlstore"
	"github.com/taskwire/taskwire/storetest"
)

// TestStatusMigration: a database written before task status was stored
// as the seed stores it (lowercase) is migrated in place: every task keeps
// its id and fields with its status renamed, and ids of deleted tasks are
// not given out again.
func TestStatusMigration(t *testing.T) {
	for _, tc := range []struct {
		name string
		open func(t *testing.T) *sqlstore.DB
	}{
		{"SQLite", func(t *testing.T) *sqlstore.DB { return openSQLite(t, t.TempDir()+"/taskwire.db") }},
		{"PostgreSQL", func(t *testing.T) *sqlstore.DB { return openPostgres(t) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			db := tc.open(t)
			if err := db.MigrateTo(ctx, 2); err != nil {
				t.Fatal(err)
			}
			now := time.Now().UTC().Format(time.RFC3339Nano)
			mustExec(t, db, "INSERT INTO users (id, email, username, hashed_password, created_at) VALUES (1, 'a@example.com', 'ada', 'x', ?)", now)
			mustExec(t, db, "INSERT INTO projects (id, name, owner_id, created_at, updated_at) VALUES (1, 'P', 1, ?, ?)", now, now)
			for _, st := range []string{"todo", "in_progress", "done", "todo"} {
				mustExec(t, db, "INSERT INTO tasks (title, status, project_id, version, created_at, updated_at) VALUES (?, ?, 1, 3, ?, ?)",
					"t", st, now, now)
			}
			mustExec(t, db, "DELETE FROM tasks WHERE id = 4")
			if err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			raw, err := db.RawColumn(ctx, "SELECT status FROM tasks ORDER BY id")
			if err != nil {
				t.Fatal(err)
			}
			if want := []string{"TODO", "IN_PROGRESS", "DONE"}; !slices.Equal(raw, want) {
				t.Errorf("stored statuses = %v, want %v", raw, want)
			}
			tasks, err := db.Tasks(ctx, 1, taskwire.TaskFilter{}, taskwire.Page{})
			if err != nil {
				t.Fatal(err)
			}
			var got []taskwire.Status
			for _, tk := range tasks {
				got = append(got, tk.Status)
				if tk.Version != 3 {
					t.Errorf("task %d version = %d, want 3", tk.ID, tk.Version)
				}
			}
			if want := []taskwire.Status{taskwire.StatusTodo, taskwire.StatusInProgress, taskwire.StatusDone}; !slices.Equal(got, want) {
				t.Errorf("API statuses = %v, want %v", got, want)
			}
			done := taskwire.StatusDone
			filtered, err := db.Tasks(ctx, 1, taskwire.TaskFilter{Status: &done}, taskwire.Page{})
			if err != nil || len(filtered) != 1 || filtered[0].ID != 3 {
				t.Errorf("status filter = %v, %v; want task 3", filtered, err)
			}
			var next taskwire.Task
			err = db.Update(ctx, func(tx taskwire.Tx) (err error) {
				next, err = tx.CreateTask(ctx, taskwire.Task{Title: "next", Status: taskwire.StatusInProgress, ProjectID: 1, Version: 1, CreatedAt: time.Now(), UpdatedAt: time.Now()})
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			if next.ID != 5 {
				t.Errorf("next task id = %d, want 5 (id 4 was used by a deleted task)", next.ID)
			}
			raw, err = db.RawColumn(ctx, "SELECT status FROM tasks WHERE id = ?", next.ID)
			if err != nil || !slices.Equal(raw, []string{"IN_PROGRESS"}) {
				t.Errorf("new task stored as %v, %v; want IN_PROGRESS", raw, err)
			}
			if _, err := db.RawExec(ctx, "UPDATE tasks SET status = 'todo' WHERE id = 1"); err == nil {
				t.Error("a lowercase status was accepted by the column")
			}
		})
	}
}

func openSQLite(t *testing.T, path string) *sqlstore.DB {
	t.Helper()
	db, err := sqlstore.Open(context.Background(), sqlstore.Target{Dialect: "sqlite", Path: path}, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func openPostgres(t *testing.T) *sqlstore.DB {
	t.Helper()
	target, err := sqlstore.ParseURL(storetest.PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlstore.Open(context.Background(), target, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func mustExec(t *testing.T, db *sqlstore.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.RawExec(context.Background(), q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}
