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
// runs all the queued ones inside one transaction (a batch) and commits
// once, so one fsync makes a whole batch durable (group commit). A unit
// that fails leaves the others alone (see strategy). After-commit hooks run
// on the writer in commit order.
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

// writeReq is a unit of work queued for the writer. Until done is closed
// only the writer touches err and hooks. hooks is set (non-nil, maybe
// empty) once the unit succeeded in the current try of its batch; err is
// the unit's failure, or the batch's if the batch failed after it. The
// hooks run only if err is nil when the batch is over.
type writeReq struct {
	ctx   context.Context
	work  work
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

// do runs wk in a unit of work and returns once it has committed or failed.
func (w *writer) do(ctx context.Context, wk work) error {
	for attempt := 1; ; attempt++ {
		err := w.try(ctx, wk)
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

func (w *writer) try(ctx context.Context, wk work) error {
	req := &writeReq{ctx: ctx, work: wk, done: make(chan struct{})}
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
	reqs := make([]*writeReq, 0, w.maxBatch)
	for {
		select {
		case req := <-w.reqs:
			reqs = append(reqs[:0], req)
		case <-w.stop:
			return
		}
	fill:
		for len(reqs) < w.maxBatch {
			select {
			case req := <-w.reqs:
				reqs = append(reqs, req)
			default:
				break fill
			}
		}
		w.commit(reqs)
		for i, req := range reqs {
			if req.err == nil {
				for _, h := range req.hooks {
					h()
				}
			}
			close(req.done)
			reqs[i] = nil
		}
	}
}

// commit runs a batch of units of work in one transaction and records each
// unit's outcome. On PostgreSQL it first tries fastFirstTry; if that asks
// for a rerun, and always on SQLite, the batch runs withSavepoints.
func (w *writer) commit(reqs []*writeReq) {
	if w.db.d.remote && !w.newBatch(reqs, fastFirstTry).run() {
		return
	}
	w.newBatch(reqs, withSavepoints).run()
}

// beginTx starts a batch's transaction on the writer's connection, opening
// one if needed. A kept connection that the server dropped (a database
// restart) fails its BEGIN: the writer then tries once on a new one.
// SQLite: BEGIN IMMEDIATE (the writer's DSN sets _txlock). The *sql.Tx lets
// River insert jobs in the same transaction.
func (w *writer) beginTx(ctx context.Context) (*sql.Tx, error) {
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

// work is a unit of work: a caller's (Store.Update), given its tx as a
// taskwire.Tx, or one of the store's own (Prune), given the *tx itself to
// run statements that taskwire.Tx has no method for. Exactly one of fn and
// own is set.
type work struct {
	fn  func(taskwire.Tx) error
	own func(*tx) error
}

// run calls the unit of work with t, turning a panic into an error so one
// bad unit of work cannot take the writer down.
func (wk work) run(t *tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("sqlstore: unit of work panicked: %v", p)
		}
	}()
	if wk.own != nil {
		return wk.own(t)
	}
	return wk.fn(t)
}

// uncancelable runs statements with the caller's context values but never
// its cancellation; see batch.
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
	writes // over the unit; writes.unit is never nil
	sqlTx  *sql.Tx
	jobs   JobInserter // nil: enqueue nothing
	// hooksJobs inserts webhook deliveries; nil: enqueue none.
	hooksJobs WebhookInserter
	hooks     []func()
	// unhooked is a project LockTask found without an active webhook, as
	// of its statement: ActiveWebhooks answers for it without a query of
	// its own, until the unit writes a webhook. 0: none.
	unhooked int64
}

// SQLTx returns the database transaction of the unit of work, for
// statements that must run in it outside the store's own (the job queue's
// inserts). What runs there counts as a change of the unit's.
func (t *tx) SQLTx() *sql.Tx {
	t.unit.flush(context.Background())
	t.unit.dirty = true
	return t.sqlTx
}

// EnqueueEmail implements taskwire.Tx: the job is inserted in the unit's
// own transaction. The insert runs on the writer, inside a batch shared
// with other requests: the caller going away must not interrupt it.
func (t *tx) EnqueueEmail(ctx context.Context, job taskwire.EmailJob) error {
	if t.jobs == nil {
		return nil
	}
	return t.jobs.InsertEmailTx(context.WithoutCancel(ctx), t.SQLTx(), job)
}

// EnqueueWebhooks implements taskwire.Tx like EnqueueEmail.
func (t *tx) EnqueueWebhooks(ctx context.Context, jobs []taskwire.WebhookJob) error {
	if t.hooksJobs == nil || len(jobs) == 0 {
		return nil
	}
	return t.hooksJobs.InsertWebhooksTx(context.WithoutCancel(ctx), t.SQLTx(), jobs)
}

var _ taskwire.Tx = (*tx)(nil)

// AfterCommit implements taskwire.Tx.
func (t *tx) AfterCommit(f func()) { t.hooks = append(t.hooks, f) }

// LockTask implements taskwire.Tx. Only the task row is locked (SQLite's
// single writer already excludes other writers); the project and the
// membership are read as of the statement.
func (t *tx) LockTask(ctx context.Context, id, userID int64) (taskwire.Task, taskwire.Project, bool, error) {
	var ps projectScan
	var member, hooked bool
	task, err := scanTask(t.row(ctx, t.d.lockTask(), userID, id), append(ps.dest(), &member, &hooked)...)
	if err == nil && !hooked {
		t.unhooked = task.ProjectID
	}
	return task, ps.project(), member, notFound(err, taskwire.MsgTaskNotFound)
}

// lockTask is LockTask's query, built once per dialect.
func (d *dialect) lockTask() string {
	d.lockTaskOnce.Do(func() {
		lock := ""
		if d.forUpdate != "" {
			lock = d.forUpdate + " OF t"
		}
		d.lockTaskSQL = "SELECT " + d.textTimes(taskColumnsT+", "+projectColumns) + `,
		EXISTS (SELECT 1 FROM project_members m WHERE m.project_id = p.id AND m.user_id = ?),
		EXISTS (SELECT 1 FROM webhooks w WHERE w.project_id = p.id AND w.active = TRUE)
		FROM tasks t JOIN projects p ON p.id = t.project_id WHERE t.id = ?` + lock
	})
	return d.lockTaskSQL
}

// ActiveWebhooks implements taskwire.Reader, without a query for the
// project LockTask found without any: a change to a task (the most common
// write) then costs no statement for webhooks nobody has.
func (t *tx) ActiveWebhooks(ctx context.Context, projectID int64) ([]taskwire.Webhook, error) {
	if projectID == t.unhooked {
		return nil, nil
	}
	return t.writes.ActiveWebhooks(ctx, projectID)
}

// CreateWebhook implements taskwire.Tx; what LockTask found about the
// project's webhooks no longer holds.
func (t *tx) CreateWebhook(ctx context.Context, w taskwire.Webhook) (taskwire.Webhook, error) {
	t.unhooked = 0
	return t.writes.CreateWebhook(ctx, w)
}

// UpdateWebhook implements taskwire.Tx like CreateWebhook.
func (t *tx) UpdateWebhook(ctx context.Context, w taskwire.Webhook) error {
	t.unhooked = 0
	return t.writes.UpdateWebhook(ctx, w)
}
