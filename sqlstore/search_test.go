package sqlstore_test

import (
	"cmp"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/taskwire/taskwire"
	"github.com/taskwire/taskwire/internal/testenv"
	"github.com/taskwire/taskwire/sqlstore"
	"github.com/taskwire/taskwire/storetest"
)

// searchStore is a store with one member, alice (id 1), of one project
// (id 1) holding a task and a comment, to run searches on.
type searchStore struct {
	name string
	db   *sqlstore.DB
}

// openSearchStores opens a SQLite store and a PostgreSQL one (skipped, or
// failed under TASKWIRE_REQUIRE_SERVICES=1, without PostgreSQL), each with
// alice's project.
func openSearchStores(tb testing.TB) []searchStore {
	tb.Helper()
	ctx := context.Background()
	open := func(target sqlstore.Target) *sqlstore.DB {
		db, err := sqlstore.Open(ctx, target, sqlstore.Options{})
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { db.Close() })
		if err := db.Migrate(ctx); err != nil {
			tb.Fatal(err)
		}
		seedSearch(tb, db)
		return db
	}
	pg, err := sqlstore.ParseURL(storetest.PostgresURL(tb))
	if err != nil {
		tb.Fatal(err)
	}
	return []searchStore{
		{"sqlite", open(sqlstore.Target{Dialect: "sqlite", Path: filepath.Join(tb.TempDir(), "search.db")})},
		{"postgres", open(pg)},
	}
}

// seedSearch writes, with plain SQL, user 1 (alice), project 1 with alice
// a member, task 1 and a comment on it.
func seedSearch(tb testing.TB, db *sqlstore.DB) {
	tb.Helper()
	const ts = "2025-03-14T15:09:26.000000Z"
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{"INSERT INTO users (id, email, username, hashed_password, created_at) VALUES (1, 'alice@example.com', 'alice', 'x', ?)", []any{ts}},
		{"INSERT INTO projects (id, name, owner_id, created_at, updated_at) VALUES (1, 'mine', 1, ?, ?)", []any{ts, ts}},
		{"INSERT INTO project_members (project_id, user_id, created_at) VALUES (1, 1, ?)", []any{ts}},
		{`INSERT INTO tasks (id, title, description, status, project_id, version, created_at, updated_at)
			VALUES (1, 'Naïve "quoted" (parens) a*b NEAR AND OR NOT', '東京タワーに行く ΚΑΛΗΜΕΡΑ', 'TODO', 1, 1, ?, ?)`, []any{ts, ts}},
		{"INSERT INTO comments (task_id, project_id, author_id, body, created_at, updated_at) VALUES (1, 1, 1, 'a remark: title:x -minus', ?, ?)", []any{ts, ts}},
	} {
		if _, err := db.RawExec(context.Background(), q.sql, q.args...); err != nil {
			tb.Fatalf("%s: %v", q.sql, err)
		}
	}
}

// FuzzSearchQuery: whatever a user types, the query is words or nothing,
// the FTS5 query built from it quotes every word, a snippet can be made
// with it, and a search and a filtered task list with it answer without
// error on SQLite and on PostgreSQL. A normal test run runs the seed
// corpus (storetest.HostileSearchQueries) through both databases.
func FuzzSearchQuery(f *testing.F) {
	for _, q := range storetest.HostileSearchQueries {
		f.Add(q)
	}
	f.Add("naïve 東京 καλημερα")
	stores := openSearchStores(f)
	f.Fuzz(func(t *testing.T, q string) {
		ctx := context.Background()
		words := taskwire.SearchWords(q)
		for _, w := range words {
			if !utf8.ValidString(w) || !strings.ContainsFunc(w, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsNumber(r) }) ||
				strings.ContainsFunc(w, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsNumber(r) && !unicode.IsMark(r) }) {
				t.Fatalf("SearchWords(%q) has the word %q", q, w)
			}
		}
		query, err := taskwire.ParseSearchQuery(q)
		switch {
		case err != nil && taskwire.ErrorKind(err) != taskwire.Invalid:
			t.Fatalf("ParseSearchQuery(%q): %v", q, err)
		case err == nil && (len(query.Words) == 0 || utf8.RuneCountInString(q) > taskwire.MaxSearchQueryLen):
			t.Fatalf("ParseSearchQuery(%q) = %q, want it refused", q, query.Words)
		}
		fts := sqlstore.FTSQuery(words)
		if n := strings.Count(fts, `"`); n%2 != 0 || (len(words) > 0 && !strings.HasPrefix(fts, `"`)) {
			t.Fatalf("FTSQuery(%q) = %s", words, fts)
		}
		if sn, ok := sqlstore.Snippet(q, words); ok && utf8.ValidString(q) && !utf8.ValidString(sn) {
			t.Fatalf("Snippet(%q) = %q", q, sn)
		}
		for _, s := range stores {
			if err == nil {
				if _, err := s.db.SearchTasks(ctx, 1, query, 10); err != nil {
					t.Fatalf("%s: SearchTasks(%q): %v", s.name, q, err)
				}
			}
			if _, err := s.db.Tasks(ctx, 1, taskwire.TaskFilter{Query: q}, taskwire.Page{}); err != nil {
				t.Fatalf("%s: Tasks(q=%q): %v", s.name, q, err)
			}
		}
	})
}

