package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/taskwire/taskwire"
)

// strategy is how a batch keeps the failure of one of its units from the
// others. A lone unit needs neither strategy's care: if it fails, nothing
// in the transaction is worth keeping and the batch rolls back whole.
type strategy int

const (
	// withSavepoints runs each unit in its own savepoint. It is the only
	// strategy on SQLite, where a savepoint costs no round trip, and
	// PostgreSQL's second try after fastFirstTry asked for one. A unit that
	// fails is rolled back to its savepoint and fails alone; the others
	// commit. Each unit stores its notifications as it creates them.
	withSavepoints strategy = iota
	// fastFirstTry runs the units without savepoints, each of which would
	// cost PostgreSQL a round trip. A unit that fails having only read
	// changed nothing, and the batch goes on without it (rows it locked
	// while reading stay locked until the commit). One that fails after a
	// write (rare: the domain checks before it writes) leaves nothing to
	// roll back to: the batch is rolled back and runs again withSavepoints.
	// The units' notifications are stored together right before the
	// commit, each user's row bumped once and users in id order, so
	// writers whose batches notify the same people hold those rows only
	// from there to the commit and never wait for each other in a cycle.
	fastFirstTry
)

// afterUnit is how a batch goes on after one of its units ran.
type afterUnit int

const (
	goOn     afterUnit = iota // the unit's outcome is recorded; the next one runs
	aborted                   // the batch failed whole: every unit has its outcome
	runAgain                  // the batch rolled back, to run again withSavepoints
)

// batch is one attempt at committing a batch of units of work: one
// transaction on the writer's connection, run under one strategy. Its
// statements run with a context that is never cancelled: interrupting
// SQLite mid-statement rolls back the whole transaction, batch and all.
type batch struct {
	w        *writer
	reqs     []*writeReq
	strategy strategy
	// savepoints: each unit runs in its own savepoint (withSavepoints, and
	// more than one unit).
	savepoints bool

	// Set by begin. sqlTx is the batch's transaction. q is where the
	// units' statements go: on SQLite the connection's prepared
	// statements, inside the transaction; on PostgreSQL the transaction
	// itself, since a statement on the bare connection while a transaction
	// is open on it would hang database/sql for good if the connection
	// broke. ctlOn runs the control statements (savepoints, the probe): the
	// connection on SQLite, the transaction on PostgreSQL.
	sqlTx *sql.Tx
	q     querier
	ctlOn querier

	// open: the last unit's savepoint is still open. It is released with
	// the next one's start, in one round trip, or by the commit.
	open bool
	// succeeded counts the units that succeeded so far; only they commit.
	succeeded int
	// notes are the succeeded units' notifications, to be numbered and
	// stored before the commit (fastFirstTry only).
	notes []*taskwire.Notification
}

// newBatch prepares an attempt at committing reqs under strategy s.
func (w *writer) newBatch(reqs []*writeReq, s strategy) *batch {
	return &batch{w: w, reqs: reqs, strategy: s, savepoints: s == withSavepoints && len(reqs) > 1}
}

// run runs the batch's units in one transaction and commits those that
// succeeded, recording each unit's outcome in its writeReq: its error, or
// its after-commit hooks (non-nil once it succeeded). Every unit starts
// without an outcome, so a second try forgets the first's. It returns
// again=true, with nothing committed, when the units must run again
// withSavepoints.
func (b *batch) run() (again bool) {
	for _, req := range b.reqs {
		req.err, req.hooks = nil, nil
	}
	if err := b.begin(); err != nil {
		err = batchErr("begin", err)
		for _, req := range b.reqs {
			req.err = err
		}
		return false
	}
	for _, req := range b.reqs {
		switch b.runUnit(req) {
		case aborted:
			return false
		case runAgain:
			return true
		}
	}
	return b.commit()
}

// begin opens the batch's transaction and picks where its statements go.
func (b *batch) begin() error {
	sqlTx, err := b.w.beginTx(context.Background())
	if err != nil {
		return err
	}
	b.sqlTx, b.q, b.ctlOn = sqlTx, sqlTx, sqlTx
	if b.w.stmts != nil {
		b.q, b.ctlOn = b.w.stmts, b.w.conn
	}
	return nil
}

// ctl runs a control statement of the batch.
func (b *batch) ctl(stmt string) error {
	_, err := b.ctlOn.ExecContext(context.Background(), stmt)
	return err
}

