package sqlstore

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// Progress reports an Import under way: Done of Total rows of Table copied.
type Progress struct {
	Table       string
	Done, Total int64
}

// TableRows is how many rows of a table an Import copied.
type TableRows struct {
	Table string
	Rows  int64
}

// ImportStats is what an Import did.
type ImportStats struct {
	// Tables lists every copied table, in the order they were copied.
	Tables []TableRows
	// PendingJobs counts the source's background jobs (emails) that were
	// still to run — available, scheduled, retryable or running. Jobs are
	// not copied.
	PendingJobs int64
}

// progressEvery is the shortest interval between two progress reports of
// one table; each table's end is always reported.
const progressEvery = 500 * time.Millisecond

// Import copies the SQLite database at src — one Taskwire wrote, at any
// schema version, or one the seed service wrote — into dst, an open and
// migrated PostgreSQL store that must hold no rows yet. Every row of
// Taskwire's tables keeps its id; password hashes, the event log, the
// notifications, the comments and the idempotency records come along.
// Background jobs (River's tables, which hold the emails not yet sent) are
// not copied: ImportStats.PendingJobs says how many are left behind.
//
// The source is never written to: Import opens it read-only (a live
// database in WAL mode included), takes a consistent snapshot of it with
// VACUUM INTO into a temporary directory, and migrates that copy. The copy
// into dst is one transaction, all or nothing, under locks that keep other
// sessions out until it commits; it then moves dst's identity sequences past
// the copied ids (and past the ids SQLite had already given out to rows
// since deleted), so the next row created continues after them.
//
// progress, if not nil, is called with each table's progress at most every
// half second and at the end of each table, from one goroutine at a time.
// Returns an error of one line when src does not exist, is not SQLite, or
// is not a Taskwire or seed database, and when dst already holds rows; then
// nothing was changed.
func Import(ctx context.Context, src string, dst *DB, progress func(Progress)) (ImportStats, error) {
	if dst.d != postgresDialect {
		return ImportStats{}, errors.New("import: the destination must be a PostgreSQL database")
	}
	if err := checkSQLiteFile(src); err != nil {
		return ImportStats{}, err
	}
	// Refuse a full destination before the snapshot, which may take a
	// while; the copy checks again under its locks.
	if err := checkEmpty(func(table string) (n int64, err error) {
		return n, dst.read.QueryRowContext(ctx, "SELECT count(*) FROM "+table).Scan(&n)
	}); err != nil {
		return ImportStats{}, err
	}
	dir, err := os.MkdirTemp("", "taskwire-import-")
	if err != nil {
		return ImportStats{}, fmt.Errorf("sqlstore: import: %w", err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "snapshot.db")
	if err := snapshot(ctx, src, path); err != nil {
		return ImportStats{}, err
	}
	snap, err := Open(ctx, Target{Dialect: "sqlite", Path: path}, Options{Synchronous: "NORMAL", Readers: 2})
	if err != nil {
		return ImportStats{}, fmt.Errorf("import: %s: %w", src, err)
	}
	defer snap.Close()
	if err := snap.Migrate(ctx); err != nil {
		return ImportStats{}, fmt.Errorf("import: %s: %w", src, err)
	}
	var stats ImportStats
	if stats.PendingJobs, err = pendingJobs(ctx, snap.read); err != nil {
		return ImportStats{}, err
	}
	if stats.Tables, err = copyAll(ctx, snap.read, dst, &reporter{fn: progress}); err != nil {
		return ImportStats{}, err
	}
	return stats, nil
}

// sqliteHeader opens every SQLite database file.
const sqliteHeader = "SQLite format 3\x00"

// checkSQLiteFile refuses a path that is not an existing SQLite database
// file, with one line.
func checkSQLiteFile(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("import: %s does not exist", path)
	}
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.IsDir() {
		return fmt.Errorf("import: %s is a directory, not a SQLite database", path)
	}
	head := make([]byte, len(sqliteHeader))
	if _, err := io.ReadFull(f, head); err != nil || !bytes.Equal(head, []byte(sqliteHeader)) {
		return fmt.Errorf("import: %s is not a SQLite database", path)
	}
	return nil
}

