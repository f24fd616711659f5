package sqlstore

import (
	"context"
	"database/sql"
	"sync"
)

// prepared is a querier that prepares each distinct query text once and
// reuses the statement; SQLite otherwise parses every query anew. The set
// of query texts is fixed by the code, so the cache stays small.
type prepared struct {
	on interface {
		querier
		PrepareContext(ctx context.Context, query string) (*sql.Stmt, error)
	}

	mu    sync.Mutex // guards stmts
	stmts map[string]*sql.Stmt
}

func newPrepared(on interface {
	querier
	PrepareContext(ctx context.Context, query string) (*sql.Stmt, error)
}) *prepared {
	return &prepared{on: on, stmts: map[string]*sql.Stmt{}}
}

func (p *prepared) stmt(ctx context.Context, query string) *sql.Stmt {
	p.mu.Lock()
	defer p.mu.Unlock()
	if st, ok := p.stmts[query]; ok {
		return st
	}
	st, err := p.on.PrepareContext(context.WithoutCancel(ctx), query)
	if err != nil {
		// Run the query unprepared; it reports the same error.
		return nil
	}
	p.stmts[query] = st
	return st
}

func (p *prepared) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := p.stmt(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return p.on.ExecContext(ctx, query, args...)
}

func (p *prepared) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := p.stmt(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return p.on.QueryContext(ctx, query, args...)
}

func (p *prepared) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := p.stmt(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return p.on.QueryRowContext(ctx, query, args...)
}

// in returns a querier that runs this cache's statements in tx.
func (p *prepared) in(tx *sql.Tx) querier { return txPrepared{p, tx} }

// txPrepared runs prepared statements in a transaction; database/sql reuses
// a statement already prepared on the transaction's connection.
type txPrepared struct {
	p  *prepared
	tx *sql.Tx
}

func (t txPrepared) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := t.p.stmt(ctx, query); st != nil {
		return t.tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return t.tx.ExecContext(ctx, query, args...)
}

func (t txPrepared) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := t.p.stmt(ctx, query); st != nil {
		return t.tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	}
	return t.tx.QueryContext(ctx, query, args...)
}

func (t txPrepared) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := t.p.stmt(ctx, query); st != nil {
		return t.tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return t.tx.QueryRowContext(ctx, query, args...)
}

// close closes every prepared statement.
func (p *prepared) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for q, st := range p.stmts {
		st.Close()
		delete(p.stmts, q)
	}
}
