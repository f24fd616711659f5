package sqlstore

import (
	"context"
	"time"
)

// PrunePolicy says which rows have expired.
type PrunePolicy struct {
	IdempotencyTTL time.Duration // stored create responses older than this
	EventAge       time.Duration // events older than this
	EventCount     int64         // events beyond this many per project
}

// pruneBatch bounds the rows one statement deletes, so pruning never holds
// the writer for long.
const pruneBatch = 5000

// Prune deletes expired idempotency records and events outside the
// retention window (including those of deleted projects), in small
// batches, and returns how many rows it removed. Readers already treat
// such events as gone; pruning only reclaims space.
func (db *DB) Prune(ctx context.Context, p PrunePolicy) (int64, error) {
	now := time.Now().UTC()
	stmts := []struct {
		q    string
		args []any
	}{
		{`DELETE FROM idempotency_keys WHERE (user_id, scope, key) IN
			(SELECT user_id, scope, key FROM idempotency_keys WHERE created_at < ? LIMIT ?)`,
			[]any{db.d.time(now.Add(-p.IdempotencyTTL)), pruneBatch}},
		{`DELETE FROM events WHERE (project_id, seq) IN
			(SELECT project_id, seq FROM events WHERE ts < ? LIMIT ?)`,
			[]any{db.d.time(now.Add(-p.EventAge)), pruneBatch}},
		{`DELETE FROM events WHERE (project_id, seq) IN
			(SELECT e.project_id, e.seq FROM events e JOIN projects p ON p.id = e.project_id
			 WHERE e.seq <= p.last_seq - ? LIMIT ?)`,
			[]any{p.EventCount, pruneBatch}},
		// A deleted project's events outlive it briefly, so that rooms on
		// every instance can still read its last event.
		{`DELETE FROM events WHERE (project_id, seq) IN
			(SELECT project_id, seq FROM events WHERE ts < ?
			   AND project_id NOT IN (SELECT id FROM projects) LIMIT ?)`,
			[]any{db.d.time(now.Add(-time.Hour)), pruneBatch}},
	}
	var total int64
	for _, st := range stmts {
		for {
			var n int64
			err := db.update(ctx, func(t *tx) error {
				res, err := t.exec(ctx, st.q, st.args...)
				if err != nil {
					return err
				}
				n, err = res.RowsAffected()
				return err
			})
			if err != nil {
				return total, dbErr(err)
			}
			total += n
			if n < pruneBatch || ctx.Err() != nil {
				break
			}
		}
	}
	return total, nil
}
