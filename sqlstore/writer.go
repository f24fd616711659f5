package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/taskwire/taskwire"
)

// writer commits the store's units of work (SQLite has one writer,
// PostgreSQL one per Options.Writers). Units of work queue up; the writer
// runs all the queued ones inside one transaction, each in its own
// savepoint, and commits once, so one fsync makes a whole batch durable
// (group commit). A unit that fails rolls back to its savepoint and leaves
// the others alone. After-commit hooks run on the writer in commit order.
//
// On PostgreSQL this matters most for a busy project: its row stays locked
// from the seq bump to the commit, so with one commit per unit of work the
// project could never go faster than the disk flushes. Other instances have
// their own writers; PostgreSQL's locks order them.
type writer struct {
	db       *DB
	maxBatch int
	reqs     chan *writeReq

	mu     sync.RWMutex // guards closed; held for reading while sending on reqs
	closed bool

	stop chan struct{} // closed by close to end run
	done chan struct{} // closed when run returns

	// conn is the writer's connection, opened on first use and kept;
	// stmts (SQLite) holds the statements prepared on it (pgx caches its
	// own). Only run touches them.
	conn  *sql.Conn
	stmts *prepared
}

type writeReq struct {
	ctx   context.Context
	fn    func(taskwire.Tx) error
	err   error
	hooks []func()
	done  chan struct{}
}

var errClosed = errors.New("sqlstore: store is closed")

