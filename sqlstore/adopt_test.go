package sqlstore_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/taskwire/taskwire"
	"github.com/taskwire/taskwire/auth"
	"github.com/taskwire/taskwire/sqlstore"
)

// seedFixture writes the seed service's database into dir with mode 0644
// and returns its path and bytes.
func seedFixture(t *testing.T, dir string) (string, []byte) {
	t.Helper()
	b, err := os.ReadFile("testdata/seed-peroxia.db")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "seed.db")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	return path, b
}

// seedRows reads a table of a copy of the fixture as strings, in rowid order.
func seedRows(t *testing.T, table string) [][]string {
	t.Helper()
	path, _ := seedFixture(t, t.TempDir())
	raw, err := sql.Open("sqlite", "file:"+path+"?mode=ro&immutable=1")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	rows, err := raw.Query("SELECT * FROM " + table + " ORDER BY rowid")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out [][]string
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		dest := make([]any, len(cols))
		for i := range vals {
			dest[i] = &vals[i]
		}
		if err := rows.Scan(dest...); err != nil {
			t.Fatal(err)
		}
		row := make([]string, len(cols))
		for i, v := range vals {
			row[i] = v.String
			if !v.Valid {
				row[i] = "NULL"
			}
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func nullable(p *string) string {
	if p == nil {
		return "NULL"
	}
	return *p
}

func nullableID(p *int64) string {
	if p == nil {
		return "NULL"
	}
	return decimal(*p)
}

func decimal(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// openAt opens and migrates the SQLite file at path, logging to logs. The
// caller closes the store.
func openAdopting(t *testing.T, path string, logs *bytes.Buffer) *sqlstore.DB {
	t.Helper()
	db, err := sqlstore.Open(context.Background(), sqlstore.Target{Dialect: "sqlite", Path: path},
		sqlstore.Options{Logger: slog.New(slog.NewTextHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Migrate(context.Background()); err != nil {
		db.Close()
		t.Fatal(err)
	}
	return db
}

// TestAdoptSeed: a file the seed service wrote is adopted in place with a
// backup beside it, keeping every row and id, and continues where the seed
// left off.
func TestAdoptSeed(t *testing.T) {
	path, fixture := seedFixture(t, t.TempDir())
	var logs bytes.Buffer
	db := openAdopting(t, path, &logs)
	closeDB := sync.OnceFunc(func() { db.Close() })
	defer closeDB()

	backups, _ := filepath.Glob(path + ".before-taskwire-*")
	if len(backups) != 1 {
		t.Fatalf("backups %v, want one", backups)
	}
	if _, err := time.Parse("20060102T150405Z", strings.TrimPrefix(filepath.Base(backups[0]), "seed.db.before-taskwire-")); err != nil {
		t.Errorf("backup name %s: %v", backups[0], err)
	}
	if b, err := os.ReadFile(backups[0]); err != nil || !bytes.Equal(b, fixture) {
		t.Errorf("the backup differs from the original (%v)", err)
	}
	if st, err := os.Stat(backups[0]); err != nil || st.Mode().Perm() != 0o644 {
		t.Errorf("backup mode %v (%v), want 0644", st.Mode().Perm(), err)
	}
	if !strings.Contains(logs.String(), "adopted the seed service's database") || !strings.Contains(logs.String(), "tasks=5") {
		t.Errorf("log: %s", logs.String())
	}

	t.Run("Users", func(t *testing.T) { checkAdoptedUsers(t, db) })
	t.Run("Projects", func(t *testing.T) { checkAdoptedProjects(t, db) })
	t.Run("Tasks", func(t *testing.T) { checkAdoptedTasks(t, db) })
	t.Run("NextIDs", func(t *testing.T) { checkAdoptedNextIDs(t, db) })
	closeDB()

	// Adopted, the file is Taskwire's: opened again, nothing is adopted.
	again := openAdopting(t, path, &logs)
	defer again.Close()
	if tk, err := again.Task(context.Background(), 6); err != nil || tk.Title != "After" {
		t.Errorf("task 6 after reopening: %+v, %v", tk, err)
	}
	if b, _ := filepath.Glob(path + ".before-taskwire-*"); len(b) != 1 {
		t.Errorf("backups after reopening: %v", b)
	}
	if left, _ := filepath.Glob(path + ".adopting-*"); len(left) != 0 {
		t.Errorf("left behind: %v", left)
	}
}

// checkAdoptedUsers: every user keeps id, email, username and password hash,
// and their password still matches.
func checkAdoptedUsers(t *testing.T, db *sqlstore.DB) {
	hasher, _ := auth.NewBcrypt(4)
	var checks sync.WaitGroup // bcrypt at the seed's cost 12 is slow under -race
	defer checks.Wait()
	for i, row := range seedRows(t, "users") {
		u, err := db.UserByID(context.Background(), int64(i+1))
		if err != nil {
			t.Fatal(err)
		}
		if got := []string{decimal(u.ID), u.Email, u.Username, u.HashedPassword}; !slices.Equal(got, row) {
			t.Errorf("user %v, want %v", got, row)
		}
		password := map[string]string{"ada": "ada-password-1", "bob": "bob-password-2", "cy": "cy-password-3", "dee": "dee-password-4"}[u.Username]
		checks.Go(func() {
			if err := hasher.Compare(u.HashedPassword, password); err != nil {
				t.Errorf("%s's password: %v", u.Username, err)
			}
		})
	}
}

// checkAdoptedProjects: every project keeps its fields with an empty event
// log, and its members in the order they joined.
func checkAdoptedProjects(t *testing.T, db *sqlstore.DB) {
	ctx := context.Background()
	for _, row := range seedRows(t, "projects") {
		p, err := db.Project(ctx, parseID(t, row[0]))
		if err != nil {
			t.Fatal(err)
		}
		if got := []string{decimal(p.ID), p.Name, nullable(p.Description), decimal(p.OwnerID)}; !slices.Equal(got, row) {
			t.Errorf("project %v, want %v", got, row)
		}
		if p.LastSeq != 0 {
			t.Errorf("project %d LastSeq %d, want 0", p.ID, p.LastSeq)
		}
	}
	if ps, err := db.ProjectsOf(ctx, 1, taskwire.Page{}); err != nil || len(ps) != 2 {
		t.Errorf("ada's projects %v, %v", ps, err)
	}
	var members [][]string
	for _, pid := range []int64{1, 2} {
		ms, err := db.Members(ctx, pid)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ms {
			members = append(members, []string{decimal(m.ProjectID), decimal(m.UserID)})
		}
	}
	want := seedRows(t, "project_members")
	slices.SortStableFunc(want, func(a, b []string) int { return strings.Compare(a[0], b[0]) })
	if !slices.EqualFunc(members, want, slices.Equal) {
		t.Errorf("members %v, want %v (by project, in the order they joined)", members, want)
	}
}

// checkAdoptedTasks: every task keeps its fields, its status read as the
// API's value, at version 1.
func checkAdoptedTasks(t *testing.T, db *sqlstore.DB) {
	var tasks [][]string
	for _, pid := range []int64{1, 2} {
		ts, err := db.Tasks(context.Background(), pid, taskwire.TaskFilter{}, taskwire.Page{})
		if err != nil {
			t.Fatal(err)
		}
		for _, tk := range ts {
			tasks = append(tasks, []string{decimal(tk.ID), tk.Title, nullable(tk.Description), string(tk.Status), decimal(tk.ProjectID), nullableID(tk.AssigneeID)})
			if tk.Version != 1 {
				t.Errorf("task %d version %d, want 1", tk.ID, tk.Version)
			}
		}
	}
	want := seedRows(t, "tasks")
	lower := map[string]string{"TODO": "todo", "IN_PROGRESS": "in_progress", "DONE": "done"}
	for _, row := range want {
		row[3] = lower[row[3]]
	}
	if !slices.EqualFunc(tasks, want, slices.Equal) {
		t.Errorf("tasks %v, want %v", tasks, want)
	}
}

// checkNextIDs: ids continue after the seed's; the event log starts at 1.
func checkAdoptedNextIDs(t *testing.T, db *sqlstore.DB) {
	ctx, now := context.Background(), time.Now()
	err := db.Update(ctx, func(tx taskwire.Tx) error {
		tk, err := tx.CreateTask(ctx, taskwire.Task{Title: "After", Status: taskwire.StatusTodo, ProjectID: 1, Version: 1, CreatedAt: now, UpdatedAt: now})
		if err != nil || tk.ID != 6 {
			t.Errorf("new task id %d, %v; want 6", tk.ID, err)
		}
		p, err := tx.CreateProject(ctx, taskwire.Project{Name: "New", OwnerID: 1, CreatedAt: now})
		if err != nil || p.ID != 3 {
			t.Errorf("new project id %d, %v; want 3", p.ID, err)
		}
		u, err := tx.CreateUser(ctx, taskwire.User{Email: "eve@example.com", Username: "eve", HashedPassword: "x", CreatedAt: now})
		if err != nil || u.ID != 5 {
			t.Errorf("new user id %d, %v; want 5", u.ID, err)
		}
		e, err := tx.AppendEvent(ctx, taskwire.Event{ProjectID: 1, Type: taskwire.EventTaskCreated, ActorID: 1, TS: now, Data: json.RawMessage(`{}`)})
		if err != nil || e.Seq != 1 {
			t.Errorf("first event seq %d, %v; want 1", e.Seq, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func parseID(t *testing.T, s string) int64 {
	t.Helper()
	var n int64
	if err := json.Unmarshal([]byte(s), &n); err != nil {
		t.Fatal(err)
	}
	return n
}

// mutate runs statements on path through a plain connection, which leaves
// the file in rollback-journal mode like the seed's.
func execOn(t *testing.T, path string, stmts ...string) {
	t.Helper()
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	for _, s := range stmts {
		if _, err := raw.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// dirFiles reads every file in dir by name.
func dirContents(t *testing.T, dir string) map[string]string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = string(b)
	}
	return out
}

// TestAdoptRefuses: files Taskwire must not take over, or cannot adopt
// safely, are refused with one line starting with the path, and the
// directory is byte for byte as it was: no backup, no work copy, the file
// and its -wal or -journal unchanged.
func TestAdoptRefuses(t *testing.T) {
	tests := []struct {
		name string
		// setup prepares dir/seed.db; it may return a function to run
		// after the attempt.
		setup func(t *testing.T, path string) func()
		want  string
	}{
		{"ReadOnly", func(t *testing.T, path string) func() {
			if err := os.Chmod(path, 0o444); err != nil {
				t.Fatal(err)
			}
			return nil
		}, "is read-only (mode 0444)"},
		{"WriteAheadLog", func(t *testing.T, path string) func() {
			mustWrite(t, path+"-wal", bytes.Repeat([]byte{0x37}, 4096))
			return nil
		}, "has a -wal file"},
		{"WALMode", func(t *testing.T, path string) func() {
			execOn(t, path, "PRAGMA journal_mode=WAL")
			return nil
		}, "is in WAL mode"},
		{"Journal", func(t *testing.T, path string) func() {
			mustWrite(t, path+"-journal", append([]byte{0xd9, 0xd5, 0x05, 0xf9, 0x20, 0xa1, 0x63, 0xd7}, make([]byte, 504)...))
			return nil
		}, "has a -journal file"},
		{"Locked", func(t *testing.T, path string) func() { return sqlstore.HoldLock(t, path) }, "is locked by another process"},
		{"Truncated", func(t *testing.T, path string) func() {
			b, _ := os.ReadFile(path)
			mustWrite(t, path, b[:len(b)/2])
			return nil
		}, "is truncated"},
		{"NotSQLite", func(t *testing.T, path string) func() {
			mustWrite(t, path, []byte("id,title\n1,Write the launch post\n"))
			return nil
		}, "is not a SQLite database"},
		{"OtherApplication", func(t *testing.T, path string) func() {
			os.Remove(path)
			execOn(t, path, "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)", "CREATE TABLE tags (id INTEGER PRIMARY KEY, name TEXT)",
				"INSERT INTO notes (body) VALUES ('keep me')")
			return nil
		}, "holds tables of another application (notes, tags)"},
		{"ExtraTable", func(t *testing.T, path string) func() {
			execOn(t, path, "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
			return nil
		}, "holds tables of another application (alembic_version)"},
		{"BogusStatus", func(t *testing.T, path string) func() {
			execOn(t, path, "UPDATE tasks SET status = 'BOGUS' WHERE id = 3")
			return nil
		}, `task 3 has the status "BOGUS"`},
		{"MissingAssignee", func(t *testing.T, path string) func() {
			execOn(t, path, "UPDATE tasks SET assignee_id = 99 WHERE id = 4")
			return nil
		}, "task 4 has assignee_id 99, but there is no user 99"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path, _ := seedFixture(t, dir)
			done := tc.setup(t, path)
			before := dirContents(t, dir)
			db, err := sqlstore.Open(context.Background(), sqlstore.Target{Dialect: "sqlite", Path: path}, sqlstore.Options{})
			if done != nil {
				done()
			}
			if err == nil {
				db.Close()
				t.Fatal("Open succeeded")
			}
			msg := err.Error()
			t.Log(msg)
			if strings.Contains(msg, "\n") || !strings.HasPrefix(msg, path) || !strings.Contains(msg, tc.want) ||
				!strings.HasSuffix(msg, "; nothing was changed") {
				t.Errorf("error %q: want one line starting with the path, saying %q and that nothing was changed", msg, tc.want)
			}
			after := dirContents(t, dir)
			for name := range after {
				if _, ok := before[name]; !ok {
					t.Errorf("%s was left behind", name)
				}
			}
			for name, b := range before {
				if after[name] != b {
					t.Errorf("%s changed", name)
				}
			}
		})
	}
}

func mustWrite(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestAdoptEmptyFile: a file of 0 bytes becomes a Taskwire database.
func TestAdoptEmptyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "empty.db")
	mustWrite(t, path, nil)
	db := openAdopting(t, path, &bytes.Buffer{})
	defer db.Close()
	if tasks, err := db.Tasks(context.Background(), 1, taskwire.TaskFilter{}, taskwire.Page{}); err != nil || len(tasks) != 0 {
		t.Fatalf("tasks %v, %v", tasks, err)
	}
	if b, _ := filepath.Glob(path + ".before-taskwire-*"); len(b) != 0 {
		t.Errorf("backup of an empty file: %v", b)
	}
}
