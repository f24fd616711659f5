package sqlstore

import (
	"context"
	"database/sql"
	"strconv"
	"strings"

	"github.com/taskwire/taskwire"
)

// Full-text search. Each task has one document in the index table
// task_search — its title, its description and the bodies of its comments
// — kept up to date in the transaction of every write to tasks and
// comments: on PostgreSQL by triggers (migrations/postgres/00006_search.sql),
// on SQLite by the writer just before each commit, from the tasks triggers
// noted as stale (search_index.go), so no store method does anything for
// it. On SQLite it is an FTS5 table (contentless:
// the text lives in tasks and comments only), ranked by bm25 with the
// title weighing 10, the description 4 and the comments 1; on PostgreSQL a
// tsvector per task (title weight A, description B, comments C) under a
// GIN index, ranked by ts_rank. User input never reaches either as query
// syntax: every word is bound as a parameter and quoted as a phrase.

// maxSearchWords bounds the words a store looks up; a query of
// MaxSearchQueryLen characters has at most 100.
const maxSearchWords = 100

// snippetComments is how many of a task's comments, newest first, a
// snippet is looked for in.
const snippetComments = 50

// searchDialect is how one database looks words up in its index.
type searchDialect struct {
	// ids returns a query of the ids of the tasks that match every word.
	ids func(words []string) (string, []any)
	// ranked returns a query of the tasks (taskColumnsT) that match every
	// word, with their project's name, in projects userID is a member of,
	// best first, at most limit.
	ranked func(words []string, userID int64, limit int) (string, []any)
}

// noTask is a query of no ids, for a query without words.
const noTask = "SELECT 0 WHERE 1 = 0"

var sqliteSearch = &searchDialect{
	ids: func(words []string) (string, []any) {
		if len(words) == 0 {
			return noTask, nil
		}
		return "SELECT rowid FROM task_search WHERE task_search MATCH ?", []any{ftsQuery(words)}
	},
	ranked: func(words []string, userID int64, limit int) (string, []any) {
		return `SELECT ` + taskColumnsT + `, p.name FROM task_search
			JOIN tasks t ON t.id = task_search.rowid JOIN projects p ON p.id = t.project_id
			WHERE task_search MATCH ? AND t.project_id IN (SELECT project_id FROM project_members WHERE user_id = ?)
			ORDER BY bm25(task_search, 10.0, 4.0, 1.0), t.id LIMIT ?`, []any{ftsQuery(words), userID, limit}
	},
}

// ftsQuery is an FTS5 query of every word, each folded (searchText) and
// quoted as a phrase, so that nothing in it is syntax: "w1" AND "w2".
func ftsQuery(words []string) string {
	var b strings.Builder
	for i, w := range words {
		if i > 0 {
			b.WriteString(" AND ")
		}
		b.WriteByte('"')
		b.WriteString(strings.ReplaceAll(searchText(w), `"`, `""`))
		b.WriteByte('"')
	}
	return b.String()
}

var postgresSearch = &searchDialect{
	ids: func(words []string) (string, []any) {
		if len(words) == 0 {
			return noTask, nil
		}
		q, args := tsQuery(words)
		return "WITH w AS MATERIALIZED (SELECT " + q + " AS q) SELECT s.task_id FROM w JOIN task_search s ON s.doc @@ w.q", args
	},
	ranked: func(words []string, userID int64, limit int) (string, []any) {
		q, args := tsQuery(words)
		// ts_rank's weights, D to A: comments are C, the description B,
		// the title A (its defaults, spelled out).
		return `WITH w AS MATERIALIZED (SELECT ` + q + ` AS q)
			SELECT ` + taskColumnsT + `, p.name FROM w
			JOIN task_search s ON s.doc @@ w.q JOIN tasks t ON t.id = s.task_id JOIN projects p ON p.id = t.project_id
			WHERE t.project_id IN (SELECT project_id FROM project_members WHERE user_id = ?)
			ORDER BY ts_rank('{0.1, 0.2, 0.4, 1.0}', s.doc, w.q) DESC, t.id LIMIT ?`, append(args, userID, limit)
	},
}