func newWriter(db *DB, maxBatch int) *writer {
	w := &writer{
		db:       db,
		maxBatch: maxBatch,
		reqs:     make(chan *writeReq),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	go w.run()
	return w
}

// do runs fn in a unit of work and returns once it has committed or failed.
func (w *writer) do(ctx context.Context, fn func(taskwire.Tx) error) error {
	for attempt := 1; ; attempt++ {
		err := w.try(ctx, fn)
		// PostgreSQL may abort a unit that deadlocks with another
		// instance's batch; it simply runs again.
		if err == nil || !retryable(err) || attempt == 5 {
			return err
		}
		select {
		case <-time.After(time.Duration(attempt) * 5 * time.Millisecond):
		case <-ctx.Done():
			return err
		}
	}
}

func (w *writer) try(ctx context.Context, fn func(taskwire.Tx) error) error {
	req := &writeReq{ctx: ctx, fn: fn, done: make(chan struct{})}
	w.mu.RLock()
	if w.closed {
		w.mu.RUnlock()
		return errClosed
	}
	select {
	case w.reqs <- req:
	case <-ctx.Done():
		w.mu.RUnlock()
		return ctx.Err()
	}
	w.mu.RUnlock()
	// Once queued the unit may run and commit, so wait for its outcome even
	// if ctx ends: the caller must not report failure for committed work.
	<-req.done
	return req.err
}

func (w *writer) close() {
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
	close(w.stop)
	<-w.done
}

func (w *writer) run() {
	defer close(w.done)
	defer w.dropConn()
	batch := make([]*writeReq, 0, w.maxBatch)
	for {
		select {
		case req := <-w.reqs:
			batch = append(batch[:0], req)
		case <-w.stop:
			return
		}
	fill:
		for len(batch) < w.maxBatch {
			select {
			case req := <-w.reqs:
				batch = append(batch, req)
			default:
				break fill
			}
		}
		w.commit(batch)
		for i, req := range batch {
			if req.err == nil {
				for _, h := range req.hooks {
					h()
				}
			}
			close(req.done)
			batch[i] = nil
		}
	}
}

// commit runs a batch in one transaction and records each unit's outcome.
//
// Each unit runs in a savepoint, so that one that fails leaves the others
// alone. Where a savepoint is a round trip to the server (PostgreSQL) the
// batch first runs without them: a unit that fails having only read
// changed nothing, and the batch goes on; one that fails after a write
// (rare: the domain checks before it writes) leaves nothing to roll back
// to, so the batch is rolled back and runs again with savepoints. (Rows a
// failed unit locked while reading stay locked until the batch commits.)
// That first run also stores the batch's notifications together, right
// before the commit, each user's row bumped once and users in id order:
// writers whose batches notify the same people hold those rows only from
// there to the commit, and never wait for each other's user rows in a
// cycle.
func (w *writer) commit(batch []*writeReq) {
	if w.db.d.remote {
		if !w.commitBatch(batch, false) {
			return
		}
		for _, req := range batch {
			req.err, req.hooks = nil, nil
		}
	}
	w.commitBatch(batch, true)
}

// commitBatch runs the batch in one transaction: with a savepoint per unit
// and each notification stored as it is created (careful), or without
// savepoints and with the notifications stored together before the commit
// (not careful; PostgreSQL's first try). A lone unit never has a
// savepoint: its failure rolls back everything. Without care it stops and
// returns again=true, with nothing committed, when a unit fails after
// changing data or the notifications cannot be stored.
func (w *writer) commitBatch(batch []*writeReq, careful bool) (again bool) {
	// Statements run with a context that is never cancelled: interrupting
	// SQLite mid-statement rolls back the whole transaction, batch and all.
	ctx := context.Background()
	wrap := func(what string, err error) error {
		if unreachable(err) {
			return dbErr(err)
		}
		return fmt.Errorf("sqlstore: %s: %w", what, err)
	}
	fail := func(err error) {
		for _, req := range batch {
			if req.err == nil {
				req.err = err
			}
		}
	}
	sqlTx, err := w.begin(ctx)
	if err != nil {
		fail(wrap("begin", err))
		return false
	}
	// Where the batch's statements go. SQLite: the connection's prepared
	// statements, inside the transaction. PostgreSQL: the transaction
	// itself — a statement on the bare connection while a transaction is
	// open on it would hang database/sql for good if the connection broke.
	var q querier = sqlTx
	ctl := func(stmt string) error { _, err := sqlTx.ExecContext(ctx, stmt); return err }
	if w.stmts != nil {
		q = w.stmts
		ctl = func(stmt string) error { _, err := w.conn.ExecContext(ctx, stmt); return err }
	}
	// A lone unit needs no savepoint: if it fails, the transaction is
	// rolled back whole.
	single := len(batch) == 1
	savepoints := careful && !single
	abort := func(err error) {
		if rerr := sqlTx.Rollback(); rerr != nil && !errors.Is(rerr, sql.ErrTxDone) {
			w.db.logger.Error("sqlstore: rollback failed", "err", rerr)
			w.dropConn()
		} else if unreachable(err) {
			w.dropConn() // the server went away: start over on a new connection
		}
		for _, req := range batch {
			// Units that had failed on their own keep their own error.
			if req.err == nil || req.hooks != nil {
				req.err = err
			}
		}
	}
	// rerun rolls the batch back for the careful run to try again.
	rerun := func() bool {
		if err := sqlTx.Rollback(); err != nil && !errors.Is(err, sql.ErrTxDone) {
			w.db.logger.Error("sqlstore: rollback failed", "err", err)
			w.dropConn()
		}
		return true
	}
	committed := 0
	var batchNotes []*taskwire.Notification // the committed units' notifications, to number before the commit
	// open: the last unit's savepoint is still open. It is released with
	// the next one's start, in one round trip, or by the commit.
	open := false
	for _, req := range batch {
		if err := req.ctx.Err(); err != nil {
			req.err = err
			continue
		}
		if savepoints {
			sp := "SAVEPOINT unit"
			if open {
				sp = "RELEASE unit; SAVEPOINT unit"
			}
			if err := ctl(sp); err != nil {
				abort(wrap("savepoint", err))
				return false
			}
			open = true
		}
		u := &unit{q: uncancelable{q}, d: w.db.d}
		var notes []*taskwire.Notification
		if w.db.d.remote && !careful {
			u.notes = &notes
		}
		t := &tx{writes: writes{reads{q: u, d: w.db.d}}, sqlTx: sqlTx, unit: u}
		req.err = run(req.fn, t)
		if req.err == nil {
			req.err = u.flush(ctx)
		} else if u.err != nil {
			req.err = u.err // the held write failed; what followed saw an aborted transaction
		}
		if req.err != nil {
			switch {
			case single:
				continue // nothing committed: ROLLBACK below
			case savepoints:
				if err := ctl("ROLLBACK TO unit; RELEASE unit"); err != nil {
					abort(wrap("rollback to savepoint", err))
					return false
				}
				open = false
				continue
			}
			// No savepoint to go back to. A read that failed left the
			// transaction aborted too, so a unit that seems only to have
			// read is checked with one statement.
			if unreachable(req.err) {
				abort(req.err)
				return false
			}
			if !u.dirty && ctl("SELECT 1") == nil {
				continue
			}
			return rerun()
		}
		req.hooks = t.hooks
		if req.hooks == nil {
			req.hooks = []func(){}
		}
		batchNotes = append(batchNotes, notes...)
		committed++
	}
	if committed == 0 {
		if err := sqlTx.Rollback(); err != nil {
			abort(wrap("rollback", err))
		}
		return false
	}
	if len(batchNotes) > 0 {
		if err := numberNotifications(ctx, uncancelable{q}, w.db.d, batchNotes); err != nil {
			if unreachable(err) {
				abort(dbErr(err))
				return false
			}
			// Which unit it belongs to is told by the careful run, where
			// each unit stores its own.
			return rerun()
		}
	}
	if err := sqlTx.Commit(); err != nil {
		abort(wrap("commit", err))
	}
	return false
}

// begin starts the batch's transaction on the writer's connection, opening
// one if needed. A kept connection that the server dropped (a database
// restart) fails its BEGIN: the writer then tries once on a new one.
// SQLite: BEGIN IMMEDIATE (the writer's DSN sets _txlock). The *sql.Tx lets
// River insert jobs in the same transaction.
func (w *writer) begin(ctx context.Context) (*sql.Tx, error) {
	for attempt := 1; ; attempt++ {
		if w.conn == nil {
			conn, err := w.db.write.Conn(ctx)
			if err != nil {
				return nil, err
			}
			w.conn = conn
			if !w.db.d.numbered {
				w.stmts = newPrepared(conn)
			}
		}
		sqlTx, err := w.conn.BeginTx(ctx, nil)
		if err == nil {
			return sqlTx, nil
		}
		w.dropConn()
		if attempt == 2 || !unreachable(err) {
			return nil, err
		}
	}
}

// dropConn releases the writer's connection (after an error that may have
// left it unusable, or on close); the next batch opens a fresh one.
func (w *writer) dropConn() {
	if w.conn == nil {
		return
	}
	if w.stmts != nil {
		w.stmts.close()
	}
	w.conn.Close()
	w.conn, w.stmts = nil, nil
}

// run calls fn, turning a panic into an error so one bad unit of work
// cannot take the writer down.
func run(fn func(taskwire.Tx) error, t *tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("sqlstore: unit of work panicked: %v", p)
		}
	}()
	return fn(t)
}