// snapshot writes a consistent copy of the SQLite database at src to dst.
// It opens src read-only and without journal pragmas, so not a byte of the
// file changes; VACUUM INTO reads one transaction's view, so the copy is
// consistent even while a live Taskwire keeps writing to src. (On a
// database in WAL mode, SQLite creates the -wal and -shm files beside src
// if they are missing, as any reader does.)
func snapshot(ctx context.Context, src, dst string) error {
	q := url.Values{}
	q.Set("mode", "ro")
	q.Add("_pragma", "busy_timeout(10000)")
	db, err := sql.Open("sqlite", "file:"+(&url.URL{Path: src}).EscapedPath()+"?"+q.Encode())
	if err != nil {
		return fmt.Errorf("sqlstore: import: %w", err)
	}
	defer db.Close()
	var tables int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'users'").Scan(&tables); err != nil {
		return fmt.Errorf("import: %s: %w", src, err)
	} else if tables == 0 {
		return fmt.Errorf("import: %s is a SQLite database but neither Taskwire's nor the seed service's (it has no users table)", src)
	}
	if _, err := db.ExecContext(ctx, "VACUUM INTO ?", dst); err != nil {
		return fmt.Errorf("import: snapshot of %s: %w", src, err)
	}
	return nil
}

// pendingJobs counts the River jobs that had yet to run in a snapshot.
func pendingJobs(ctx context.Context, snap *sql.DB) (int64, error) {
	var n int64
	err := snap.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'river_job'").Scan(&n)
	if err != nil || n == 0 {
		return 0, dbErr(err)
	}
	err = snap.QueryRowContext(ctx, `SELECT count(*) FROM river_job
		WHERE state IN ('available', 'scheduled', 'retryable', 'running')`).Scan(&n)
	return n, dbErr(err)
}

// notEmptyError refuses a destination that holds rows.
type notEmptyError struct {
	table string
	rows  int64
}

func (e *notEmptyError) Error() string {
	return fmt.Sprintf("DATABASE_URL is not empty (%s has %d rows): import copies into an empty database; nothing was changed", e.table, e.rows)
}

// checkEmpty returns a *notEmptyError for the first of Taskwire's tables
// that count finds rows in.
func checkEmpty(count func(table string) (int64, error)) error {
	for _, t := range importTables() {
		n, err := count(t.name)
		if err != nil {
			return fmt.Errorf("sqlstore: import: count %s in the destination: %w", t.name, err)
		}
		if n > 0 {
			return &notEmptyError{table: t.name, rows: n}
		}
	}
	return nil
}

// colKind says how a SQLite value becomes a PostgreSQL one.
type colKind int

const (
	colPlain colKind = iota // integers and text: as they are
	colTime                 // fixed-width UTC text (or a time) → timestamptz
	colBool                 // INTEGER 0/1 → boolean
)

type importColumn struct {
	name string
	kind colKind
}

// importTable is one of Taskwire's tables as Import copies it: its rows
// are read in primary-key order (the order SQLite keeps them in); an
// identity table's id sequence must continue after the copied ids.
type importTable struct {
	name       string
	columns    []importColumn
	primaryKey string
	identity   bool
}

// importTables returns Taskwire's tables in foreign-key order. JSON columns
// (events.data, notifications.data, comments.mentions) are text in SQLite
// and go over as text, which PostgreSQL's json keeps byte for byte; task
// status is stored the same way (TODO, IN_PROGRESS, DONE) in both.
func importTables() []importTable {
	return []importTable{
		{"users", columns("id email username hashed_password created_at:time notification_seq"), "id", true},
		{"projects", columns("id name description owner_id last_seq created_at:time updated_at:time"), "id", true},
		{"project_members", columns("id project_id user_id created_at:time"), "id", true},
		{"tasks", columns("id title description status project_id assignee_id version created_at:time updated_at:time assigned_seq due_at:time labels"), "id", true},
		{"task_labels", columns("task_id project_id position name key"), "task_id, key", false},
		{"task_reminders", columns("task_id user_id due_at:time seq"), "task_id", false},
		{"comments", columns("id task_id project_id author_id body mentions created_at:time updated_at:time"), "id", true},
		{"events", columns("project_id seq type actor_id ts:time data"), "project_id, seq", false},
		{"idempotency_keys", columns("user_id scope key request_hash body created_at:time"), "user_id, scope, key", false},
		{"notifications", columns("id user_id seq type project_id task_id actor_id read:bool created_at:time data"), "id", true},
		{"notification_settings", columns("user_id kind email:bool"), "user_id, kind", false},
		{"api_tokens", columns("id user_id name hash created_at:time expires_at:time last_used_at:time"), "id", true},
		{"invitations", columns("id project_id email invited_by token_hash created_at:time expires_at:time accepted_at:time accepted_by"), "id", true},
		{"webhooks", columns("id project_id url events description active:bool secret previous_secret previous_secret_expires_at:time failing_since:time created_at:time"), "id", true},
		{"webhook_deliveries", columns("id webhook_id event_seq event_type attempt status_code error duration_ms created_at:time next_attempt_at:time"), "id", true},
		{"webhook_outbox", columns("id project_id seq"), "id", true},
	}
}