// TestSearchTextAgreesWithPostgres: PostgreSQL's taskwire_search_text
// yields the words SQLite's index holds (searchText and the FTS5
// tokenizer), so a search finds the same on both.
func TestSearchTextAgreesWithPostgres(t *testing.T) {
	db := newPostgres(t)
	for _, text := range []string{
		"naïve café", "ΚΑΛΗΜΈΡΑ καλημέρας ΟΔΟΣ", "東京タワーに行く", "我爱北京天安门 2024年", "서울에서 만나요", "ＡＢＣ ﬁle ｶﾞｯｺｳ x²",
		`bob@example.com 3.14 foo-bar_baz don't C++ "quoted" (a|b) ~/path\to`, "Ёлка Straße İstanbul ǅemal", "e\u0301te\u0301 «guillemets» — dash",
		"𠮷野家", "mixed東京2024text",
	} {
		want := sortedSet(sqlstore.SearchKeys(text))
		got, err := db.RawColumn(context.Background(), "SELECT lexeme FROM unnest(to_tsvector('simple', taskwire_search_text(?))) ORDER BY lexeme", text)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(sortedSet(got), want) {
			t.Errorf("%q: PostgreSQL holds %q, SQLite %q", text, sortedSet(got), want)
		}
	}
}

func sortedSet[T cmp.Ordered](s []T) []T {
	s = slices.Clone(s)
	slices.Sort(s)
	return slices.Compact(s)
}

// searchIDs runs a search as user 1 in db and returns the task ids found.
func searchIDs(t *testing.T, db *sqlstore.DB, userID int64, q string) []int64 {
	t.Helper()
	query, err := taskwire.ParseSearchQuery(q)
	if err != nil {
		t.Fatal(err)
	}
	res, err := db.SearchTasks(context.Background(), userID, query, taskwire.MaxSearchLimit)
	if err != nil {
		t.Fatalf("SearchTasks(%q): %v", q, err)
	}
	ids := []int64{}
	for _, r := range res {
		ids = append(ids, r.Task.ID)
	}
	return ids
}

