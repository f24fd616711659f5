package storetest

import (
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/taskwire/taskwire"
)

// HostileSearchQueries are queries that carry the syntax of FTS5, tsquery,
// SQL and the like, and text no database takes (NUL, invalid UTF-8): a
// search must treat every one as words or nothing, and never fail. The
// fuzz target of the search (sqlstore) starts from them.
var HostileSearchQueries = []string{
	``, ` `, "\t\n", `"`, `""`, `"unterminated`, `"a" "b"`, `'`, `''`, `a'b`, `(`, `)`, `()`, `(a OR b)`,
	`*`, `a*`, `*a`, `:`, `a:b`, `title:a`, `{title description}: a`, `-`, `-a`, `--`, `a -b`, `^a`, `+a`,
	`NEAR`, `NEAR(a b)`, `NEAR(a b, 2)`, `a NEAR/3 b`, `AND`, `a AND`, `OR`, `a OR b`, `NOT`, `NOT a`, `a NOT b`,
	`\`, `\\`, `\"`, `a\`, "\x00", "a\x00b", "\xff", "\xfe\xff", "a\xffb", "\xc3", "\xed\xa0\x80",
	`!`, `&`, `|`, `<->`, `a <-> b`, `a & !b`, `a:*`, `:*`, `a:A`, `!!a`, `%`, `_`, `%a_`, `?`, `$1`,
	`'; DROP TABLE tasks; --`, `SELECT * FROM tasks`, `/* a */`, `a;b`, `@@`, `||`, "\u0301", "e\u0301",
	"\u200b", "a\u200bb", "😀", "a😀b", "\ufeffa", "\U0010ffff", "ＡＮＤ", "ﬁ", "㈱", "ｶﾀｶﾅ",
	strings.Repeat("a ", 100), strings.Repeat("東", 200), strings.Repeat(`"`, 200), strings.Repeat("(", 200),
	strings.Repeat("x", 200), strings.Repeat("é", 200),
}

