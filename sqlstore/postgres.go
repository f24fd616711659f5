package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/stdlib"
)

// openPostgres connects to PostgreSQL through pgx's database/sql driver.
// Readers and the writer share one pool; the writer keeps one of its
// connections and commits units of work in batches, as on SQLite.
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
	db := &DB{reads: reads{q: pool, d: postgresDialect}, d: postgresDialect, read: pool, write: pool, logger: opts.Logger, jobs: opts.Jobs, webhooks: opts.Webhooks, dsn: dsn}
	if opts.MaxBatch <= 0 {
		// Each unit of a batch is a subtransaction; PostgreSQL tracks up to
		// 64 per backend before every snapshot gets slower.
		opts.MaxBatch = 32
	}
	if opts.Writers <= 0 {
		opts.Writers = 4
	}
	for range max(1, min(opts.Writers, conns-1)) {
		db.writers = append(db.writers, newWriter(db, opts.MaxBatch))
	}
	return db, nil
}

var _ = stdlib.GetDefaultDriver // registers the "pgx" driver
