package sqlstore_test

import (
	"context"
	"testing"

	"github.com/taskwire/taskwire"
	"github.com/taskwire/taskwire/sqlstore"
	"github.com/taskwire/taskwire/storetest"
)

func TestStorePostgres(t *testing.T) {
	storetest.PostgresURL(t) // skips early when there is no PostgreSQL
	storetest.Run(t, func(t *testing.T) taskwire.Store {
		ctx := context.Background()
		target, err := sqlstore.ParseURL(storetest.PostgresURL(t))
		if err != nil {
			t.Fatal(err)
		}
		db, err := sqlstore.Open(ctx, target, sqlstore.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		if err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		return db
	})
}
