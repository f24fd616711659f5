package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/stdlib"
	"github.com/taskwire/taskwire"
)

// openPostgres connects to PostgreSQL through pgx's database/sql driver.
// Readers and writers share one pool; every unit of work is its own
// transaction (PostgreSQL groups concurrent commits itself).
func openPostgres(ctx context.Context, dsn string, opts Options) (*DB, error) {
	pool, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: %w", err)
	}
	conns := opts.Readers
	if opts.MaxConns > 0 {
		conns = opts.MaxConns
	}
	pool.SetMaxOpenConns(conns)
	pool.SetMaxIdleConns(conns)
	pool.SetConnMaxIdleTime(5 * time.Minute)
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := pool.PingContext(pctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("sqlstore: connect to PostgreSQL: %w", err)
	}
	return &DB{reads: reads{q: pool, d: postgresDialect}, d: postgresDialect, read: pool, write: pool, logger: opts.Logger, dsn: dsn}, nil
}

var _ = stdlib.GetDefaultDriver // registers the "pgx" driver

// updatePostgres runs fn in a transaction, again after a deadlock or a
// serialization failure, and runs its hooks after the commit.
func (db *DB) updatePostgres(ctx context.Context, fn func(taskwire.Tx) error) error {
	for attempt := 1; ; attempt++ {
		err := db.tryPostgres(ctx, fn)
		if err == nil || !retryable(err) || attempt == 5 {
			return err
		}
		time.Sleep(time.Duration(attempt) * 5 * time.Millisecond)
	}
}

func (db *DB) tryPostgres(ctx context.Context, fn func(taskwire.Tx) error) error {
	sqlTx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return dbErr(err)
	}
	t := &tx{writes: writes{reads{q: sqlTx, d: db.d}}, sqlTx: sqlTx}
	if err := run(fn, t); err != nil {
		if rerr := sqlTx.Rollback(); rerr != nil && !errors.Is(rerr, sql.ErrTxDone) {
			db.logger.Error("sqlstore: rollback failed", "err", rerr)
		}
		return err
	}
	if err := sqlTx.Commit(); err != nil {
		return dbErr(err)
	}
	for _, h := range t.hooks {
		h()
	}
	return nil
}
