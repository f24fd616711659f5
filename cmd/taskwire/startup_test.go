package main

import (
	"bytes"
	"context"
	"errors"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestUnreachableServicesFailWithOneLine: the real binary, started with a
// database or a Redis it cannot use, prints one line naming the setting and
// exits non-zero, and leaves no database file behind when Redis is the
// problem (it is checked first). (A missing SQLite directory is created,
// so it is not among them.)
func TestUnreachableServicesFailWithOneLine(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	sqlite := "sqlite:///" + filepath.Join(dir, "never.db")
	secret := strings.Repeat("s", 40)
	notDir, notDB := filepath.Join(dir, "file"), filepath.Join(dir, "text.db")
	for _, f := range []string{notDir, notDB} {
		if err := os.WriteFile(f, []byte("not a database\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		name, key string
		env       map[string]string
	}{
		{"PostgresRefused", "DATABASE_URL", map[string]string{"DATABASE_URL": "postgres://postgres@127.0.0.1:1/test?sslmode=disable", "JWT_SECRET": secret}},
		{"PostgresNoSuchHost", "DATABASE_URL", map[string]string{"DATABASE_URL": "postgres://postgres@no-such-host.invalid/test?sslmode=disable", "JWT_SECRET": secret}},
		{"SQLiteUnderAFile", "DATABASE_URL", map[string]string{"DATABASE_URL": "sqlite:///" + filepath.Join(notDir, "x.db")}},
		{"SQLiteNotADatabase", "DATABASE_URL", map[string]string{"DATABASE_URL": "sqlite:///" + notDB}},
		{"RedisRefused", "REDIS_URL", map[string]string{"DATABASE_URL": sqlite, "REDIS_URL": "redis://127.0.0.1:1/0"}},
		{"RedisNoSuchHost", "REDIS_URL", map[string]string{"DATABASE_URL": sqlite, "REDIS_URL": "redis://no-such-host.invalid:6379/0"}},
	}
	if pg := os.Getenv("TASKWIRE_TEST_POSTGRES_URL"); pg != "" {
		u, err := url.Parse(pg)
		if err != nil {
			t.Fatal(err)
		}
		u.User = url.User("no_such_role_taskwire")
		cases = append(cases, struct {
			name, key string
			env       map[string]string
		}{"PostgresUnknownRole", "DATABASE_URL", map[string]string{"DATABASE_URL": u.String(), "JWT_SECRET": secret}})
	}
	t.Run("Start", func(t *testing.T) {
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // a hang guard
				defer cancel()
				cmd := exec.CommandContext(ctx, bin, "serve")
				cmd.Env = []string{"PORT=0", "LOG_LEVEL=info"}
				for k, v := range tc.env {
					cmd.Env = append(cmd.Env, k+"="+v)
				}
				var stdout, stderr bytes.Buffer
				cmd.Stdout, cmd.Stderr = &stdout, &stderr
				err := cmd.Run()
				var exit *exec.ExitError
				if !errors.As(err, &exit) || exit.ExitCode() == 0 || ctx.Err() != nil {
					t.Fatalf("run: %v (context: %v), want a non-zero exit", err, ctx.Err())
				}
				lines := strings.Split(strings.TrimRight(stderr.String(), "\n"), "\n")
				if len(lines) != 1 || !strings.HasPrefix(lines[0], "taskwire: "+tc.key+": ") || stdout.Len() != 0 {
					t.Fatalf("stderr %q, stdout %q: want one line starting %q", stderr.String(), stdout.String(), "taskwire: "+tc.key+": ")
				}
			})
		}
	})
	t.Run("NoFileLeft", func(t *testing.T) {
		matches, _ := filepath.Glob(filepath.Join(dir, "never.db*"))
		if len(matches) != 0 {
			t.Errorf("a failed start left %v", matches)
		}
	})
}