// uncancelable runs statements with the caller's context values but never
// its cancellation; see writer.commit.
type uncancelable struct{ q querier }

func (u uncancelable) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return u.q.ExecContext(context.WithoutCancel(ctx), query, args...)
}

func (u uncancelable) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return u.q.QueryContext(context.WithoutCancel(ctx), query, args...)
}

func (u uncancelable) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return u.q.QueryRowContext(context.WithoutCancel(ctx), query, args...)
}

// tx is the taskwire.Tx handed to a unit of work.
type tx struct {
	writes
	sqlTx *sql.Tx
	unit  *unit
	hooks []func()
}

// SQLTx returns the database transaction of the unit of work, for a job
// queue that inserts its jobs in it (River's InsertTx). What it runs there
// counts as a change of the unit's.
func (t *tx) SQLTx() *sql.Tx {
	t.unit.flush(context.Background())
	t.unit.dirty = true
	return t.sqlTx
}

var _ taskwire.Tx = (*tx)(nil)

// AfterCommit implements taskwire.Tx.
func (t *tx) AfterCommit(f func()) { t.hooks = append(t.hooks, f) }

// LockTask implements taskwire.Tx. Only the task row is locked (SQLite's
// single writer already excludes other writers); the project and the
// membership are read as of the statement.
func (t *tx) LockTask(ctx context.Context, id, userID int64) (taskwire.Task, taskwire.Project, bool, error) {
	lock := ""
	if t.d.forUpdate != "" {
		lock = t.d.forUpdate + " OF t"
	}
	var ps projectScan
	var member bool
	task, err := scanTask(t.row(ctx, "SELECT "+taskColumnsT+", "+projectColumns+`,
		EXISTS (SELECT 1 FROM project_members m WHERE m.project_id = p.id AND m.user_id = ?)
		FROM tasks t JOIN projects p ON p.id = t.project_id WHERE t.id = ?`+lock, userID, id),
		append(ps.dest(), &member)...)
	return task, ps.project(), member, notFound(err, taskwire.MsgTaskNotFound)
}
