package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
)

// On SQLite the search index (task_search) is not written by triggers: its
// text goes through searchText, a Go function no other program has. The
// triggers of migrations/sqlite/00008_search_stale.sql note in
// task_search_stale each task whose title, description or comments
// changed, in plain SQL any program that writes the file runs, and
// refreshSearch rewrites those tasks' documents: the writer calls it in
// every batch's transaction just before the commit, so Taskwire's own
// writes are searchable as they commit, and Migrate calls it at start-up
// for what other programs (the sqlite3 shell, the seed service) wrote in
// between. PostgreSQL's index is kept by triggers of SQL functions, which
// every client of the database runs.

// staleDocument is one task whose document refreshSearch rewrites; gone
// when the task no longer exists.
type staleDocument struct {
	id                        int64
	title, description, notes string
	gone                      bool
}

// refreshSearch rewrites the documents of the tasks task_search_stale
// names, in the transaction q is in, and empties it.
func refreshSearch(ctx context.Context, q querier) error {
	docs, err := staleDocuments(ctx, q)
	if err != nil || len(docs) == 0 {
		return err
	}
	for _, d := range docs {
		if d.gone {
			_, err = q.ExecContext(ctx, "DELETE FROM task_search WHERE rowid = ?", d.id)
		} else {
			_, err = q.ExecContext(ctx, "INSERT OR REPLACE INTO task_search (rowid, title, description, comments) VALUES (?, ?, ?, ?)",
				d.id, searchText(d.title), searchText(d.description), searchText(d.notes))
		}
		if err != nil {
			return fmt.Errorf("search index: task %d: %w", d.id, err)
		}
	}
	if _, err := q.ExecContext(ctx, "DELETE FROM task_search_stale"); err != nil {
		return fmt.Errorf("search index: %w", err)
	}
	return nil
}

// staleDocuments reads the text of the tasks task_search_stale names: all
// of it before any write, since the rows are read on the connection the
// writes go to.
func staleDocuments(ctx context.Context, q querier) ([]staleDocument, error) {
	rows, err := q.QueryContext(ctx, `SELECT s.task_id, t.id IS NULL, coalesce(t.title, ''), coalesce(t.description, ''),
		coalesce((SELECT group_concat(c.body, char(10)) FROM comments c WHERE c.task_id = s.task_id), '')
		FROM task_search_stale s LEFT JOIN tasks t ON t.id = s.task_id`)
	if err != nil {
		return nil, fmt.Errorf("search index: %w", err)
	}
	defer rows.Close()
	var docs []staleDocument
	for rows.Next() {
		var d staleDocument
		if err := rows.Scan(&d.id, &d.gone, &d.title, &d.description, &d.notes); err != nil {
			return nil, fmt.Errorf("search index: %w", err)
		}
		docs = append(docs, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("search index: %w", err)
	}
	return docs, nil
}

// refreshSearchNow runs refreshSearch in a transaction of its own on w.
func refreshSearchNow(ctx context.Context, w *sql.DB) error {
	t, err := w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("search index: %w", err)
	}
	defer t.Rollback() //nolint:errcheck // after Commit it is a no-op
	if err := refreshSearch(ctx, t); err != nil {
		return err
	}
	return t.Commit()
}