// columns reads a list of column names separated by spaces, each with an
// optional kind: name:time or name:bool.
func columns(spec string) []importColumn {
	var out []importColumn
	for _, f := range strings.Fields(spec) {
		name, kind, _ := strings.Cut(f, ":")
		c := importColumn{name: name}
		switch kind {
		case "time":
			c.kind = colTime
		case "bool":
			c.kind = colBool
		}
		out = append(out, c)
	}
	return out
}

// copyAll copies every table from the snapshot into dst in one
// transaction over pgx's COPY protocol, then moves the identity sequences.
func copyAll(ctx context.Context, snap *sql.DB, dst *DB, rep *reporter) ([]TableRows, error) {
	tables := importTables()
	names := make([]string, len(tables))
	for i, t := range tables {
		names[i] = t.name
	}
	conn, err := dst.write.Conn(ctx)
	if err != nil {
		return nil, dbErr(err)
	}
	defer conn.Close()
	var out []TableRows
	err = conn.Raw(func(dc any) error {
		pc := dc.(*stdlib.Conn).Conn()
		tx, err := pc.Begin(ctx)
		if err != nil {
			return err
		}
		defer tx.Rollback(context.WithoutCancel(ctx)) // a no-op after Commit
		// Every other session — a Taskwire already serving on dst — waits
		// until the commit, so the tables are still empty when the copy
		// lands. (Dropping the foreign keys would take this lock anyway.)
		if _, err := tx.Exec(ctx, "LOCK TABLE "+strings.Join(names, ", ")+" IN ACCESS EXCLUSIVE MODE"); err != nil {
			return err
		}
		if err := checkEmpty(func(table string) (n int64, err error) {
			return n, tx.QueryRow(ctx, "SELECT count(*) FROM "+table).Scan(&n)
		}); err != nil {
			return err
		}
		restore, err := dropForeignKeys(ctx, tx, names)
		if err != nil {
			return err
		}
		for _, t := range tables {
			n, err := copyTable(ctx, snap, tx, t, rep)
			if err != nil {
				return err
			}
			out = append(out, TableRows{Table: t.name, Rows: n})
		}
		if err := restore(); err != nil {
			return err
		}
		if err := moveSequences(ctx, snap, tx, tables); err != nil {
			return err
		}
		return tx.Commit(ctx)
	})
	if err != nil {
		if _, ok := errors.AsType[*notEmptyError](err); ok {
			return nil, err
		}
		return nil, dbErr(fmt.Errorf("import: %w", err))
	}
	return out, nil
}

// dropForeignKeys drops the foreign keys of the tables in the transaction
// and returns the function that adds them back, each as it was. COPY
// checks a foreign key row by row at the end of the statement; adding the
// key back checks every row in one join, three times faster (100,000
// tasks: 0.5 s instead of 1.6 s). The transaction keeps the tables locked
// in between, and a row that breaks a key fails the whole import.
func dropForeignKeys(ctx context.Context, tx pgx.Tx, tables []string) (restore func() error, err error) {
	rows, err := tx.Query(ctx, `SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid)
		FROM pg_constraint c WHERE c.contype = 'f' AND c.conrelid = ANY($1::text[]::regclass[]) ORDER BY c.oid`, tables)
	if err != nil {
		return nil, fmt.Errorf("foreign keys: %w", err)
	}
	type foreignKey struct{ table, name, def string }
	keys, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (k foreignKey, err error) {
		return k, r.Scan(&k.table, &k.name, &k.def)
	})
	if err != nil {
		return nil, fmt.Errorf("foreign keys: %w", err)
	}
	for _, k := range keys {
		if _, err := tx.Exec(ctx, "ALTER TABLE "+k.table+" DROP CONSTRAINT "+pgx.Identifier{k.name}.Sanitize()); err != nil {
			return nil, fmt.Errorf("drop foreign key %s: %w", k.name, err)
		}
	}
	return func() error {
		for _, k := range keys {
			if _, err := tx.Exec(ctx, "ALTER TABLE "+k.table+" ADD CONSTRAINT "+pgx.Identifier{k.name}.Sanitize()+" "+k.def); err != nil {
				return fmt.Errorf("restore foreign key %s: %w", k.name, err)
			}
		}
		return nil
	}, nil
}

// copyTable streams one table's rows from the snapshot into dst with COPY.
func copyTable(ctx context.Context, snap *sql.DB, tx pgx.Tx, t importTable, rep *reporter) (int64, error) {
	var total int64
	if err := snap.QueryRowContext(ctx, "SELECT count(*) FROM "+t.name).Scan(&total); err != nil {
		return 0, fmt.Errorf("count %s: %w", t.name, err)
	}
	cols := make([]string, len(t.columns))
	for i, c := range t.columns {
		cols[i] = c.name
	}
	rows, err := snap.QueryContext(ctx, "SELECT "+strings.Join(cols, ", ")+" FROM "+t.name+" ORDER BY "+t.primaryKey)
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", t.name, err)
	}
	defer rows.Close()
	src := newRowSource(rows, t, total, rep)
	n, err := tx.CopyFrom(ctx, pgx.Identifier{t.name}, cols, src)
	if err != nil {
		return 0, fmt.Errorf("copy %s: %w", t.name, err)
	}
	if n != src.done {
		return 0, fmt.Errorf("copy %s: %d rows stored of %d read", t.name, n, src.done)
	}
	rep.report(Progress{Table: t.name, Done: n, Total: max(total, n)}, true)
	return n, nil
}

