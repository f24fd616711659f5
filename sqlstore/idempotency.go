package sqlstore

import (
	"context"

	"github.com/taskwire/taskwire"
)

// Idempotency implements taskwire.Reader.
func (s reads) Idempotency(ctx context.Context, userID int64, scope, key string) (taskwire.IdempotencyRecord, error) {
	r := taskwire.IdempotencyRecord{IdempotencyKey: taskwire.IdempotencyKey{UserID: userID, Scope: scope, Key: key}}
	var body string
	err := s.row(ctx, `SELECT request_hash, body, created_at FROM idempotency_keys
		WHERE user_id = ? AND scope = ? AND key = ?`, userID, scope, key).
		Scan(&r.Hash, &body, nullTime{&r.CreatedAt})
	r.Body = []byte(body)
	return r, notFound(err, "Idempotency key not found")
}

// PutIdempotency implements taskwire.Tx. A record under the same key that
// is taskwire.IdempotencyTTL old or older is replaced (the service treats
// it as expired from that age on).
func (s writes) PutIdempotency(ctx context.Context, r taskwire.IdempotencyRecord) error {
	_, err := s.exec(ctx, "DELETE FROM idempotency_keys WHERE user_id = ? AND scope = ? AND key = ? AND created_at <= ?",
		r.UserID, r.Scope, r.Key, s.d.time(r.CreatedAt.Add(-taskwire.IdempotencyTTL)))
	if err != nil {
		return dbErr(err)
	}
	_, err = s.exec(ctx, `INSERT INTO idempotency_keys (user_id, scope, key, request_hash, body, created_at)
		VALUES (?, ?, ?, ?, ?, ?)`, r.UserID, r.Scope, r.Key, r.Hash, string(r.Body), s.d.time(r.CreatedAt))
	if s.d.isUnique(err) {
		return taskwire.Errorf(taskwire.Conflict, "Idempotency-Key is in use")
	}
	return dbErr(err)
}

// FinishIdempotency implements taskwire.Tx.
func (s writes) FinishIdempotency(ctx context.Context, k taskwire.IdempotencyKey, body []byte) error {
	_, err := s.exec(ctx, "UPDATE idempotency_keys SET body = ? WHERE user_id = ? AND scope = ? AND key = ?",
		string(body), k.UserID, k.Scope, k.Key)
	return dbErr(err)
}
