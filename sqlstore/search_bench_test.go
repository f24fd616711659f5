package sqlstore_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/taskwire/taskwire"
	"github.com/taskwire/taskwire/sqlstore"
	"github.com/taskwire/taskwire/storetest"
)

// BenchmarkSearch measures full-text search on SQLite and PostgreSQL over
// a generated corpus: TASKWIRE_SEARCH_BENCH_TASKS tasks (default 2,000)
// with three comments each on average, in projects of 500 tasks, half of
// which the searching user is a member of. The rows are loaded with plain
// SQL in the benchmark's own database (the index triggers run as they
// would in production). Each sub-benchmark runs one kind of query through
// a snapshot read, as the service does, and reports the latency's p50 and
// p99 besides the mean. For the figures of BENCHMARKS.md:
//
//	TASKWIRE_SEARCH_BENCH_TASKS=100000 go test ./sqlstore -run '^$' -bench BenchmarkSearch -benchtime 200x -timeout 60m
func BenchmarkSearch(b *testing.B) {
	tasks := 2000
	if s := os.Getenv("TASKWIRE_SEARCH_BENCH_TASKS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 100 {
			b.Fatalf("TASKWIRE_SEARCH_BENCH_TASKS=%q: want a number of tasks, at least 100", s)
		}
		tasks = n
	}
	ctx := context.Background()
	for _, store := range []struct {
		name   string
		target func(b *testing.B) sqlstore.Target
	}{
		{"sqlite", func(b *testing.B) sqlstore.Target {
			return sqlstore.Target{Dialect: "sqlite", Path: filepath.Join(b.TempDir(), "search.db")}
		}},
		{"postgres", func(b *testing.B) sqlstore.Target {
			t, err := sqlstore.ParseURL(storetest.PostgresURL(b))
			if err != nil {
				b.Fatal(err)
			}
			return t
		}},
	} {
		b.Run(store.name, func(b *testing.B) {
			db, err := sqlstore.Open(ctx, store.target(b), sqlstore.Options{})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { db.Close() })
			if err := db.Migrate(ctx); err != nil {
				b.Fatal(err)
			}
			c := loadSearchCorpus(b, db, tasks)
			for _, kind := range c.kinds() {
				b.Run(kind.name, func(b *testing.B) {
					var took []time.Duration
					found := 0
					i := 0
					for b.Loop() {
						q := kind.queries[i%len(kind.queries)]
						i++
						start := time.Now()
						n, err := kind.run(ctx, db, q)
						took = append(took, time.Since(start))
						if err != nil {
							b.Fatalf("%q: %v", q, err)
						}
						found += n
					}
					slices.Sort(took)
					pct := func(p float64) float64 {
						return float64(took[min(len(took)-1, int(p*float64(len(took))))].Microseconds()) / 1000
					}
					b.ReportMetric(pct(0.50), "p50-ms")
					b.ReportMetric(pct(0.99), "p99-ms")
					b.ReportMetric(float64(found)/float64(len(took)), "results/op")
				})
			}
		})
	}
}

// searchCorpus is what loadSearchCorpus wrote: its vocabulary, most
// frequent first (Zipf draws by index), and the projects the user (id 1)
// is a member of.
type searchCorpus struct {
	vocab   []string
	member  []int64
	tasksOf int // tasks per project
}

// searchKind is one kind of query.
type searchKind struct {
	name    string
	queries []string
	run     func(ctx context.Context, db *sqlstore.DB, q string) (int, error)
}

func (c *searchCorpus) kinds() []searchKind {
	search := func(ctx context.Context, db *sqlstore.DB, q string) (int, error) {
		query, err := taskwire.ParseSearchQuery(q)
		if err != nil {
			return 0, err
		}
		var n int
		err = db.View(ctx, func(r taskwire.Reader) error {
			res, err := r.SearchTasks(ctx, 1, query, taskwire.DefaultSearchLimit)
			n = len(res)
			return err
		})
		return n, err
	}
	list := func(ctx context.Context, db *sqlstore.DB, q string) (int, error) {
		ts, err := db.Tasks(ctx, c.member[0], taskwire.TaskFilter{Query: q}, taskwire.Page{Limit: 50})
		return len(ts), err
	}
	words := func(from, to int) []string { return c.vocab[from:min(to, len(c.vocab))] }
	var pairs []string
	for i, w := range words(20, 60) {
		pairs = append(pairs, w+" "+c.vocab[300+i*7])
	}
	return []searchKind{
		// A word in a large share of the tasks: every match is ranked.
		{"common-word", words(0, 5), search},
		{"mid-word", words(100, 140), search},
		{"rare-word", words(1500, 1600), search},
		{"two-words", pairs, search},
		{"accent-folded", []string{"NAIVE", "naïve", "Naive"}, search},
		{"japanese", []string{"東京", "タワー"}, search},
		{"greek-upper", []string{"ΚΑΛΗΜΕΡΑ"}, search},
		{"no-match", []string{"zzqqxx", "qqzzyy"}, search},
		{"list-filter-mid-word", words(100, 140), list},
	}
}