// runUnit runs one unit of work, in its own savepoint if the batch has
// them, and records its outcome. A unit whose caller has given up does not
// run.
func (b *batch) runUnit(req *writeReq) afterUnit {
	if err := req.ctx.Err(); err != nil {
		req.err = err
		return goOn
	}
	if b.savepoints {
		if err := b.savepoint(); err != nil {
			b.abort(batchErr("savepoint", err))
			return aborted
		}
	}
	d := b.w.db.d
	u := &unit{q: uncancelable{b.q}, d: d, collect: b.strategy == fastFirstTry}
	t := &tx{writes: writes{reads: reads{q: u, d: d}, unit: u}, sqlTx: b.sqlTx, jobs: b.w.db.jobs, hooksJobs: b.w.db.webhooks}
	req.err = req.work.run(t)
	if req.err == nil {
		req.err = u.flush(context.Background())
	} else if u.err != nil {
		req.err = u.err // the held write failed; what followed saw an aborted transaction
	}
	if req.err != nil {
		return b.unitFailed(req, u)
	}
	req.hooks = t.hooks
	if req.hooks == nil {
		req.hooks = []func(){}
	}
	b.notes = append(b.notes, u.notes...)
	b.succeeded++
	return goOn
}

// savepoint starts the next unit's savepoint, releasing the last one's:
// on PostgreSQL in one round trip; on SQLite as two statements the
// connection keeps prepared, where a text of two would be parsed anew
// each time.
func (b *batch) savepoint() error {
	var err error
	switch {
	case b.w.stmts == nil && b.open:
		err = b.ctl("RELEASE unit; SAVEPOINT unit")
	case b.w.stmts == nil:
		err = b.ctl("SAVEPOINT unit")
	default:
		if b.open {
			_, err = b.w.stmts.ExecContext(context.Background(), "RELEASE unit")
		}
		if err == nil {
			_, err = b.w.stmts.ExecContext(context.Background(), "SAVEPOINT unit")
		}
	}
	if err != nil {
		return err
	}
	b.open = true
	return nil
}

// unitFailed keeps the changes of a unit that failed (req.err) out of the
// batch, as the strategy allows; u is its querier.
func (b *batch) unitFailed(req *writeReq, u *unit) afterUnit {
	switch {
	case len(b.reqs) == 1:
		return goOn // nothing succeeded: commit rolls back
	case b.savepoints:
		if err := b.rollbackUnit(); err != nil {
			b.abort(batchErr("rollback to savepoint", err))
			return aborted
		}
		return goOn
	}
	// fastFirstTry: no savepoint to go back to. A read that failed left
	// the transaction aborted too, so a unit that seems only to have read
	// is checked with one statement.
	if unreachable(req.err) {
		b.abort(req.err)
		return aborted
	}
	if !u.dirty && b.ctl("SELECT 1") == nil {
		return goOn
	}
	b.rerun()
	return runAgain
}

// rollbackUnit undoes the current unit's changes: it rolls back to the
// unit's savepoint and releases it.
func (b *batch) rollbackUnit() error {
	if err := b.ctl("ROLLBACK TO unit; RELEASE unit"); err != nil {
		return err
	}
	b.open = false
	return nil
}

// commit commits the units that succeeded, storing their notifications
// first on fastFirstTry, or rolls back if none did. It returns again=true,
// rolled back, when those notifications could not be stored: which unit
// they belong to is told by the run withSavepoints, where each unit stores
// its own.
func (b *batch) commit() (again bool) {
	if b.succeeded == 0 {
		if err := b.sqlTx.Rollback(); err != nil {
			b.abort(batchErr("rollback", err))
		}
		return false
	}
	if len(b.notes) > 0 {
		if err := numberNotifications(context.Background(), uncancelable{b.q}, b.w.db.d, b.notes); err != nil {
			if unreachable(err) {
				b.abort(dbErr(err))
				return false
			}
			b.rerun()
			return true
		}
	}
	if b.w.db.d == sqliteDialect {
		if err := refreshSearch(context.Background(), uncancelable{b.q}); err != nil {
			b.abort(batchErr("commit", err))
			return false
		}
	}
	if err := b.sqlTx.Commit(); err != nil {
		b.abort(batchErr("commit", err))
	}
	return false
}

// rerun rolls the batch back for the run withSavepoints.
func (b *batch) rerun() { b.rollback() }

// abort fails the batch with err: it rolls the transaction back and gives
// every unit err, but for those that failed on their own, which keep
// their own error. A connection that the rollback or err says is broken
// is dropped; the next batch starts over on a new one.
func (b *batch) abort(err error) {
	if !b.rollback() && unreachable(err) {
		b.w.dropConn()
	}
	for _, req := range b.reqs {
		if req.err == nil || req.hooks != nil {
			req.err = err
		}
	}
}

// rollback rolls the transaction back. If that fails (other than because
// it had already ended) the connection is in an unknown state: it is
// dropped, and rollback reports so.
func (b *batch) rollback() (dropped bool) {
	err := b.sqlTx.Rollback()
	if err == nil || errors.Is(err, sql.ErrTxDone) {
		return false
	}
	b.w.db.logger.Error("sqlstore: rollback failed", "err", err)
	b.w.dropConn()
	return true
}

// batchErr wraps the failure of one of a batch's steps (what), or returns
// the Unavailable error of a database that cannot be reached.
func batchErr(what string, err error) error {
	if unreachable(err) {
		return dbErr(err)
	}
	return fmt.Errorf("sqlstore: %s: %w", what, err)
}
