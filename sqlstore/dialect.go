package sqlstore

import (
	"errors"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// dialect holds everything that differs between SQLite and PostgreSQL.
// Queries are written once, with ? placeholders, in the SQL both accept.
type dialect struct {
	name string
	// numbered placeholders ($1, $2, ...) instead of ?.
	numbered bool
	// forUpdate is appended to a SELECT that locks the rows it reads.
	forUpdate string
	// forKeyShare is appended to a SELECT that keeps the rows it reads
	// from being deleted.
	forKeyShare string
	// time converts a time for binding as a query argument.
	time func(time.Time) any
	// isUnique reports a unique or primary-key violation.
	isUnique func(error) bool
	// remote: statements are round trips to a server. The writer then runs
	// a batch's units without savepoints when it can, and a unit's task
	// write rides along with its event (see unit).
	remote bool
	// search looks words up in the full-text index (search.go).
	search *searchDialect

	lockTaskOnce sync.Once
	lockTaskSQL  string // see lockTask
}

var sqliteDialect = &dialect{
	name: "sqlite",
	// SQLite has one writer at a time; the unit of work already excludes
	// every other writer.
	forUpdate: "",
	// Fixed-width UTC text sorts in time order, so ts >= ? compares right.
	time: func(t time.Time) any { return t.UTC().Format(sqliteTimeLayout) },
	isUnique: func(err error) bool {
		var e *sqlite.Error
		if !errors.As(err, &e) {
			return false
		}
		c := e.Code()
		return c == sqlite3.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	},
	search: sqliteSearch,
}

const sqliteTimeLayout = "2006-01-02T15:04:05.000000Z"

// textTimes rewrites a list of columns ("t.id, t.created_at") for a query
// whose rows are read often: on SQLite its timestamps (the columns named
// *_at) come back as the text they are stored as, for nullTime to parse.
// The driver would otherwise turn a column declared TIMESTAMP into a time
// itself, trying its layouts in turn, Taskwire's among the last, each
// failure an allocated error. A unary + makes the column an expression of
// the same value, which SQLite declares no type for.
func (d *dialect) textTimes(cols string) string {
	if d.remote {
		return cols
	}
	parts := strings.Split(cols, ", ")
	for i, c := range parts {
		if strings.HasSuffix(c, "_at") {
			parts[i] = "+" + c
		}
	}
	return strings.Join(parts, ", ")
}

// timeOrNull binds an optional time.
func (d *dialect) timeOrNull(t *time.Time) any {
	if t == nil {
		return nil
	}
	return d.time(*t)
}

// rebind rewrites ? placeholders for the dialect.
func (d *dialect) rebind(q string) string {
	if !d.numbered {
		return q
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}

// limit returns a LIMIT clause, or nothing for 0 (no limit).
func limit(n int) string {
	if n <= 0 {
		return ""
	}
	return " LIMIT " + strconv.Itoa(n)
}

var postgresDialect = &dialect{
	name:        "postgres",
	numbered:    true,
	remote:      true,
	forUpdate:   " FOR UPDATE",
	forKeyShare: " FOR KEY SHARE",
	time:        func(t time.Time) any { return t.UTC() },
	isUnique: func(err error) bool {
		var e *pgconn.PgError
		return errors.As(err, &e) && e.Code == "23505"
	},
	search: postgresSearch,
}

// retryable reports PostgreSQL errors after which a unit of work may simply
// run again: a deadlock or a serialization failure.
func retryable(err error) bool {
	var e *pgconn.PgError
	return errors.As(err, &e) && (e.Code == "40P01" || e.Code == "40001")
}
