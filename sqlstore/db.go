// Package sqlstore implements taskwire.Store over database/sql for SQLite
// (modernc.org/sqlite) and PostgreSQL (pgx), with one set of queries and a
// small dialect layer.
package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"runtime"

	"github.com/pressly/goose/v3"
	"github.com/taskwire/taskwire"
)

//go:embed migrations
var migrations embed.FS

// DB is a Taskwire store.
type DB struct {
	reads // over the reader pool: readStmts on SQLite
	d     *dialect
	read  *sql.DB // reader pool
	write *sql.DB // the writer; for SQLite a single connection
	// readStmts (SQLite) prepares the reader pool's statements; nil on
	// PostgreSQL, where pgx caches its own.
	readStmts *prepared
	// writers commit units of work in batches; SQLite has one, PostgreSQL
	// Options.Writers, a unit going to the one its write key picks.
	writers []*writer
	path    string // SQLite file
	logger  *slog.Logger
	jobs    JobInserter // nil: units of work enqueue no jobs
	// webhooks inserts webhook delivery jobs; nil: units enqueue none.
	webhooks WebhookInserter

	writeDSN string // SQLite: for pools opened by NewPool
	dsn      string // PostgreSQL
}

var _ taskwire.Store = (*DB)(nil)

// Options tune a DB.
type Options struct {
	// Readers is the size of the reader pool (default 2×GOMAXPROCS, min 4).
	Readers int
	// Synchronous is SQLite's synchronous pragma: FULL (default, every
	// commit durable) or NORMAL (a crash of the machine, not of the process,
	// may lose the last commits).
	Synchronous string
	// MaxBatch bounds how many units of work one commit covers (default
	// 128 on SQLite, 32 on PostgreSQL).
	MaxBatch int
	// MaxConns is PostgreSQL's pool size (default: Readers).
	MaxConns int
	// Writers is how many writers commit in parallel on PostgreSQL, each
	// on its own connection (default 4). Units of work with the same write
	// key (taskwire.WithWriteKey: the project) share one, so one project's
	// changes are still one batch at a time; SQLite always has one.
	Writers int
	Logger  *slog.Logger
	// Jobs inserts the email jobs units of work enqueue, in their own
	// transaction (notify.Inserter). A store opened without it enqueues
	// none: for tests of the store or the domain alone.
	Jobs JobInserter
	// Webhooks inserts the webhook delivery jobs units of work enqueue,
	// in their own transaction (webhook.Inserter); nil: none.
	Webhooks WebhookInserter
}

// JobInserter inserts a durable job in a unit of work's own transaction,
// so that it commits with the change that asked for it or not at all:
// River's InsertTx. It is all the store knows of the job queue.
type JobInserter interface {
	InsertEmailTx(ctx context.Context, tx *sql.Tx, job taskwire.EmailJob) error
}

// WebhookInserter inserts webhook delivery jobs in a unit of work's own
// transaction, like JobInserter.
type WebhookInserter interface {
	InsertWebhooksTx(ctx context.Context, tx *sql.Tx, jobs []taskwire.WebhookJob) error
}

// Open connects to the database named by target. It does not migrate.
func Open(ctx context.Context, target Target, opts Options) (*DB, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Readers <= 0 {
		opts.Readers = max(4, 2*runtime.GOMAXPROCS(0))
	}
	switch target.Dialect {
	case "sqlite":
		return openSQLite(ctx, target.Path, opts)
	case "postgres":
		return openPostgres(ctx, target.DSN, opts)
	default:
		return nil, fmt.Errorf("sqlstore: dialect %q is not supported yet", target.Dialect)
	}
}

func openSQLite(ctx context.Context, path string, opts Options) (*DB, error) {
	sync := opts.Synchronous
	if sync == "" {
		sync = "FULL"
	}
	if sync != "FULL" && sync != "NORMAL" {
		return nil, fmt.Errorf("sqlstore: synchronous must be FULL or NORMAL, not %q", sync)
	}
	// Before any connection below converts the file to WAL: a file of the
	// seed service is adopted, one of another application refused.
	if err := prepareSQLite(ctx, path, opts.Logger); err != nil {
		return nil, err
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("sqlstore: %w", err)
		}
	}
	dsn := func(txlock string, extra ...string) string {
		q := url.Values{}
		if txlock != "" {
			q.Set("_txlock", txlock)
		}
		q.Add("_pragma", "busy_timeout(10000)")
		q.Add("_pragma", "foreign_keys(1)")
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "synchronous("+sync+")")
		for _, p := range extra {
			q.Add("_pragma", p)
		}
		return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
	}
	write, err := sql.Open("sqlite", dsn("immediate"))
	if err != nil {
		return nil, fmt.Errorf("sqlstore: %w", err)
	}
	// The writer holds one connection for good; the second serves
	// migrations and other maintenance, serialized by SQLite's lock.
	write.SetMaxOpenConns(2)
	write.SetMaxIdleConns(2)
	write.SetConnMaxLifetime(0)
	if err := write.PingContext(ctx); err != nil {
		write.Close()
		return nil, fmt.Errorf("sqlstore: open %s: %w", path, err)
	}
	read, err := sql.Open("sqlite", dsn("", "query_only(1)"))
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("sqlstore: %w", err)
	}
	read.SetMaxOpenConns(opts.Readers)
	read.SetMaxIdleConns(opts.Readers)
	stmts := newPrepared(read)
	db := &DB{reads: reads{q: stmts, d: sqliteDialect}, d: sqliteDialect, read: read, readStmts: stmts, write: write, path: path,
		logger: opts.Logger, jobs: opts.Jobs, webhooks: opts.Webhooks, writeDSN: dsn("immediate")}
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 128
	}
	db.writers = []*writer{newWriter(db, opts.MaxBatch)}
	return db, nil
}

