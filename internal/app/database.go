package app

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"path/filepath"
	"runtime"

	"github.com/taskwire/taskwire/auth"
	"github.com/taskwire/taskwire/notify"
	"github.com/taskwire/taskwire/sqlstore"
	"github.com/taskwire/taskwire/webhook"
)

// webhookOptions are the webhook settings of cfg.
func webhookOptions(cfg Config) webhook.Options {
	return webhook.Options{
		Timeout: cfg.WebhookTimeout, RetryBase: cfg.WebhookRetryBase, MaxAttempts: cfg.WebhookMaxAttempts,
		Workers: cfg.WebhookWorkers, Postgres: cfg.Database.Dialect == "postgres",
	}
}

// OpenDatabase opens the store of DATABASE_URL (adopting a seed service's
// SQLite file, refusing another application's), whose units of work insert
// email jobs, and the pool the job queue works on — one connection on
// SQLite, as River's SQLite driver wants, a few on PostgreSQL — and applies
// Taskwire's and River's migrations, one instance at a time. The caller
// closes both.
func OpenDatabase(ctx context.Context, cfg Config, logger *slog.Logger) (*sqlstore.DB, *sql.DB, error) {
	conns := cfg.DBMaxConns
	if conns == 0 {
		conns = max(8, 4*runtime.NumCPU())
	}
	jobs, err := notify.NewInserter(notify.Options{
		Debounce: cfg.EmailDebounce, MaxAttempts: cfg.EmailMaxAttempts, Postgres: cfg.Database.Dialect == "postgres",
	})
	if err != nil {
		return nil, nil, err
	}
	hooks, err := webhook.NewInserter(webhookOptions(cfg))
	if err != nil {
		return nil, nil, err
	}
	db, err := sqlstore.Open(ctx, cfg.Database, sqlstore.Options{Synchronous: cfg.SQLiteSync, Logger: logger, MaxConns: conns, Writers: cfg.DBWriters, Jobs: jobs, Webhooks: hooks})
	if err != nil {
		return nil, nil, fmt.Errorf("DATABASE_URL: %w", err)
	}
	jobConns := 1
	if db.Postgres() {
		jobConns = 4
	}
	pool, err := db.NewPool(jobConns)
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	err = db.MigrationLock(ctx, func() error {
		if err := db.Migrate(ctx); err != nil {
			return err
		}
		return notify.Migrate(ctx, pool, db.Postgres())
	})
	if err != nil {
		pool.Close()
		db.Close()
		return nil, nil, err
	}
	return db, pool, nil
}

// secret returns JWT_SECRET, or the one generated once beside the SQLite
// file (LoadConfig requires JWT_SECRET with PostgreSQL).
func secret(cfg Config, db *sqlstore.DB) ([]byte, error) {
	if cfg.JWTSecret != "" {
		return []byte(cfg.JWTSecret), nil
	}
	path := db.Path() + ".secret"
	if !filepath.IsAbs(path) {
		abs, err := filepath.Abs(path)
		if err == nil {
			path = abs
		}
	}
	return auth.LoadOrCreateSecret(path)
}
