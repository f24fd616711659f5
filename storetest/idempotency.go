package storetest

import (
	"bytes"
	"testing"
	"time"

	"github.com/taskwire/taskwire"
)

func testIdempotency(t *testing.T, newStore func(t *testing.T) taskwire.Store) {
	record := func(userID int64, scope, key, hash, body string, createdAt time.Time) taskwire.IdempotencyRecord {
		return taskwire.IdempotencyRecord{
			IdempotencyKey: taskwire.IdempotencyKey{UserID: userID, Scope: scope, Key: key, Hash: hash},
			Body:           []byte(body),
			CreatedAt:      createdAt,
		}
	}
	put := func(t *testing.T, s taskwire.Store, r taskwire.IdempotencyRecord) error {
		return s.Update(t.Context(), func(tx taskwire.Tx) error { return tx.PutIdempotency(t.Context(), r) })
	}
	read := func(t *testing.T, r taskwire.Reader, want taskwire.IdempotencyRecord) {
		t.Helper()
		got, err := r.Idempotency(t.Context(), want.UserID, want.Scope, want.Key)
		if err != nil {
			t.Fatalf("Idempotency(%d, %q, %q): %v", want.UserID, want.Scope, want.Key, err)
		}
		checkRecord(t, got, want)
	}

	t.Run("NotFound", func(t *testing.T) {
		s := newStore(t)
		_, err := s.Idempotency(t.Context(), 1, "POST /api/v1/projects", "key-1")
		wantError(t, err, taskwire.NotFound, "")
	})

	t.Run("PutAndRead", func(t *testing.T) {
		s := newStore(t)
		r := record(1, "POST /api/v1/projects", "key-1", "sha256:abc", `{"id":7,"name":"n \"q\" ✓"}`, at(0))
		if err := put(t, s, r); err != nil {
			t.Fatal(err)
		}
		read(t, s, r)
		update(t, s, func(tx taskwire.Tx) error {
			read(t, tx, r)
			return nil
		})
	})

	t.Run("KeyedByUserScopeAndKey", func(t *testing.T) {
		s := newStore(t)
		records := []taskwire.IdempotencyRecord{
			record(1, "POST /a", "k", "h1", `{"n":1}`, at(0)),
			record(2, "POST /a", "k", "h2", `{"n":2}`, at(0)),
			record(1, "POST /b", "k", "h3", `{"n":3}`, at(0)),
			record(1, "POST /a", "K", "h4", `{"n":4}`, at(0)),
		}
		for _, r := range records {
			if err := put(t, s, r); err != nil {
				t.Fatalf("put %+v: %v", r.IdempotencyKey, err)
			}
		}
		for _, r := range records {
			read(t, s, r)
		}
		_, err := s.Idempotency(t.Context(), 2, "POST /b", "k")
		wantError(t, err, taskwire.NotFound, "")
	})

	t.Run("DuplicatePut", func(t *testing.T) {
		s := newStore(t)
		first := record(1, "POST /a", "k", "h1", `{"n":1}`, at(0))
		if err := put(t, s, first); err != nil {
			t.Fatal(err)
		}
		err := put(t, s, record(1, "POST /a", "k", "h2", `{"n":2}`, at(time.Second)))
		wantError(t, err, taskwire.Conflict, "")
		read(t, s, first)
	})

	tests := []struct {
		name     string
		age      time.Duration // of the first record when the second is put
		replaced bool
	}{
		{"ExpiredIsReplaced", taskwire.IdempotencyTTL + time.Second, true},
		{"LongExpiredIsReplaced", 10 * taskwire.IdempotencyTTL, true},
		{"FreshIsKept", taskwire.IdempotencyTTL - time.Second, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t)
			first := record(1, "POST /a", "k", "h1", `{"n":1}`, at(0))
			second := record(1, "POST /a", "k", "h2", `{"n":2}`, at(tc.age))
			if err := put(t, s, first); err != nil {
				t.Fatal(err)
			}
			err := put(t, s, second)
			if !tc.replaced {
				wantError(t, err, taskwire.Conflict, "")
				read(t, s, first)
				return
			}
			if err != nil {
				t.Fatalf("put over a record %v old: %v", tc.age, err)
			}
			read(t, s, second)
		})
	}
}

func checkRecord(t *testing.T, got, want taskwire.IdempotencyRecord) {
	t.Helper()
	if got.IdempotencyKey != want.IdempotencyKey {
		t.Errorf("record key = %+v, want %+v", got.IdempotencyKey, want.IdempotencyKey)
	}
	if !bytes.Equal(got.Body, want.Body) {
		t.Errorf("record body = %s, want %s", got.Body, want.Body)
	}
	if !sameTime(got.CreatedAt, want.CreatedAt) {
		t.Errorf("record CreatedAt = %v, want %v", got.CreatedAt, want.CreatedAt)
	}
}
