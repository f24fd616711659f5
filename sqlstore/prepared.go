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
	if st := p.cached(query); st != nil {
		return st
	}
	// Prepared without holding mu: preparing on a pool waits for a free
	// connection, and the holders of the connections (snapshot reads in
	// their transactions) may be waiting for mu to look a statement up.
	st, err := p.on.PrepareContext(context.WithoutCancel(ctx), query)
	if err != nil {
		// Run the query unprepared; it reports the same error.
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if first, ok := p.stmts[query]; ok {
		st.Close() // another caller prepared it meanwhile
		return first
	}
	p.stmts[query] = st
	return st
}

// cached returns the statement already prepared for query, or nil.
func (p *prepared) cached(query string) *sql.Stmt {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stmts[query]
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

// txPrepared runs statements in a transaction, through the ones already
// prepared (database/sql reuses a statement already prepared on the
// transaction's connection). It never prepares one itself: that would need
// a second connection while the transaction holds one, and a full pool of
// such transactions would wait for each other for good. A statement not
// prepared yet runs unprepared; the first read outside a transaction
// prepares it.
type txPrepared struct {
	p  *prepared
	tx *sql.Tx
}

func (t txPrepared) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := t.p.cached(query); st != nil {
		return t.tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return t.tx.ExecContext(ctx, query, args...)
}

func (t txPrepared) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := t.p.cached(query); st != nil {
		return t.tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	}
	return t.tx.QueryContext(ctx, query, args...)
}

func (t txPrepared) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := t.p.cached(query); st != nil {
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
