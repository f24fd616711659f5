package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/taskwire/taskwire/storetest"
)

// getJSON fetches path with the token and decodes the body, which may be
// an array.
func getJSON(t *testing.T, base, path, token string) any {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: status %d: %s", path, res.StatusCode, raw)
	}
	var out any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("GET %s: %v: %s", path, err, raw)
	}
	return out
}

// runImport runs `taskwire import` with args and env and returns its
// outputs.
func runImport(t *testing.T, env map[string]string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err = run(context.Background(), append([]string{"taskwire", "import"}, args...), func(k string) string { return env[k] }, &out, &errOut)
	return out.String(), errOut.String(), err
}

// TestImportCommand: a SQLite database written by the real server is
// imported into PostgreSQL by `taskwire import`, and the server then
// running on PostgreSQL lets its users log in with their old passwords
// and see the same projects, tasks and events.
func TestImportCommand(t *testing.T) {
	env := baseEnv(t)
	src := start(t, env)
	c := client{t: t, base: src.URL}
	_, adaTok := c.signupLogin("ada")
	bobID, _ := c.signupLogin("bob")
	p := c.call("POST", "/api/v1/projects/", adaTok, map[string]string{"name": "Launch", "description": "Q1"}, 201)
	pid := itoa(p["id"])
	c.call("POST", "/api/v1/projects/"+pid+"/members", adaTok, map[string]any{"user_id": bobID}, 201)
	for _, title := range []string{"Write the launch post", "Fix login bug", "Design the logo"} {
		c.call("POST", "/api/v1/projects/"+pid+"/tasks", adaTok, map[string]string{"title": title}, 201)
	}
	c.call("PATCH", "/api/v1/tasks/1/status", adaTok, map[string]string{"status": "in_progress"}, 200)
	c.call("PATCH", "/api/v1/tasks/2/status", adaTok, map[string]string{"status": "done"}, 200)
	c.call("PUT", "/api/v1/tasks/1", adaTok, map[string]any{"assignee_id": bobID}, 200)
	wantTasks := getJSON(t, src.URL, "/api/v1/projects/"+pid+"/tasks", adaTok)
	wantEvents := getJSON(t, src.URL, "/api/v1/projects/"+pid+"/events?since=0", adaTok)
	src.shutdown(t)

	pgEnv := map[string]string{
		"PORT": "0", "DATABASE_URL": storetest.PostgresURL(t), "JWT_SECRET": strings.Repeat("k", 40),
		"BCRYPT_COST": "4", "LOG_LEVEL": "warn",
	}
	stdout, stderr, err := runImport(t, pgEnv, "--from", env["DATABASE_URL"])
	if err != nil {
		t.Fatalf("import: %v\n%s", err, stderr)
	}
	t.Logf("stdout:\n%sstderr:\n%s", stdout, stderr)
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	// Between tasks and events come the tables that hang off tasks (comments
	// among them), none of which the source has rows in.
	summary := regexp.MustCompile(`^imported 2 users, 1 projects, 2 project_members, 3 tasks, (?:0 [a-z_]+, )*[1-9]\d* events, 0 idempotency_keys, [1-9]\d* notifications, 0 notification_settings, 0 api_tokens, 0 invitations, 0 webhooks, 0 webhook_deliveries, 0 webhook_outbox from \S+e2e\.db in \S+$`)
	if len(lines) != 2 || !summary.MatchString(lines[0]) || !strings.Contains(lines[0], ", 0 comments, ") {
		t.Errorf("summary %q does not match %s", stdout, summary)
	}
	if m := regexp.MustCompile(`^(\d+) pending background jobs \(emails\) in the source were not copied$`).FindStringSubmatch(lines[len(lines)-1]); m == nil {
		t.Errorf("no line about the jobs left behind in %q", stdout)
	} else if n, _ := strconv.Atoi(m[1]); n == 0 {
		t.Errorf("%q: the source had emails pending (debounced by 10s)", m[0])
	}
	if !strings.Contains(stderr, "import: tasks 3/3\n") {
		t.Errorf("no progress line for tasks in stderr %q", stderr)
	}

	dst := start(t, pgEnv)
	c = client{t: t, base: dst.URL}
	tok := c.call("POST", "/api/v1/auth/login", "", url.Values{"username": {"ada"}, "password": {"password123"}}, 200)["access_token"].(string)
	if got := getJSON(t, dst.URL, "/api/v1/projects/"+pid+"/tasks", tok); !reflect.DeepEqual(got, wantTasks) {
		t.Errorf("tasks on PostgreSQL:\n%v\nwant\n%v", got, wantTasks)
	}
	if got := getJSON(t, dst.URL, "/api/v1/projects/"+pid+"/events?since=0", tok); !reflect.DeepEqual(got, wantEvents) {
		t.Errorf("events on PostgreSQL:\n%v\nwant\n%v", got, wantEvents)
	}
	// New rows continue after the imported ones.
	task := c.call("POST", "/api/v1/projects/"+pid+"/tasks", tok, map[string]string{"title": "After the move"}, 201)
	if task["id"] != float64(4) {
		t.Errorf("first task created on PostgreSQL has id %v, want 4", task["id"])
	}
}

