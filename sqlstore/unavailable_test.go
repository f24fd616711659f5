package sqlstore

import (
	"context"
	"database/sql/driver"
	"errors"
	"net"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/taskwire/taskwire"
)

// TestUnreachableIsUnavailable: losing the database answers 503, not 500,
// and a failed statement stays an internal error.
func TestUnreachableIsUnavailable(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want taskwire.Kind
	}{
		{"BadConn", driver.ErrBadConn, taskwire.Unavailable},
		{"ConnRefused", &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}, taskwire.Unavailable},
		{"AdminShutdown", &pgconn.PgError{Code: "57P01"}, taskwire.Unavailable},
		{"CannotConnectNow", &pgconn.PgError{Code: "57P03"}, taskwire.Unavailable},
		{"SyntaxError", &pgconn.PgError{Code: "42601"}, taskwire.Internal},
		{"Other", errors.New("boom"), taskwire.Internal},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := taskwire.ErrorKind(dbErr(tc.err)); got != tc.want {
				t.Fatalf("kind %v, want %v", got, tc.want)
			}
		})
	}
	// A PostgreSQL that is not there: open fails with one clear error.
	_, err := Open(context.Background(), Target{Dialect: "postgres", DSN: "postgres://nobody@127.0.0.1:1/x?sslmode=disable&connect_timeout=2"}, Options{})
	if err == nil {
		t.Fatal("opening an unreachable PostgreSQL succeeded")
	}
}