// TestSearchAdoptedSeed: adopting the seed service's database indexes its
// tasks.
func TestSearchAdoptedSeed(t *testing.T) {
	path, _ := seedFixture(t, t.TempDir())
	db, err := sqlstore.Open(context.Background(), sqlstore.Target{Dialect: "sqlite", Path: path}, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	// User 2 (bob) is a member of both projects.
	for q, want := range map[string][]int64{"design logo": {3}, "svg": {3}, "ROTATE": {5}, "desc": {1, 2, 4, 5}} {
		if got := searchIDs(t, db, 2, q); !slices.Equal(sortedIDs(got), want) {
			t.Errorf("search %q in the adopted seed = %v, want %v", q, got, want)
		}
	}
}

func sortedIDs(ids []int64) []int64 {
	ids = slices.Clone(ids)
	slices.Sort(ids)
	return ids
}

// TestSearchUpgrade: migrating a database that holds tasks and comments
// to the search migration indexes them, on both databases.
func TestSearchUpgrade(t *testing.T) {
	ctx := context.Background()
	for name, open := range map[string]func(t *testing.T) *sqlstore.DB{
		"SQLite":     func(t *testing.T) *sqlstore.DB { return openSQLite(t, filepath.Join(t.TempDir(), "old.db")) },
		"PostgreSQL": openPostgres,
	} {
		t.Run(name, func(t *testing.T) {
			db := open(t)
			if err := db.MigrateTo(ctx, 5); err != nil {
				t.Fatal(err)
			}
			seedSearch(t, db)
			if err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			for _, q := range []string{"naive", "東京", "καλημερα", "remark"} {
				if got := searchIDs(t, db, 1, q); !slices.Equal(got, []int64{1}) {
					t.Errorf("search %q after the upgrade = %v, want [1]", q, got)
				}
			}
		})
	}
}

// TestSearchImported: a database taskwire import copied into PostgreSQL
// is searchable at once, comments included, with nothing to rebuild.
func TestSearchImported(t *testing.T) {
	src, path, closeSrc := newSource(t)
	before := map[string][]int64{}
	queries := []string{"task", "déscription quoted", "task 3"}
	comments, err := src.RawColumn(context.Background(), "SELECT body FROM comments ORDER BY id")
	if err != nil || len(comments) == 0 {
		t.Fatalf("comments of the source: %v %v", comments, err)
	}
	queries = append(queries, comments...)
	// fillSource's users 1–3 are members of one project or two.
	found := func(db *sqlstore.DB, q string) []int64 {
		var ids []int64
		for u := range int64(3) {
			ids = append(ids, searchIDs(t, db, u+1, q)...)
		}
		return sortedSet(ids)
	}
	for _, q := range queries {
		if before[q] = found(src, q); len(before[q]) == 0 {
			t.Fatalf("search %q in the source finds nothing", q)
		}
	}
	if err := closeSrc(); err != nil {
		t.Fatal(err)
	}
	dst := newPostgres(t)
	if _, err := sqlstore.Import(context.Background(), path, dst, nil); err != nil {
		t.Fatal(err)
	}
	for _, q := range queries {
		if got := found(dst, q); !slices.Equal(got, before[q]) {
			t.Errorf("search %q after the import = %v, before %v", q, got, before[q])
		}
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatal(err)
	}
}

// TestSearchOtherProgramsWrite: a program other than Taskwire (here the
// sqlite3 shell, which has none of Taskwire's functions) can insert and
// edit tasks and comments and delete them in the file, and what it wrote
// is searchable once Taskwire starts again; a write of Taskwire's own is
// searchable as it commits.
func TestSearchOtherProgramsWrite(t *testing.T) {
	shell := testenv.Program(t, "sqlite3")
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "shared.db")
	db, err := sqlstore.Open(ctx, sqlstore.Target{Dialect: "sqlite", Path: path}, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	seedSearch(t, db)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	const ts = "2025-03-14T15:09:26.000000Z"
	out, err := exec.Command(shell, "-bail", path,
		`INSERT INTO tasks (id, title, description, status, project_id, version, created_at, updated_at)
			VALUES (2, 'zebra crossing', 'stripes', 'TODO', 1, 1, '`+ts+`', '`+ts+`');`,
		`INSERT INTO tasks (id, title, description, status, project_id, version, created_at, updated_at)
			VALUES (3, 'okapi', NULL, 'TODO', 1, 1, '`+ts+`', '`+ts+`');`,
		`INSERT INTO comments (task_id, project_id, author_id, body, created_at, updated_at)
			VALUES (3, 1, 1, 'walrus', '`+ts+`', '`+ts+`');`,
		`UPDATE tasks SET title = 'giraffe' WHERE id = 1;`,
		`UPDATE comments SET body = 'a note on capybaras' WHERE task_id = 1;`,
		`DELETE FROM comments WHERE task_id = 3;`,
		`DELETE FROM tasks WHERE id = 3;`,
	).CombinedOutput()
	if err != nil {
		t.Fatalf("sqlite3: %v\n%s", err, out)
	}

	db = openSQLite(t, path)
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	for q, want := range map[string][]int64{
		"giraffe": {1}, "naive": {}, "capybaras": {1}, "remark": {},
		"zebra": {2}, "stripes": {2}, "okapi": {}, "walrus": {},
	} {
		if got := searchIDs(t, db, 1, q); !slices.Equal(got, want) {
			t.Errorf("search %q after the shell's writes = %v, want %v", q, got, want)
		}
	}

	// The shell changes the file while Taskwire has it open: a write of
	// Taskwire's own indexes that too.
	if out, err := exec.Command(shell, "-bail", path, `UPDATE tasks SET description = 'hippo' WHERE id = 2;`).CombinedOutput(); err != nil {
		t.Fatalf("sqlite3: %v\n%s", err, out)
	}
	svc := taskwire.NewService(db, testenv.Discard{}, nil, taskwire.Options{})
	if _, err := svc.CreateComment(ctx, taskwire.User{ID: 1}, 1, "about the hyena", taskwire.IdempotencyKey{}); err != nil {
		t.Fatal(err)
	}
	for q, want := range map[string][]int64{"hyena": {1}, "hippo": {2}, "stripes": {}} {
		if got := searchIDs(t, db, 1, q); !slices.Equal(got, want) {
			t.Errorf("search %q after a write of Taskwire's = %v, want %v", q, got, want)
		}
	}
}
