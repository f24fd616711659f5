package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// seedDatabase copies the seed service's own database into a fresh
// directory with mode 0644 and returns its path.
func seedDatabase(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../../sqlstore/testdata/seed-peroxia.db")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "peroxia.db")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// otherAppDatabase writes a SQLite file of some other application.
func otherAppDatabase(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "notes.db")
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	for _, s := range []string{
		"CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)",
		"CREATE TABLE tags (id INTEGER PRIMARY KEY, name TEXT)",
		"INSERT INTO notes (body) VALUES ('keep me')",
	} {
		if _, err := raw.Exec(s); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

// list GETs a JSON array.
func (c client) list(path, token string) []map[string]any {
	c.t.Helper()
	req, _ := http.NewRequest("GET", c.base+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var out []map[string]any
	if res.StatusCode != http.StatusOK || json.Unmarshal(raw, &out) != nil {
		c.t.Fatalf("GET %s: status %d: %s", path, res.StatusCode, raw)
	}
	return out
}

// login posts the login form; it is safe to call from any goroutine.
func login(base, user, password string) (map[string]string, int) {
	res, err := http.PostForm(base+"/api/v1/auth/login", url.Values{"username": {user}, "password": {password}})
	if err != nil {
		return nil, 0
	}
	defer res.Body.Close()
	out := map[string]string{}
	_ = json.NewDecoder(res.Body).Decode(&out)
	return out, res.StatusCode
}

// TestServeAdoptsSeedDatabase: the real program, pointed at the seed
// service's database, adopts it: the seed's users log in with their
// passwords and see their projects and tasks, new ids continue after the
// seed's and each project's event log starts at 1. A token shaped like
// the seed's is refused even when signed with the same secret.
func TestServeAdoptsSeedDatabase(t *testing.T) {
	path := seedDatabase(t)
	env := baseEnv(t)
	env["DATABASE_URL"] = "sqlite:///" + path
	env["JWT_SECRET"] = strings.Repeat("seed-secret-", 4)
	inst := start(t, env)
	c := client{t: t, base: inst.URL}

	// Every user logs in with their password (in parallel: bcrypt at the
	// seed's cost 12 is slow under -race).
	var mu sync.Mutex
	var logins sync.WaitGroup
	tokens := map[string]string{}
	for user, password := range map[string]string{"ada": "ada-password-1", "bob": "bob-password-2", "cy": "cy-password-3", "dee": "dee-password-4"} {
		logins.Go(func() {
			res, status := login(inst.URL, user, password)
			if status != http.StatusOK || res["access_token"] == "" {
				t.Errorf("%s's login: status %d, %v", user, status, res)
			}
			mu.Lock()
			tokens[user] = res["access_token"]
			mu.Unlock()
		})
	}
	logins.Wait()
	if t.Failed() {
		t.FailNow()
	}
	ada := tokens["ada"]

	projects := c.list("/api/v1/projects", ada)
	if got := itoa(projects); !strings.Contains(got, `"name":"Launch"`) || !strings.Contains(got, `"name":"Ops"`) || len(projects) != 2 {
		t.Errorf("ada's projects %s", got)
	}
	if got := c.list("/api/v1/projects", tokens["dee"]); len(got) != 0 {
		t.Errorf("dee's projects %v, want none", got)
	}
	type task struct {
		ID          int64   `json:"id"`
		Title       string  `json:"title"`
		Description *string `json:"description"`
		Status      string  `json:"status"`
		ProjectID   int64   `json:"project_id"`
		AssigneeID  *int64  `json:"assignee_id"`
		Version     int64   `json:"version"`
	}
	var tasks []task
	if err := json.Unmarshal([]byte(itoa(c.list("/api/v1/projects/1/tasks", ada))), &tasks); err != nil {
		t.Fatal(err)
	}
	ptr := func(n int64) *int64 { return &n }
	sp := func(s string) *string { return &s }
	want := []task{
		{1, "Write the launch post", sp("desc 0"), "in_progress", 1, ptr(2), 1},
		{2, "Fix login bug", sp("desc 1"), "done", 1, nil, 1},
		{3, "Design the logo", sp("SVG and PNG"), "todo", 1, ptr(3), 1},
		{4, "Plan the webinar", sp("desc 3"), "todo", 1, nil, 1},
	}
	if itoa(tasks) != itoa(want) {
		t.Errorf("project 1's tasks\n%s, want\n%s", itoa(tasks), itoa(want))
	}

	created := c.call("POST", "/api/v1/projects/1/tasks", ada, map[string]string{"title": "After the move"}, 201)
	if created["id"] != float64(6) {
		t.Errorf("new task id %v, want 6", created["id"])
	}
	events := c.list("/api/v1/projects/1/events?since=0", ada)
	if len(events) != 1 || events[0]["seq"] != float64(1) || events[0]["event"] != "task_created" {
		t.Errorf("events %v, want one task_created with seq 1", events)
	}

	seedToken, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"sub": "ada", "exp": time.Now().Add(time.Hour).Unix(),
	}).SignedString([]byte(env["JWT_SECRET"]))
	if err != nil {
		t.Fatal(err)
	}
	c.call("GET", "/api/v1/users/me", seedToken, nil, 401)

	if backups, _ := filepath.Glob(path + ".before-taskwire-*"); len(backups) != 1 {
		t.Errorf("backups %v, want one", backups)
	}
}

// TestMigrateAdoptsSeedDatabase: taskwire migrate adopts the seed's file
// and says so as it does for any database; run again, it adopts nothing.
func TestMigrateAdoptsSeedDatabase(t *testing.T) {
	path := seedDatabase(t)
	env := baseEnv(t)
	env["DATABASE_URL"] = "sqlite:///" + path
	for range 2 {
		var out bytes.Buffer
		if err := run(context.Background(), []string{"taskwire", "migrate"}, func(k string) string { return env[k] }, &out, io.Discard); err != nil {
			t.Fatal(err)
		}
		if out.String() != "migrations applied to sqlite:///"+path+"\n" {
			t.Fatalf("migrate printed %q", out.String())
		}
	}
	if backups, _ := filepath.Glob(path + ".before-taskwire-*"); len(backups) != 1 {
		t.Errorf("backups %v, want one", backups)
	}
}

// TestMigrateRefusesOtherApplication: taskwire migrate, pointed at another
// application's SQLite file, fails with one line and leaves the directory
// as it was — through run and through the real binary's stderr.
func TestMigrateRefusesOtherApplication(t *testing.T) {
	path := otherAppDatabase(t)
	dir := filepath.Dir(path)
	before := dirSums(t, dir)
	env := baseEnv(t)
	env["DATABASE_URL"] = "sqlite:///" + path
	err := run(context.Background(), []string{"taskwire", "migrate"}, func(k string) string { return env[k] }, io.Discard, io.Discard)
	want := "DATABASE_URL: " + path + " holds tables of another application (notes, tags): "
	if err == nil || !strings.HasPrefix(err.Error(), want) || strings.Contains(err.Error(), "\n") {
		t.Fatalf("err = %v, want one line starting %q", err, want)
	}

	bin := buildBinary(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "migrate")
	cmd.Env = []string{"DATABASE_URL=sqlite:///" + path, "LOG_LEVEL=info"}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("run: %v, want exit status 1", err)
	}
	if line := stderr.String(); !strings.HasPrefix(line, "taskwire: "+want) || strings.Count(line, "\n") != 1 ||
		!strings.HasSuffix(line, "; nothing was changed\n") || stdout.Len() != 0 {
		t.Fatalf("stderr %q, stdout %q: want one line starting %q", line, stdout.String(), "taskwire: "+want)
	}
	after := dirSums(t, dir)
	if itoa(after) != itoa(before) {
		t.Errorf("directory before %v, after %v", before, after)
	}
}

// dirSums returns the SHA-256 of every file in dir by name.
func dirSums(t *testing.T, dir string) map[string][32]byte {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][32]byte{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = sha256.Sum256(b)
	}
	return out
}