func testSearch(t *testing.T, newStore func(t *testing.T) taskwire.Store) {
	t.Run("Relevance", func(t *testing.T) {
		s, w := newSearchWorld(t, newStore)
		inTitle := w.task("zebra crossing", "paint the lines")
		inDescription := w.task("road works", "a zebra stands at the corner of the road")
		inComment := w.task("traffic", "red lights")
		w.comment(inComment, "we saw a zebra there yesterday")
		w.task("nothing here", "at all")
		w.want("zebra", inTitle, inDescription, inComment)
		// Every word must occur, in any of the fields.
		w.want("zebra lights", inComment)
		w.want("zebra paint", inTitle)
		w.want("road zebra", inDescription)
		w.want("zebra giraffe")
		w.want("ZEBRA Zebra zebra", inTitle, inDescription, inComment)
		if got := search(t, s, w.alice, "zebra", 2); !slices.Equal(resultIDs(got), []int64{inTitle.ID, inDescription.ID}) {
			t.Errorf("limit 2: %v", resultIDs(got))
		}
		// More occurrences rank higher among matches of the same field.
		once := w.task("review", "a zebra and one more horse, cow everywhere")
		twice := w.task("review", "a zebra and one more zebra, zebra everywhere")
		if got := resultIDs(search(t, s, w.alice, "review zebra", 10)); !slices.Equal(got, []int64{twice.ID, once.ID}) {
			t.Errorf("review zebra = %v, want %d (three) before %d (one)", got, twice.ID, once.ID)
		}
	})

	t.Run("AccentsAndCase", func(t *testing.T) {
		_, w := newSearchWorld(t, newStore)
		naive := w.task("Naïve café", "")
		plain := w.task("naive approach", "")
		german := w.task("Über Straße", "")
		full := w.task("ＦＵＬＬ width", "")
		russian := w.task("Один ёж", "")
		w.want("naive", naive, plain)
		w.want("NAÏVE", naive, plain)
		w.want("naïve approach", plain)
		w.want("CAFE", naive)
		w.want("cafè", naive)
		w.want("uber", german)
		w.want("full", full)
		w.want("ОДИН еж", russian)
		planning := w.task("planning", "")
		w.want("plan") // words are whole: no prefixes
		w.want("PLANNING", planning)
		w.want("ﬁ") // a ligature of letters no task holds
	})

	t.Run("Greek", func(t *testing.T) {
		_, w := newSearchWorld(t, newStore)
		hello := w.task("Καλημέρα κόσμε", "")
		road := w.task("ΟΔΟΣ", "")
		w.want("ΚΑΛΗΜΕΡΑ", hello)
		w.want("καλημερα", hello)
		w.want("καλημέρα", hello)
		w.want("Κόσμε", hello)
		w.want("οδος", road)
		w.want("ΟΔΌΣ", road)
	})

	t.Run("ScriptsWithoutSpaces", func(t *testing.T) {
		_, w := newSearchWorld(t, newStore)
		tokyo := w.task("東京タワーに行く", "")
		beijing := w.task("report", "我爱北京天安门")
		seoul := w.task("서울에서 만나요", "")
		kana := w.task("ｶﾀｶﾅ", "")
		w.want("東京", tokyo)
		w.want("タワー", tokyo)
		w.want("東京タワーに行く", tokyo)
		w.want("東", tokyo)
		w.want("京東")
		w.want("大阪")
		w.want("北京", beijing)
		w.want("北京 report", beijing)
		w.want("서울", seoul)
		w.want("カタカナ", kana)
	})

	t.Run("Reindexed", func(t *testing.T) {
		s, w := newSearchWorld(t, newStore)
		task := w.task("apricot", "banana")
		c := w.comment(task, "cherry")
		w.want("apricot", task)
		task.Title, task.Description = "damson", ptr("elderberry")
		task.Version++
		update(t, s, func(tx taskwire.Tx) error { return tx.UpdateTask(t.Context(), task) })
		w.want("apricot")
		w.want("banana")
		w.want("damson elderberry cherry", task)
		// A change of something else keeps the document.
		task.Status = taskwire.StatusDone
		task.Version++
		update(t, s, func(tx taskwire.Tx) error { return tx.UpdateTask(t.Context(), task) })
		w.want("damson", task)

		c.Body = "fig"
		update(t, s, func(tx taskwire.Tx) error { return tx.UpdateComment(t.Context(), c) })
		w.want("cherry")
		w.want("fig", task)
		w.comment(task, "grape")
		update(t, s, func(tx taskwire.Tx) error { return tx.DeleteComment(t.Context(), c.ID) })
		w.want("fig")
		w.want("grape damson", task)

		gone := w.task("grape too", "")
		w.comment(gone, "kiwi")
		w.want("grape", gone, task) // in the title, then in a comment
		update(t, s, func(tx taskwire.Tx) error { return tx.DeleteTask(t.Context(), gone.ID) })
		w.want("grape", task)
		w.want("kiwi")

		update(t, s, func(tx taskwire.Tx) error { return tx.DeleteProject(t.Context(), w.p.ID) })
		w.want("grape")
	})

	t.Run("ConcurrentComments", func(t *testing.T) {
		// Units of work with different write keys commit in parallel on
		// stores that can (PostgreSQL): each rewrites the same task's
		// document, and none may lose another's comment.
		s, w := newSearchWorld(t, newStore)
		task := w.task("busy", "")
		words := []string{"alfa", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"}
		var wg sync.WaitGroup
		errs := make(chan error, len(words))
		for i, word := range words {
			wg.Go(func() {
				ctx := taskwire.WithWriteKey(t.Context(), int64(i+1))
				errs <- s.Update(ctx, func(tx taskwire.Tx) error {
					_, err := tx.CreateComment(ctx, taskwire.Comment{TaskID: task.ID, ProjectID: task.ProjectID, AuthorID: w.alice.ID,
						Body: "word " + word, CreatedAt: at(0), UpdatedAt: at(0)})
					return err
				})
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		w.want(strings.Join(words, " "), task)
	})

	t.Run("ProjectIsolation", func(t *testing.T) {
		s, w := newSearchWorld(t, newStore)
		mine := w.task("shared secret", "")
		bob := createUser(t, s, "bob")
		theirs := createProject(t, s, bob, "theirs")
		addMember(t, s, theirs.ID, bob)
		hidden := createTaskWith(t, s, taskwire.Task{Title: "bob's secret", Status: taskwire.StatusTodo, ProjectID: theirs.ID})
		w.want("secret", mine)
		if got := resultIDs(search(t, s, bob, "secret", 10)); !slices.Equal(got, []int64{hidden.ID}) {
			t.Errorf("bob finds %v, want only %d", got, hidden.ID)
		}
		addMember(t, s, theirs.ID, w.alice)
		w.want("secret", mine, hidden)
		res := search(t, s, w.alice, "bob", 10)
		if len(res) != 1 || res[0].Project != (taskwire.ProjectRef{ID: theirs.ID, Name: "theirs"}) {
			t.Errorf("result %+v, want task %d of project {%d theirs}", res, hidden.ID, theirs.ID)
		}
		stranger := createUser(t, s, "carol")
		if got := search(t, s, stranger, "secret", 10); len(got) != 0 {
			t.Errorf("a user of no project finds %v", resultIDs(got))
		}
		// The list filter keeps to its project.
		if got := listTasks(t, s, w.p.ID, taskwire.TaskFilter{Query: "secret"}); !slices.Equal(got, []int64{mine.ID}) {
			t.Errorf("Tasks(q=secret) = %v, want %d", got, mine.ID)
		}
	})

	t.Run("TaskFilter", func(t *testing.T) {
		s, w := newSearchWorld(t, newStore)
		a := w.task("alpha one", "")
		b := w.task("beta", "alpha two")
		c := w.task("gamma", "")
		w.comment(c, "Alpha three")
		w.task("delta", "")
		done := taskwire.StatusDone
		b.Status, b.Version = done, 2
		update(t, s, func(tx taskwire.Tx) error { return tx.UpdateTask(t.Context(), b) })
		tests := []struct {
			name   string
			filter taskwire.TaskFilter
			want   []int64
		}{
			{"IDOrder", taskwire.TaskFilter{Query: "alpha"}, []int64{a.ID, b.ID, c.ID}},
			{"AllWords", taskwire.TaskFilter{Query: "alpha two"}, []int64{b.ID}},
			{"WithStatus", taskwire.TaskFilter{Query: "alpha", Status: &done}, []int64{b.ID}},
			{"NoWordKeepsNone", taskwire.TaskFilter{Query: `"*"`}, nil},
			{"NoMatch", taskwire.TaskFilter{Query: "omega"}, nil},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				if got := listTasks(t, s, w.p.ID, tc.filter); !slices.Equal(got, tc.want) {
					t.Errorf("ids = %v, want %v", got, tc.want)
				}
			})
		}
		page, err := s.Tasks(t.Context(), w.p.ID, taskwire.TaskFilter{Query: "alpha"}, taskwire.Page{Limit: 2, After: a.ID})
		if err != nil || !slices.Equal(taskIDs(page), []int64{b.ID, c.ID}) {
			t.Errorf("page after %d = %v, %v", a.ID, taskIDs(page), err)
		}
	})

	t.Run("Snippets", func(t *testing.T) {
		s, w := newSearchWorld(t, newStore)
		long := strings.Repeat("lorem ipsum dolor sit amet ", 10) + "the Naïve plan\nworks " + strings.Repeat("consectetur adipiscing elit ", 10)
		inDesc := w.task("plan", long)
		inComment := w.task("other", "nothing to see")
		w.comment(inComment, "older remark about the plan")
		w.comment(inComment, "see the «naive» plan,   twice: naive")
		inTitle := w.task("naive title", "")
		tokyo := w.task("旅行", "来週は東京タワーに行く予定です")
		got := map[int64]string{}
		for _, r := range search(t, s, w.alice, "naive", 10) {
			got[r.Task.ID] = r.Snippet
		}
		if sn := got[inDesc.ID]; !strings.Contains(sn, "the «Naïve» plan works") || !strings.HasPrefix(sn, "…") || !strings.HasSuffix(sn, "…") ||
			len([]rune(sn)) > 200 || strings.Contains(sn, "\n") {
			t.Errorf("description snippet %q", sn)
		}
		if sn := got[inComment.ID]; sn != "see the ««naive»» plan, twice: «naive»" {
			t.Errorf("comment snippet %q", sn)
		}
		if sn := got[inTitle.ID]; sn != "«naive» title" {
			t.Errorf("title snippet %q", sn)
		}
		if res := search(t, s, w.alice, "東京", 10); len(res) != 1 || res[0].Task.ID != tokyo.ID || res[0].Snippet != "来週は«東京»タワーに行く予定です" {
			t.Errorf("東京: %+v", res)
		}
	})

	t.Run("HostileQueries", func(t *testing.T) {
		s, w := newSearchWorld(t, newStore)
		w.task(`"quoted" (parens) a*b title:x -minus NEAR AND OR NOT \back`, "naïve 東京")
		for _, q := range HostileSearchQueries {
			if query, err := taskwire.ParseSearchQuery(q); err == nil {
				if _, err := s.SearchTasks(t.Context(), w.alice.ID, query, 10); err != nil {
					t.Errorf("SearchTasks(%q): %v", q, err)
				}
			}
			// The store takes any text as a filter, however long.
			if _, err := s.Tasks(t.Context(), w.p.ID, taskwire.TaskFilter{Query: q + strings.Repeat(" w", 300)}, taskwire.Page{}); err != nil {
				t.Errorf("Tasks(q=%q): %v", q, err)
			}
		}
		// Syntax is no syntax: each of these is found as the words it holds.
		for _, q := range []string{`"quoted"`, `(parens)`, `title:x`, `-minus`, `a*b`, `NEAR AND OR NOT`, `\back`, `"naïve" OR`} {
			query, err := taskwire.ParseSearchQuery(q)
			if err != nil {
				t.Fatalf("ParseSearchQuery(%q): %v", q, err)
			}
			if got, err := s.SearchTasks(t.Context(), w.alice.ID, query, 10); err != nil || len(got) != 1 {
				t.Errorf("SearchTasks(%q) = %v, %v; want the task", q, resultIDs(got), err)
			}
		}
	})
}

// searchWorld is a project of alice's, a member, to search in.
type searchWorld struct {
	t     *testing.T
	s     taskwire.Store
	alice taskwire.User
	p     taskwire.Project
}

func newSearchWorld(t *testing.T, newStore func(t *testing.T) taskwire.Store) (taskwire.Store, *searchWorld) {
	s := newStore(t)
	alice := createUser(t, s, "alice")
	p := createProject(t, s, alice, "mine")
	addMember(t, s, p.ID, alice)
	return s, &searchWorld{t: t, s: s, alice: alice, p: p}
}

// task creates a task in the project; an empty description is none.
func (w *searchWorld) task(title, description string) taskwire.Task {
	w.t.Helper()
	var d *string
	if description != "" {
		d = &description
	}
	return createTaskWith(w.t, w.s, taskwire.Task{Title: title, Description: d, Status: taskwire.StatusTodo, ProjectID: w.p.ID})
}

// comment adds alice's comment to a task.
func (w *searchWorld) comment(task taskwire.Task, body string) taskwire.Comment {
	w.t.Helper()
	c := taskwire.Comment{TaskID: task.ID, ProjectID: task.ProjectID, AuthorID: w.alice.ID, Body: body, CreatedAt: at(0), UpdatedAt: at(0)}
	update(w.t, w.s, func(tx taskwire.Tx) (err error) {
		c, err = tx.CreateComment(w.t.Context(), c)
		return err
	})
	return c
}

// want checks that alice's search for q finds exactly want, in order.
func (w *searchWorld) want(q string, want ...taskwire.Task) {
	w.t.Helper()
	ids := []int64{}
	for _, t := range want {
		ids = append(ids, t.ID)
	}
	if got := resultIDs(search(w.t, w.s, w.alice, q, taskwire.MaxSearchLimit)); !slices.Equal(got, ids) {
		w.t.Errorf("search %q = %v, want %v", q, got, ids)
	}
}

// search runs a search in a snapshot, as the service does.
func search(t *testing.T, s taskwire.Store, u taskwire.User, q string, limit int) []taskwire.SearchResult {
	t.Helper()
	query, err := taskwire.ParseSearchQuery(q)
	if err != nil {
		t.Fatalf("ParseSearchQuery(%q): %v", q, err)
	}
	var out []taskwire.SearchResult
	err = s.View(t.Context(), func(r taskwire.Reader) (err error) {
		out, err = r.SearchTasks(t.Context(), u.ID, query, limit)
		return err
	})
	if err != nil {
		t.Fatalf("SearchTasks(%q): %v", q, err)
	}
	for _, r := range out {
		if r.Project.ID != r.Task.ProjectID || r.Project.Name == "" || r.Snippet == "" {
			t.Errorf("search %q: result %+v lacks its project or snippet", q, r)
		}
	}
	return out
}

func resultIDs(rs []taskwire.SearchResult) []int64 {
	ids := []int64{}
	for _, r := range rs {
		ids = append(ids, r.Task.ID)
	}
	return ids
}

func listTasks(t *testing.T, s taskwire.Store, projectID int64, f taskwire.TaskFilter) []int64 {
	t.Helper()
	ts, err := s.Tasks(t.Context(), projectID, f, taskwire.Page{})
	if err != nil {
		t.Fatalf("Tasks(%+v): %v", f, err)
	}
	if len(ts) == 0 {
		return nil
	}
	return taskIDs(ts)
}
