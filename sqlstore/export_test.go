package sqlstore

import (
	"context"
	"database/sql"
)

// MigrateTo applies the migrations up to version, for tests of a later
// migration on data written under an earlier schema.
func (db *DB) MigrateTo(ctx context.Context, version int64) error { return db.migrateTo(ctx, version) }

// RawExec runs a statement (with ? placeholders) on the writer's pool, for
// tests that write rows as an older Taskwire would have.
func (db *DB) RawExec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return db.write.ExecContext(ctx, db.d.rebind(query), args...)
}

// RawColumn reads the single string column of each row of a query.
func (db *DB) RawColumn(ctx context.Context, query string, args ...any) ([]string, error) {
	rows, err := db.write.QueryContext(ctx, db.d.rebind(query), args...)
	return list(rows, err, func(r *sql.Rows) (string, error) {
		var s string
		return s, r.Scan(&s)
	})
}
