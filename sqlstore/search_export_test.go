package sqlstore

import "context"

// SearchText is searchText, for tests that compare it with PostgreSQL's.
var SearchText = searchText

// FTSQuery is ftsQuery, for the fuzz target.
var FTSQuery = ftsQuery

// Snippet is snippet over the words of a query.
func Snippet(text string, words []string) (string, bool) { return snippet(text, phrases(words)) }

// SearchKeys are the words the SQLite index holds for text, in order.
func SearchKeys(text string) []string {
	var out []string
	for _, t := range searchTokens(text) {
		out = append(out, t.key)
	}
	return out
}

// BulkExec runs the statements fn sends (with ? placeholders) in one
// transaction on the writer's pool, for benchmarks that load rows in bulk;
// on SQLite it indexes what they wrote for search, as the writer does.
func (db *DB) BulkExec(ctx context.Context, fn func(exec func(query string, args ...any) error) error) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(func(query string, args ...any) error {
		_, err := tx.ExecContext(ctx, db.d.rebind(query), args...)
		return err
	}); err != nil {
		return err
	}
	if db.d == sqliteDialect {
		if err := refreshSearch(ctx, tx); err != nil {
			return err
		}
	}
	return tx.Commit()
}
