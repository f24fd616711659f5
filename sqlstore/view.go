package sqlstore

import (
	"context"
	"database/sql"

	"github.com/taskwire/taskwire"
)

// View implements taskwire.Store: fn's reads run in one read-only
// transaction on the reader pool, so they see one snapshot. SQLite's WAL
// fixes the snapshot at the transaction's first read; PostgreSQL runs it
// REPEATABLE READ.
func (db *DB) View(ctx context.Context, fn func(r taskwire.Reader) error) error {
	opts := &sql.TxOptions{ReadOnly: true}
	if db.d.remote {
		opts.Isolation = sql.LevelRepeatableRead
	}
	tx, err := db.read.BeginTx(ctx, opts)
	if err != nil {
		return dbErr(err)
	}
	defer tx.Rollback()
	var q querier = tx
	if db.readStmts != nil {
		q = db.readStmts.in(tx)
	}
	if err := fn(reads{q: q, d: db.d}); err != nil {
		return err
	}
	return dbErr(tx.Commit())
}