// TestImportCommandRefused: each bad input stops the command with one
// line (main prints it and exits 1), changing nothing.
func TestImportCommandRefused(t *testing.T) {
	srcEnv := baseEnv(t)
	src := start(t, srcEnv)
	client{t: t, base: src.URL}.signupLogin("ada")
	src.shutdown(t)
	from := srcEnv["DATABASE_URL"]
	pg := storetest.PostgresURL(t)
	pgEnv := map[string]string{"DATABASE_URL": pg, "JWT_SECRET": strings.Repeat("k", 40), "LOG_LEVEL": "warn"}
	if _, stderr, err := runImport(t, pgEnv, "--from="+from); err != nil {
		t.Fatalf("first import: %v\n%s", err, stderr)
	}
	sqliteEnv := map[string]string{"DATABASE_URL": "sqlite:///" + filepath.Join(t.TempDir(), "x.db"), "LOG_LEVEL": "warn"}

	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"FromMissing", pgEnv, nil, "--from is required"},
		{"FromWithoutValue", pgEnv, []string{"--from"}, "--from needs a value"},
		{"FromPostgres", pgEnv, []string{"--from", pg}, "want the SQLite database to copy from"},
		{"FromMissingFile", pgEnv, []string{"--from", "sqlite:///" + filepath.Join(t.TempDir(), "none.db")}, "does not exist"},
		{"DestinationSQLite", sqliteEnv, []string{"--from", from}, "is not PostgreSQL"},
		{"DestinationNotEmpty", pgEnv, []string{"--from", from}, "DATABASE_URL is not empty (users has 1 rows)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stdout, _, err := runImport(t, tc.env, tc.args...)
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("err = %v, want one line with %q", err, tc.want)
			}
			if stdout != "" {
				t.Errorf("stdout %q, want nothing", stdout)
			}
		})
	}
}

func TestCutFromFlag(t *testing.T) {
	for _, tc := range []struct {
		args     []string
		from     string
		rest     []string
		hasError bool
	}{
		{[]string{"--from", "a.db"}, "a.db", nil, false},
		{[]string{"-from=a.db", "--jwt-ttl", "3s"}, "a.db", []string{"--jwt-ttl", "3s"}, false},
		{[]string{"--database-url", "postgres://x", "--from=sqlite:///a.db"}, "sqlite:///a.db", []string{"--database-url", "postgres://x"}, false},
		{[]string{"--from"}, "", nil, true},
		{[]string{"--", "--from", "a.db"}, "", []string{"--", "--from", "a.db"}, false},
	} {
		from, rest, err := cutFromFlag(tc.args)
		if from != tc.from || !reflect.DeepEqual(rest, tc.rest) || (err != nil) != tc.hasError {
			t.Errorf("cutFromFlag(%q) = %q, %q, %v", tc.args, from, rest, err)
		}
	}
}