// NewPool opens another pool of at most conns connections that may write
// to the same database, for a component that needs its own *sql.DB (the
// job queue). The caller closes it.
func (db *DB) NewPool(conns int) (*sql.DB, error) {
	driver, dsn := "sqlite", db.writeDSN
	if db.d == postgresDialect {
		driver, dsn = "pgx", db.dsn
	}
	p, err := sql.Open(driver, dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: %w", err)
	}
	p.SetMaxOpenConns(conns)
	p.SetMaxIdleConns(conns)
	return p, nil
}

// Postgres reports whether the store is on PostgreSQL.
func (db *DB) Postgres() bool { return db.d == postgresDialect }

// Path returns the SQLite file ("" for PostgreSQL).
func (db *DB) Path() string { return db.path }

// Migrate applies every pending migration.
func (db *DB) Migrate(ctx context.Context) error {
	return db.migrateTo(ctx, 0)
}

// migrateTo applies the pending migrations up to version (0: all of them).
func (db *DB) migrateTo(ctx context.Context, version int64) error {
	return migrateDB(ctx, db.d, db.write, db.logger, version)
}

// migrateDB applies the dialect's pending migrations up to version (0: all
// of them) on w, logging each one applied. Adoption runs it on a work copy
// before any DB exists.
func migrateDB(ctx context.Context, d *dialect, w *sql.DB, logger *slog.Logger, version int64) error {
	p, err := migrationProvider(d, w)
	if err != nil {
		return err
	}
	var results []*goose.MigrationResult
	if version > 0 {
		results, err = p.UpTo(ctx, version)
	} else {
		results, err = p.Up(ctx)
	}
	for _, r := range results {
		logger.Info("migration applied", "version", r.Source.Version, "file", r.Source.Path, "took", r.Duration)
	}
	if err != nil {
		return fmt.Errorf("sqlstore: migrate: %w", err)
	}
	if d == sqliteDialect && (version == 0 || version >= searchStaleVersion) {
		if err := refreshSearchNow(ctx, w); err != nil {
			return fmt.Errorf("sqlstore: %w", err)
		}
	}
	return nil
}

// searchStaleVersion is the SQLite migration from which the store, not
// triggers, writes the search index (search_index.go).
const searchStaleVersion = 8

// migrationProvider returns the goose provider of the dialect's embedded
// migrations, applying them through w.
func migrationProvider(d *dialect, w *sql.DB) (*goose.Provider, error) {
	sub, err := fs.Sub(migrations, "migrations/"+d.name)
	if err != nil {
		return nil, err
	}
	dialect := goose.DialectPostgres
	if d.name == "sqlite" {
		dialect = goose.DialectSQLite3
	}
	p, err := goose.NewProvider(dialect, w, sub, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return nil, fmt.Errorf("sqlstore: migrations: %w", err)
	}
	return p, nil
}

// migrationLockKey is the PostgreSQL advisory lock held while migrating.
const migrationLockKey = 0x7461736b // "task"

// MigrationLock runs fn while no other instance migrates the same
// PostgreSQL database (an advisory lock), so instances that start together
// do not apply the same migration twice. SQLite needs no lock: one process
// owns the file.
func (db *DB) MigrationLock(ctx context.Context, fn func() error) error {
	if db.d != postgresDialect {
		return fn()
	}
	conn, err := db.write.Conn(ctx)
	if err != nil {
		return dbErr(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", migrationLockKey); err != nil {
		return dbErr(err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", migrationLockKey)
	return fn()
}

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	var one int
	return db.read.QueryRowContext(ctx, "SELECT 1").Scan(&one)
}

// Close stops the writer and closes every connection.
func (db *DB) Close() error {
	for _, w := range db.writers {
		w.close()
	}
	if db.readStmts != nil {
		db.readStmts.close()
	}
	if db.read == db.write {
		return db.read.Close()
	}
	return errors.Join(db.read.Close(), db.write.Close())
}

// Update runs fn in a unit of work; see taskwire.Store.
func (db *DB) Update(ctx context.Context, fn func(taskwire.Tx) error) error {
	return db.writerFor(ctx).do(ctx, work{fn: fn})
}

// update runs one of the store's own units of work, which is given the
// unit's *tx; see work.
func (db *DB) update(ctx context.Context, fn func(*tx) error) error {
	return db.writerFor(ctx).do(ctx, work{own: fn})
}

// writerFor returns the writer that commits the units of work of ctx's
// write key.
func (db *DB) writerFor(ctx context.Context) *writer {
	return db.writers[uint64(taskwire.WriteKey(ctx))%uint64(len(db.writers))]
}