// moveSequences sets each identity sequence to the larger of the table's
// largest id and SQLite's AUTOINCREMENT counter for it (sqlite_sequence),
// so new rows continue after every id the source ever gave out, deleted
// rows' included, as they would have there.
func moveSequences(ctx context.Context, snap *sql.DB, tx pgx.Tx, tables []importTable) error {
	for _, t := range tables {
		if !t.identity {
			continue
		}
		var maxID, counter int64
		if err := tx.QueryRow(ctx, "SELECT coalesce(max(id), 0) FROM "+t.name).Scan(&maxID); err != nil {
			return fmt.Errorf("max id of %s: %w", t.name, err)
		}
		err := snap.QueryRowContext(ctx, "SELECT coalesce(max(seq), 0) FROM sqlite_sequence WHERE name = ?", t.name).Scan(&counter)
		if err != nil {
			return fmt.Errorf("AUTOINCREMENT counter of %s: %w", t.name, err)
		}
		next := max(maxID, counter)
		if next < 1 {
			continue // nothing was ever created: the sequence starts at 1
		}
		if _, err := tx.Exec(ctx, "SELECT setval(pg_get_serial_sequence($1, 'id'), $2)", t.name, next); err != nil {
			return fmt.Errorf("move the id sequence of %s: %w", t.name, err)
		}
	}
	return nil
}

// rowSource feeds one table's SQLite rows to pgx's CopyFrom, converting
// each value for PostgreSQL. It reuses its buffers: CopyFrom encodes a
// row's values before asking for the next row.
type rowSource struct {
	rows  *sql.Rows
	table importTable
	// raw holds a row as scanned (dest points into it), vals as converted.
	raw, dest, vals []any
	err             error
	done, total     int64
	rep             *reporter
}

func newRowSource(rows *sql.Rows, t importTable, total int64, rep *reporter) *rowSource {
	s := &rowSource{rows: rows, table: t, total: total, rep: rep,
		raw: make([]any, len(t.columns)), dest: make([]any, len(t.columns)), vals: make([]any, len(t.columns))}
	for i := range s.raw {
		s.dest[i] = &s.raw[i]
	}
	return s
}

// Next implements pgx.CopyFromSource.
func (s *rowSource) Next() bool {
	if s.err != nil || !s.rows.Next() {
		return false
	}
	if err := s.rows.Scan(s.dest...); err != nil {
		s.err = err
		return false
	}
	s.done++
	if s.done%1024 == 0 {
		s.rep.report(Progress{Table: s.table.name, Done: s.done, Total: max(s.total, s.done)}, false)
	}
	return true
}

// Values implements pgx.CopyFromSource.
func (s *rowSource) Values() ([]any, error) {
	for i, c := range s.table.columns {
		v, err := convert(c.kind, s.raw[i])
		if err != nil {
			return nil, fmt.Errorf("%s.%s of row %d: %w", s.table.name, c.name, s.done, err)
		}
		s.vals[i] = v
	}
	return s.vals, nil
}

// Err implements pgx.CopyFromSource.
func (s *rowSource) Err() error {
	if s.err != nil {
		return s.err
	}
	return s.rows.Err()
}

// convert turns a value SQLite returned into what PostgreSQL's column of
// that kind takes. Timestamps are read as the store reads them (nullTime).
func convert(kind colKind, v any) (any, error) {
	if v == nil {
		return nil, nil // NOT NULL columns refuse it in PostgreSQL
	}
	switch kind {
	case colTime:
		var t time.Time
		if err := (nullTime{&t}).Scan(v); err != nil {
			return nil, err
		}
		return t, nil
	case colBool:
		if b, ok := v.(int64); ok {
			return b != 0, nil
		}
		return nil, fmt.Errorf("cannot read %T %v as a boolean", v, v)
	}
	if b, ok := v.([]byte); ok {
		return string(b), nil
	}
	return v, nil
}

// reporter throttles progress reports to one per progressEvery, each
// table's end excepted.
type reporter struct {
	fn   func(Progress)
	last time.Time
}

func (r *reporter) report(p Progress, final bool) {
	if r.fn == nil {
		return
	}
	now := time.Now()
	if !final && now.Sub(r.last) < progressEvery {
		return
	}
	r.last = now
	r.fn(p)
}