// loadSearchCorpus writes user 1, projects of 500 tasks (user 1 a member of
// every other one), the tasks and 3 comments per task on average, with
// words drawn from a Zipf-distributed vocabulary of 5,000, and a few in
// other scripts.
func loadSearchCorpus(b *testing.B, db *sqlstore.DB, tasks int) *searchCorpus {
	b.Helper()
	ctx := context.Background()
	rnd := rand.New(rand.NewPCG(1, 2))
	c := &searchCorpus{tasksOf: 500}
	syllables := strings.Fields("ka lo mi ne ta ru so vi pe da gu ri mo na te lu sa ko be fi")
	seen := map[string]bool{}
	for len(c.vocab) < 5000 {
		var w strings.Builder
		for range 2 + rnd.IntN(3) {
			w.WriteString(syllables[rnd.IntN(len(syllables))])
		}
		if !seen[w.String()] {
			seen[w.String()] = true
			c.vocab = append(c.vocab, w.String())
		}
	}
	zipf := rand.NewZipf(rnd, 1.1, 2, uint64(len(c.vocab)-1))
	text := func(min, max int) string {
		n := min + rnd.IntN(max-min+1)
		ws := make([]string, n)
		for i := range ws {
			ws[i] = c.vocab[zipf.Uint64()]
		}
		return strings.Join(ws, " ")
	}
	projects := max(2, (tasks+c.tasksOf-1)/c.tasksOf)
	const ts = "2025-03-14T15:09:26.000000Z"
	began := time.Now()
	err := db.BulkExec(ctx, func(exec func(string, ...any) error) error {
		if err := exec("INSERT INTO users (id, email, username, hashed_password, created_at) VALUES (1, 'bench@example.com', 'bench', 'x', ?)", ts); err != nil {
			return err
		}
		for p := 1; p <= projects; p++ {
			if err := exec("INSERT INTO projects (id, name, owner_id, created_at, updated_at) VALUES (?, ?, 1, ?, ?)", p, fmt.Sprint("p", p), ts, ts); err != nil {
				return err
			}
			if p%2 == 1 {
				c.member = append(c.member, int64(p))
				if err := exec("INSERT INTO project_members (project_id, user_id, created_at) VALUES (?, 1, ?)", p, ts); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	const batch = 500
	var comments int
	for first := 1; first <= tasks; first += batch {
		err := db.BulkExec(ctx, func(exec func(string, ...any) error) error {
			var rows []string
			var args []any
			var crows []string
			var cargs []any
			for id := first; id < first+batch && id <= tasks; id++ {
				title, desc := text(3, 8), any(nil)
				switch r := rnd.IntN(200); {
				case r == 0:
					title = "東京タワーに行く " + title
				case r == 1:
					title = "Καλημέρα " + title
				case r < 4:
					desc = "a naïve plan: " + text(10, 40)
				case r < 140:
					desc = text(10, 60)
				}
				project := 1 + (id-1)/c.tasksOf
				rows = append(rows, "(?, ?, ?, 'TODO', ?, 1, ?, ?)")
				args = append(args, id, title, desc, project, ts, ts)
				for range rnd.IntN(7) { // 3 on average
					crows = append(crows, "(?, ?, 1, ?, ?, ?)")
					cargs = append(cargs, id, project, text(5, 40), ts, ts)
				}
			}
			comments += len(crows)
			if err := exec("INSERT INTO tasks (id, title, description, status, project_id, version, created_at, updated_at) VALUES "+strings.Join(rows, ", "), args...); err != nil {
				return err
			}
			if len(crows) == 0 {
				return nil
			}
			return exec("INSERT INTO comments (task_id, project_id, author_id, body, created_at, updated_at) VALUES "+strings.Join(crows, ", "), cargs...)
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	if db.Postgres() {
		// As autovacuum would soon: the planner needs the tables' statistics.
		if err := db.BulkExec(ctx, func(exec func(string, ...any) error) error { return exec("ANALYZE") }); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("loaded %d tasks, %d comments in %d projects in %v", tasks, comments, projects, time.Since(began).Round(time.Millisecond))
	return c
}
