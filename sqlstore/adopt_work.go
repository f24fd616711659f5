package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// This file builds the adopted database on the work copy and writes the
// files beside the original; see adopt.go.

// build turns the work copy, a byte copy of the seed's file, into
// Taskwire's database holding the seed's rows. It returns the rows copied:
// users, projects, members, tasks.
func (a *adoption) build(ctx context.Context) (counts [4]int64, err error) {
	q := url.Values{}
	q.Set("mode", "rw")
	// The work copy is thrown away on any failure and synced once at the
	// end, so it needs no journal on disk (which also leaves it in
	// rollback-journal mode) and no syncs on the way. Foreign keys are
	// checked once, at the end.
	q.Add("_pragma", "foreign_keys(0)")
	q.Add("_pragma", "journal_mode(MEMORY)")
	q.Add("_pragma", "synchronous(OFF)")
	w, err := sql.Open("sqlite", "file:"+(&url.URL{Path: a.work}).EscapedPath()+"?"+q.Encode())
	if err != nil {
		return counts, failed(a.path, "opening "+a.work, err)
	}
	defer w.Close()
	w.SetMaxOpenConns(1)
	if err := a.checkWork(ctx, w); err != nil {
		return counts, err
	}
	if err := moveAside(ctx, w); err != nil {
		return counts, failed(a.path, "moving the seed's tables aside", err)
	}
	if err := migrateDB(ctx, sqliteDialect, w, slog.New(slog.DiscardHandler), 0); err != nil {
		return counts, failed(a.path, "creating Taskwire's tables", err)
	}
	stepDone("migrate")
	if counts, err = a.copyRows(ctx, w); err != nil {
		return counts, err
	}
	stepDone("rows")
	if err := w.Close(); err != nil {
		return counts, failed(a.path, "closing "+a.work, err)
	}
	return counts, nil
}

// checkWork refuses a damaged file, one whose tables changed since it was
// classified (it was not locked then), and task statuses the seed never
// wrote.
func (a *adoption) checkWork(ctx context.Context, w *sql.DB) error {
	var res string
	if err := w.QueryRowContext(ctx, "PRAGMA quick_check(1)").Scan(&res); err != nil || res != "ok" {
		if err != nil {
			res = err.Error()
		}
		return refused("%s is damaged (PRAGMA quick_check: %s): restore it from a backup or recover it with sqlite3's .recover, then start Taskwire again",
			a.path, strings.Join(strings.Fields(res), " "))
	}
	tables, err := inspect(ctx, w)
	if err != nil {
		return failed(a.path, "reading its tables", err)
	}
	if err := checkSeedShape(a.path, tables); err != nil {
		return err
	}
	var id int64
	var status sql.NullString
	err = w.QueryRowContext(ctx, `SELECT id, status FROM tasks
		WHERE status IS NULL OR status NOT IN ('TODO', 'IN_PROGRESS', 'DONE') ORDER BY id LIMIT 1`).Scan(&id, &status)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil
	case err != nil:
		return failed(a.path, "reading its tasks", err)
	}
	return refused("%s: task %d has the status %q, which is not one the seed service writes (TODO, IN_PROGRESS, DONE): correct it, then start Taskwire again",
		a.path, id, status.String)
}

