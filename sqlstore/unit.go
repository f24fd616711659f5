package sqlstore

import (
	"context"
	"database/sql"
	"strings"

	"github.com/taskwire/taskwire"
)

// unit is the querier of one unit of work inside a writer's batch. It
// records whether the unit has changed anything, so that a unit that fails
// having only read leaves the batch's transaction as it was, and on
// PostgreSQL it holds back the unit's task write so that the write can
// travel with the event in one statement (see writes.AppendEvent): a
// status change then costs two round trips — the locking read and the
// write with its event — instead of three.
type unit struct {
	q querier // the batch's transaction, uncancelable
	d *dialect

	// dirty: a statement that may change data ran (or may have, if it
	// failed), or the transaction was handed out (River's inserts).
	dirty bool
	// held is a write not yet sent, with ? placeholders; any other
	// statement sends it first.
	held *heldExec
	// err is the first failure of a held write sent before another
	// statement, which then ran in a failed transaction; it is the unit's
	// real error.
	err error
	// collect: the unit's notifications are not stored as they are
	// created but collected in notes, for the batch to number and store
	// before its commit (fastFirstTry; see numberNotifications). notes is
	// empty unless collect is set.
	collect bool
	notes   []*taskwire.Notification
}

type heldExec struct {
	query string
	args  []any
}

var _ querier = (*unit)(nil)

// hold keeps a write whose result only matters as an error until the next
// statement, or the unit's end. Only a write that touches neither projects
// nor events may be held: writes.AppendEvent folds it into its own
// statement, where PostgreSQL would refuse a second change of one row.
func (u *unit) hold(query string, args []any) error {
	if err := u.flush(context.Background()); err != nil {
		return err
	}
	u.held = &heldExec{query: query, args: args}
	return nil
}

// take returns the held write and forgets it, for a statement that
// includes it.
func (u *unit) take() *heldExec {
	h := u.held
	u.held = nil
	if h != nil {
		u.dirty = true
	}
	return h
}

// flush sends the held write, if any, and returns the first failure of a
// held write, whenever it was sent.
func (u *unit) flush(ctx context.Context) error {
	h := u.held
	if h == nil {
		return u.err
	}
	u.held = nil
	u.dirty = true
	_, err := u.q.ExecContext(ctx, u.d.rebind(h.query), h.args...)
	if err != nil && u.err == nil {
		u.err = dbErr(err)
	}
	return u.err
}

func (u *unit) before(ctx context.Context, query string) {
	u.flush(ctx) // a failure is kept in u.err
	if !isSelect(query) {
		u.dirty = true
	}
}

func (u *unit) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	u.flush(ctx)
	u.dirty = true
	return u.q.ExecContext(ctx, query, args...)
}

func (u *unit) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	u.before(ctx, query)
	rows, err := u.q.QueryContext(ctx, query, args...)
	if err != nil {
		u.dirty = true // PostgreSQL aborts the transaction on any failed statement
	}
	return rows, err
}

func (u *unit) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	u.before(ctx, query)
	return u.q.QueryRowContext(ctx, query, args...)
}

// isSelect reports a statement that only reads (locks aside).
func isSelect(query string) bool {
	q := strings.TrimLeft(query, " \t\r\n")
	return len(q) >= 6 && strings.EqualFold(q[:6], "SELECT")
}
