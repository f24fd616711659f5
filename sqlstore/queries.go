package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/taskwire/taskwire"
)

// querier is what *sql.DB, *sql.Conn and *sql.Tx have in common.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// reads runs Taskwire's read queries on a querier in one dialect; DB embeds
// it over the reader pool.
type reads struct {
	q querier
	d *dialect
}

// writes adds the write queries; a unit of work's tx embeds it over the
// unit's querier.
type writes struct {
	reads
	// unit is the querier of the unit of work these writes belong to (the
	// same as reads.q), for the writes that hold back a statement or
	// collect notifications; nil outside a writer's batch, where every
	// write is sent as it is made.
	unit *unit
}

func (s reads) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return s.q.ExecContext(ctx, s.d.rebind(query), args...)
}

func (s reads) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return s.q.QueryContext(ctx, s.d.rebind(query), args...)
}

func (s reads) row(ctx context.Context, query string, args ...any) *sql.Row {
	return s.q.QueryRowContext(ctx, s.d.rebind(query), args...)
}

// notFound turns sql.ErrNoRows into a NotFound error with msg.
func notFound(err error, msg string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return taskwire.Errorf(taskwire.NotFound, "%s", msg)
	}
	return dbErr(err)
}

// affected turns a statement that changed no row into an error of kind
// with msg.
func affected(res sql.Result, err error, kind taskwire.Kind, msg string) error {
	if err != nil {
		return dbErr(err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return dbErr(err)
	}
	if n == 0 {
		return taskwire.Errorf(kind, "%s", msg)
	}
	return nil
}

func dbErr(err error) error {
	if err == nil {
		return nil
	}
	if unreachable(err) {
		return &taskwire.Error{Kind: taskwire.Unavailable, Message: "The database is unreachable; try again shortly", Err: err}
	}
	return fmt.Errorf("sqlstore: %w", err)
}

// unreachable reports an error that means the database server cannot be
// reached (PostgreSQL down or restarting), not a failed statement.
func unreachable(err error) bool {
	var netErr net.Error
	var pgErr *pgconn.PgError
	switch {
	case errors.Is(err, driver.ErrBadConn), errors.As(err, &netErr), pgconn.SafeToRetry(err),
		errors.Is(err, io.ErrUnexpectedEOF): // the server closed the connection mid-reply
		return true
	case errors.As(err, &pgErr):
		// admin_shutdown, crash_shutdown, cannot_connect_now
		return pgErr.Code == "57P01" || pgErr.Code == "57P02" || pgErr.Code == "57P03"
	}
	var ce *pgconn.ConnectError
	return errors.As(err, &ce)
}

// list scans every row of a query with scan.
func list[T any](rows *sql.Rows, err error, scan func(*sql.Rows) (T, error)) ([]T, error) {
	if err != nil {
		return nil, dbErr(err)
	}
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, dbErr(err)
		}
		out = append(out, v)
	}
	return out, dbErr(rows.Err())
}

// nullTime scans a timestamp that SQLite may hand back as text.
type nullTime struct{ t *time.Time }

func (n nullTime) Scan(v any) error {
	switch v := v.(type) {
	case time.Time:
		*n.t = v.UTC()
	case string:
		return n.parse(v)
	case []byte:
		return n.parse(string(v))
	case nil:
		*n.t = time.Time{}
	default:
		return fmt.Errorf("sqlstore: cannot scan %T into a time", v)
	}
	return nil
}

func (n nullTime) parse(s string) error {
	t, err := parseTime(s)
	if err != nil {
		return err
	}
	*n.t = t
	return nil
}

// textTimeLayouts are the layouts a timestamp stored as text may have:
// Taskwire's own (sqliteTimeLayout, which RFC 3339 parses on time.Parse's
// fast path) first, then SQLite's formats, which other programs (the seed
// service) write, read as UTC unless they say otherwise.
var textTimeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04",
	"2006-01-02T15:04",
	"2006-01-02",
}

// parseTime parses a timestamp stored as text, in UTC.
func parseTime(s string) (time.Time, error) {
	for _, layout := range textTimeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("sqlstore: bad timestamp %q", s)
}

// jsonArray is the stored form of a list column (a task's labels, a
// comment's mentions, a webhook's event types): a JSON array, "[]" when
// empty. Strings and integers always encode.
func jsonArray[T any](v []T) string {
	if len(v) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// timeNow stamps bookkeeping columns (updated_at) that the domain does not
// carry.
func timeNow() time.Time { return time.Now().UTC() }