// moveAside renames the seed's tables to seed_<name> and drops their
// indexes, whose names Taskwire's migrations reuse (ix_users_email).
func moveAside(ctx context.Context, w *sql.DB) error {
	tx, err := w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")
	indexes, err := list(rows, err, func(r *sql.Rows) (string, error) {
		var s string
		return s, r.Scan(&s)
	})
	if err != nil {
		return err
	}
	stmts := make([]string, 0, len(indexes)+4)
	for _, ix := range indexes {
		stmts = append(stmts, "DROP INDEX "+quoteIdent(ix))
	}
	for _, t := range []string{"users", "projects", "project_members", "tasks"} {
		stmts = append(stmts, "ALTER TABLE "+t+" RENAME TO seed_"+t)
	}
	for _, s := range stmts {
		if _, err := tx.ExecContext(ctx, s); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// copyRows copies the seed's rows into Taskwire's tables, keeping every id,
// drops the seed's tables and checks every reference, in one transaction.
func (a *adoption) copyRows(ctx context.Context, w *sql.DB) (counts [4]int64, err error) {
	tx, err := w.BeginTx(ctx, nil)
	if err != nil {
		return counts, failed(a.path, "copying the rows", err)
	}
	defer tx.Rollback()
	ts := a.now.Format(sqliteTimeLayout)
	copies := []struct {
		query string
		args  []any
	}{
		{`INSERT INTO users (id, email, username, hashed_password, created_at)
			SELECT id, email, username, hashed_password, ? FROM seed_users ORDER BY id`, []any{ts}},
		{`INSERT INTO projects (id, name, description, owner_id, last_seq, created_at, updated_at)
			SELECT id, name, description, owner_id, 0, ?, ? FROM seed_projects ORDER BY id`, []any{ts, ts}},
		// In the order members joined, which is the order Members lists.
		{`INSERT INTO project_members (project_id, user_id, created_at)
			SELECT project_id, user_id, ? FROM seed_project_members ORDER BY rowid`, []any{ts}},
		{`INSERT INTO tasks (id, title, description, status, project_id, assignee_id, version, created_at, updated_at, assigned_seq)
			SELECT id, title, description, status, project_id, assignee_id, 1, ?, ?, 0 FROM seed_tasks ORDER BY id`, []any{ts, ts}},
	}
	for i, c := range copies {
		res, err := tx.ExecContext(ctx, c.query, c.args...)
		if err == nil {
			counts[i], err = res.RowsAffected()
		}
		if err != nil {
			return counts, failed(a.path, "copying the rows", err)
		}
	}
	var stmts []string
	for _, t := range []string{"users", "projects", "project_members", "tasks"} {
		// The next id continues after the seed's largest (SQLite keeps
		// this for AUTOINCREMENT tables already; this states it).
		stmts = append(stmts,
			`INSERT INTO sqlite_sequence (name, seq) SELECT '`+t+`', 0
				WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = '`+t+`')`,
			`UPDATE sqlite_sequence SET seq = max(seq, coalesce((SELECT max(id) FROM `+t+`), 0)) WHERE name = '`+t+`'`,
			"DROP TABLE seed_"+t)
	}
	for _, s := range stmts {
		if _, err := tx.ExecContext(ctx, s); err != nil {
			return counts, failed(a.path, "copying the rows", err)
		}
	}
	if err := a.checkReferences(ctx, tx); err != nil {
		return counts, err
	}
	if err := tx.Commit(); err != nil {
		return counts, failed(a.path, "copying the rows", err)
	}
	return counts, nil
}

// checkReferences refuses rows that point at a row that does not exist:
// the seed service declared its foreign keys but never enforced them.
func (a *adoption) checkReferences(ctx context.Context, tx *sql.Tx) error {
	var table, parent string
	var rowid sql.NullInt64
	var fkid int
	err := tx.QueryRowContext(ctx, "PRAGMA foreign_key_check").Scan(&table, &rowid, &parent, &fkid)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return failed(a.path, "checking references", err)
	}
	var column, value string
	err = tx.QueryRowContext(ctx, `SELECT "from" FROM pragma_foreign_key_list(?) WHERE id = ?`, table, fkid).Scan(&column)
	if err == nil {
		err = tx.QueryRowContext(ctx, "SELECT quote("+quoteIdent(column)+") FROM "+quoteIdent(table)+" WHERE rowid = ?",
			rowid.Int64).Scan(&value)
	}
	if err != nil {
		return failed(a.path, "checking references", err)
	}
	what := fmt.Sprintf("%s %d", singular(table), rowid.Int64)
	if table == "project_members" {
		var p, u int64
		if err := tx.QueryRowContext(ctx, "SELECT project_id, user_id FROM project_members WHERE rowid = ?", rowid.Int64).Scan(&p, &u); err != nil {
			return failed(a.path, "checking references", err)
		}
		what = fmt.Sprintf("the membership of user %d in project %d", u, p)
	}
	return refused("%s: %s has %s %s, but there is no %s %s (the seed service did not check this): correct it, then start Taskwire again",
		a.path, what, column, value, singular(parent), value)
}

// singular names one row of a table in messages.
func singular(table string) string {
	switch table {
	case "users", "projects", "tasks":
		return strings.TrimSuffix(table, "s")
	}
	return table + " row"
}

// quoteIdent quotes a name read from a file for use in SQL.
func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// removeStale removes the work copies a killed adoption left. The lock is
// held, so no other adoption of path is under way.
func removeStale(path string) {
	dir, prefix := filepath.Dir(path), filepath.Base(path)+workInfix
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), prefix) {
			_ = os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}

// writeBackup copies the original to <file>.before-taskwire-<UTC time>,
// under a temporary name first so that the backup's name only ever holds
// a whole copy.
func (a *adoption) writeBackup() error {
	tmp := a.work + ".backup"
	err := copyFile(a.src, a.info, tmp)
	if err == nil {
		err = chownLike(tmp, a.info)
	}
	// A start killed during an adoption may have left a backup of the same
	// second; it stays, and this one takes the next second's name.
	for try := 0; err == nil && a.backup == ""; try++ {
		a.now = time.Now().UTC()
		name := a.path + backupInfix + a.now.Format("20060102T150405Z")
		switch _, err = os.Lstat(name); {
		case errors.Is(err, fs.ErrNotExist):
			if err = os.Rename(tmp, name); err == nil {
				a.backup = name
			}
		case err == nil && try < 3:
			time.Sleep(time.Until(a.now.Truncate(time.Second).Add(time.Second)))
		case err == nil:
			err = fmt.Errorf("%s exists", name)
		}
	}
	if err == nil {
		err = syncDir(filepath.Dir(a.path))
	}
	if err != nil {
		_ = os.Remove(tmp)
		return failed(a.path, "writing its backup", err)
	}
	return nil
}

// copyFile copies src's bytes to a new file dst with info's mode and
// syncs it.
func copyFile(src *os.File, info os.FileInfo, dst string) error {
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, info.Mode().Perm())
	if err != nil {
		return err
	}
	_, err = io.Copy(out, io.NewSectionReader(src, 0, info.Size()))
	if err == nil {
		err = out.Chmod(info.Mode().Perm()) // whatever the umask
	}
	if err == nil {
		err = out.Sync()
	}
	return errors.Join(err, out.Close())
}

// chownLike gives path the owner of the file info describes, when running
// as root (the service's user keeps the files it could write before).
func chownLike(path string, info os.FileInfo) error {
	if st, ok := info.Sys().(*syscall.Stat_t); ok && os.Geteuid() == 0 {
		return os.Chown(path, int(st.Uid), int(st.Gid))
	}
	return nil
}

// finishFile gives the work copy the original's mode and owner and syncs
// it.
func finishFile(path string, info os.FileInfo) error {
	if err := os.Chmod(path, info.Mode().Perm()); err != nil {
		return err
	}
	if err := chownLike(path, info); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	return errors.Join(f.Sync(), f.Close())
}

// syncDir makes the renames in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	return errors.Join(d.Sync(), d.Close())
}
