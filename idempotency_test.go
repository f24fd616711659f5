package taskwire_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/taskwire/taskwire"
	"github.com/taskwire/taskwire/internal/testenv"
	"github.com/taskwire/taskwire/sqlstore"
)

// TestIdempotencyExpiry retries an idempotent create at the edges of
// taskwire.IdempotencyTTL: within it the first answer is replayed; from the
// moment the Service treats the key as expired, the create runs afresh.
func TestIdempotencyExpiry(t *testing.T) {
	t0 := time.Date(2025, time.March, 14, 15, 9, 26, 535897000, time.UTC)
	tests := []struct {
		name   string
		after  time.Duration
		replay bool
	}{
		{"Immediately", 0, true},
		{"AnHourLater", time.Hour, true},
		{"JustBeforeExpiry", taskwire.IdempotencyTTL - time.Microsecond, true},
		{"AtExpiry", taskwire.IdempotencyTTL, false},
		{"AfterExpiry", taskwire.IdempotencyTTL + time.Second, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			db, err := sqlstore.Open(ctx, sqlstore.Target{Dialect: "sqlite", Path: filepath.Join(t.TempDir(), "taskwire.db")}, sqlstore.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			if err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			now := t0
			svc := taskwire.NewService(db, testenv.Discard{}, nil, taskwire.Options{Now: func() time.Time { return now }})
			var alice taskwire.User
			err = db.Update(ctx, func(tx taskwire.Tx) (err error) {
				alice, err = tx.CreateUser(ctx, taskwire.User{Email: "alice@example.com", Username: "alice", HashedPassword: "x", CreatedAt: t0})
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			key := taskwire.IdempotencyKey{UserID: alice.ID, Scope: "POST /api/v1/projects", Key: "k", Hash: "h"}

			first, err := svc.CreateProject(ctx, alice, taskwire.NewProject{Name: "first"}, key)
			if err != nil {
				t.Fatal(err)
			}
			now = t0.Add(tc.after)
			again, err := svc.CreateProject(ctx, alice, taskwire.NewProject{Name: "first"}, key)
			if err != nil {
				t.Fatalf("retry %v after the first request: %v", tc.after, err)
			}
			if replayed := again.ID == first.ID; replayed != tc.replay {
				t.Fatalf("retry %v later: project %d after %d; replayed = %v, want %v", tc.after, again.ID, first.ID, replayed, tc.replay)
			}
		})
	}
}
