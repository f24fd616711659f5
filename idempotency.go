package taskwire

import (
	"context"
	"encoding/json"
	"errors"
	"time"
)

// IdempotencyTTL is how long a stored response answers retries.
const IdempotencyTTL = 24 * time.Hour

// MaxIdempotencyKeyLen bounds the Idempotency-Key header.
const MaxIdempotencyKeyLen = 255

// IdempotencyKey identifies a create request that may be retried: the
// caller, the route it was sent to, the key it chose and a hash of its body.
// The zero value means "not idempotent".
type IdempotencyKey struct {
	UserID int64
	Scope  string
	Key    string
	Hash   string
}

// IdempotencyRecord is the first response to an idempotent request.
type IdempotencyRecord struct {
	IdempotencyKey
	Body      []byte
	CreatedAt time.Time
}

// idempotent runs check and create unless k has already been answered, in
// which case it returns the first answer. The key is claimed between the
// two, in the same unit of work: a concurrent request with the same key
// waits on the claim (or, on SQLite, runs after it) and then replays its
// answer, so a committed create is never repeated. check holds the
// request's permission and validity checks, which only read: a refused
// request then fails before anything is written, which lets the store's
// writer leave the rest of its batch alone. check may be nil.
func idempotent[T any](ctx context.Context, tx Tx, k IdempotencyKey, now time.Time, check func() error, create func() (T, error)) (T, error) {
	var zero T
	if check == nil {
		check = func() error { return nil }
	}
	if k.Key == "" {
		if err := check(); err != nil {
			return zero, err
		}
		return create()
	}
	if len(k.Key) > MaxIdempotencyKeyLen || !storable(k.Key) {
		return zero, InvalidField("Idempotency-Key", "Idempotency-Key must be at most 255 characters of UTF-8")
	}
	rec, err := tx.Idempotency(ctx, k.UserID, k.Scope, k.Key)
	switch {
	case err == nil && now.Sub(rec.CreatedAt) < IdempotencyTTL:
		if rec.Hash != k.Hash {
			return zero, InvalidField("Idempotency-Key", "Idempotency-Key was already used with a different request body")
		}
		var v T
		if err := json.Unmarshal(rec.Body, &v); err != nil {
			return zero, err
		}
		return v, nil
	case err != nil && ErrorKind(err) != NotFound:
		return zero, err
	}
	if err := check(); err != nil {
		return zero, err
	}
	err = tx.PutIdempotency(ctx, IdempotencyRecord{IdempotencyKey: k, Body: []byte("null"), CreatedAt: now})
	if ErrorKind(err) == Conflict {
		// A concurrent request with the same key committed first; the unit
		// of work is retried and then replays that request's answer.
		return zero, errRetry
	}
	if err != nil {
		return zero, err
	}
	v, err := create()
	if err != nil {
		return zero, err
	}
	body, err := json.Marshal(v)
	if err != nil {
		return zero, err
	}
	return v, tx.FinishIdempotency(ctx, k, body)
}

// errRetry asks Service.update to run a unit of work again.
var errRetry = errors.New("retry the unit of work")
