package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"github.com/taskwire/taskwire/internal/testenv"
)

// PostgresURL returns a PostgreSQL URL whose search_path is a new,
// empty schema that is dropped when the test ends. The base URL comes from
// TASKWIRE_TEST_POSTGRES_URL; without it the test is skipped, or fails
// when TASKWIRE_REQUIRE_SERVICES=1 (CI), so a missing service can never
// turn red into green.
func PostgresURL(t testing.TB) string {
	t.Helper()
	base := testenv.Service(t, "TASKWIRE_TEST_POSTGRES_URL")
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "tw_test_" + hex.EncodeToString(b[:])
	if _, err := admin.ExecContext(context.Background(), "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("PostgreSQL at TASKWIRE_TEST_POSTGRES_URL: %v", err)
	}
	t.Cleanup(func() {
		admin, err := sql.Open("pgx", base)
		if err != nil {
			return
		}
		defer admin.Close()
		_, _ = admin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return fmt.Sprint(u)
}