// tsQuery is a tsquery expression of every word, each folded by the
// database (taskwire_search_text) and made a phrase, ANDed. A word is
// bound as a parameter: phraseto_tsquery reads no operators. The queries
// compute it once, in a MATERIALIZED CTE: in the generic plan of a
// prepared statement an inlined expression is evaluated again for every
// row matched and ranked (a word in 10,000 documents: 105 ms, against 25).
func tsQuery(words []string) (string, []any) {
	var b strings.Builder
	args := make([]any, len(words))
	for i, w := range words {
		if i > 0 {
			b.WriteString(" && ")
		}
		b.WriteString("phraseto_tsquery('simple', taskwire_search_text(?))")
		args[i] = w
	}
	return b.String(), args
}

// searchWords caps the words a store looks up.
func searchWords(words []string) []string {
	return words[:min(len(words), maxSearchWords)]
}

// searchFilter is the condition of Tasks for TaskFilter.Query: the task's
// id is among those matching every word of query.
func (s reads) searchFilter(query string) (string, []any) {
	ids, args := s.d.search.ids(searchWords(taskwire.SearchWords(query)))
	return "id IN (" + ids + ")", args
}

// SearchTasks implements taskwire.Reader.
func (s reads) SearchTasks(ctx context.Context, userID int64, q taskwire.SearchQuery, limit int) ([]taskwire.SearchResult, error) {
	words := searchWords(q.Words)
	if len(words) == 0 || limit <= 0 {
		return []taskwire.SearchResult{}, nil
	}
	query, args := s.d.search.ranked(words, userID, limit)
	rows, err := s.query(ctx, query, args...)
	out, err := list(rows, err, func(r *sql.Rows) (taskwire.SearchResult, error) {
		var res taskwire.SearchResult
		var err error
		res.Task, err = scanTask(r, &res.Project.Name)
		res.Project.ID = res.Task.ProjectID
		return res, err
	})
	if err != nil {
		return nil, err
	}
	return out, s.snippets(ctx, out, phrases(words))
}

// snippets sets each result's snippet from the first of its description,
// its comments (newest first) and its title where a word occurs, or else
// from the beginning of its description or title.
func (s reads) snippets(ctx context.Context, results []taskwire.SearchResult, ph [][]string) error {
	var pending []int // results whose description has no word
	for i := range results {
		t := results[i].Task
		if t.Description != nil {
			if sn, ok := snippet(*t.Description, ph); ok {
				results[i].Snippet = sn
				continue
			}
		}
		pending = append(pending, i)
	}
	if len(pending) == 0 {
		return nil
	}
	comments, err := s.recentComments(ctx, results, pending)
	if err != nil {
		return err
	}
	for _, i := range pending {
		r := &results[i]
		for _, body := range comments[r.Task.ID] {
			if sn, ok := snippet(body, ph); ok {
				r.Snippet = sn
				break
			}
		}
		if r.Snippet != "" {
			continue
		}
		if sn, ok := snippet(r.Task.Title, ph); ok {
			r.Snippet = sn
		} else if r.Task.Description != nil && *r.Task.Description != "" {
			r.Snippet = leadSnippet(*r.Task.Description)
		} else {
			r.Snippet = leadSnippet(r.Task.Title)
		}
	}
	return nil
}

// recentComments returns the bodies of the newest snippetComments comments
// of the pending results' tasks, newest first, by task id.
func (s reads) recentComments(ctx context.Context, results []taskwire.SearchResult, pending []int) (map[int64][]string, error) {
	marks := make([]string, len(pending))
	args := make([]any, len(pending))
	for j, i := range pending {
		marks[j] = "?"
		args[j] = results[i].Task.ID
	}
	rows, err := s.query(ctx, `SELECT task_id, body FROM (
			SELECT task_id, body, id, row_number() OVER (PARTITION BY task_id ORDER BY id DESC) AS n
			FROM comments WHERE task_id IN (`+strings.Join(marks, ", ")+`)) c
		WHERE n <= `+strconv.Itoa(snippetComments)+` ORDER BY task_id, id DESC`, args...)
	if err != nil {
		return nil, dbErr(err)
	}
	defer rows.Close()
	out := map[int64][]string{}
	for rows.Next() {
		var id int64
		var body string
		if err := rows.Scan(&id, &body); err != nil {
			return nil, dbErr(err)
		}
		out[id] = append(out[id], body)
	}
	return out, dbErr(rows.Err())
}
