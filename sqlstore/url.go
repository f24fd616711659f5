package sqlstore

import (
	"fmt"
	"strings"
)

// Target is a parsed DATABASE_URL.
type Target struct {
	// Dialect is "sqlite" or "postgres".
	Dialect string
	// Path is the SQLite file; DSN the PostgreSQL connection string.
	Path string
	DSN  string
}

// ParseURL accepts the forms the seed service used through SQLAlchemy —
// sqlite:///./file.db and sqlite:///file.db (relative to the working
// directory), sqlite:////abs/file.db (absolute) — as well as a bare file
// path and postgres:// or postgresql:// URLs.
func ParseURL(raw string) (Target, error) {
	raw = strings.TrimSpace(raw)
	switch {
	case raw == "":
		return Target{}, fmt.Errorf("DATABASE_URL is empty")
	case strings.HasPrefix(raw, "postgres://"), strings.HasPrefix(raw, "postgresql://"):
		return Target{Dialect: "postgres", DSN: raw}, nil
	case strings.HasPrefix(raw, "sqlite:"), strings.HasPrefix(raw, "sqlite+"):
		// sqlite:///<path> or sqlite+pysqlite:///<path>; the path is what
		// follows the third slash, so sqlite:////abs is absolute.
		scheme, rest, ok := strings.Cut(raw, "://")
		if !ok || (scheme != "sqlite" && !strings.HasPrefix(scheme, "sqlite+")) {
			return Target{}, fmt.Errorf("DATABASE_URL %q: want sqlite:///relative.db or sqlite:////absolute.db", raw)
		}
		if !strings.HasPrefix(rest, "/") {
			return Target{}, fmt.Errorf("DATABASE_URL %q: a SQLite URL has three slashes before the path (sqlite:///file.db)", raw)
		}
		path, _, _ := strings.Cut(rest[1:], "?")
		return sqliteTarget(raw, path)
	case strings.Contains(raw, "://"):
		return Target{}, fmt.Errorf("DATABASE_URL %q: unsupported scheme (use sqlite:///file.db, a file path or postgres://)", raw)
	default:
		return sqliteTarget(raw, raw)
	}
}

func sqliteTarget(raw, path string) (Target, error) {
	if path == "" || path == ":memory:" || strings.HasPrefix(path, "file::memory:") {
		return Target{}, fmt.Errorf("DATABASE_URL %q: give a SQLite file path; in-memory databases are not supported", raw)
	}
	return Target{Dialect: "sqlite", Path: path}, nil
}
