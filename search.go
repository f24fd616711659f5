package taskwire

import (
	"context"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Full-text search over tasks: what a query means is decided here, once;
// how words are folded and indexed is the store's (sqlstore/search.go).

// Limits of a search.
const (
	// MaxSearchQueryLen bounds a query, in characters (code points; an
	// invalid byte counts as one).
	MaxSearchQueryLen = 200
	// DefaultSearchLimit is how many results a search returns unless told.
	DefaultSearchLimit = 20
	// MaxSearchLimit is the most results one search returns.
	MaxSearchLimit = 100
)

// Messages of the search contract.
const (
	MsgSearchQueryNoWords = "Query must contain at least one word (letters or digits)"
	MsgSearchQueryTooLong = "Query must be at most 200 characters"
)

// SearchQuery is a parsed full-text query. A task matches it when its
// title, description and comments, taken together, contain every one of
// its words (AND); each word is compared whole, with case and accents
// folded by the store, and a word of a script written without spaces
// (Chinese, Japanese, Korean) is found inside a longer run of that script.
type SearchQuery struct {
	// Words are the query's distinct words in the order typed, never
	// empty in a query ParseSearchQuery returned.
	Words []string
}

// ParseSearchQuery reads what a user typed. Words are the maximal runs of
// letters, digits and combining marks that hold a letter or a digit;
// everything else separates them and means nothing: there is no operator
// or syntax, so quotes, parentheses, *, :, -, ^, backslashes, NUL and
// invalid UTF-8 are separators, and AND, OR, NOT and NEAR are words like
// any other. A word repeated (compared case-insensitively) counts once.
// Returns Invalid (field "q") when q is longer than MaxSearchQueryLen
// characters or holds no word.
func ParseSearchQuery(q string) (SearchQuery, error) {
	if utf8.RuneCountInString(q) > MaxSearchQueryLen {
		return SearchQuery{}, InvalidField("q", MsgSearchQueryTooLong)
	}
	words := SearchWords(q)
	if len(words) == 0 {
		return SearchQuery{}, InvalidField("q", MsgSearchQueryNoWords)
	}
	return SearchQuery{Words: words}, nil
}

// SearchWords returns the distinct words of q as ParseSearchQuery reads
// them, without its checks: possibly none, and as many as q holds.
func SearchWords(q string) []string {
	var words []string
	seen := map[string]bool{}
	start, hasLetter := -1, false
	flush := func(end int) {
		if start >= 0 && hasLetter {
			w := q[start:end]
			if k := strings.ToLower(w); !seen[k] {
				seen[k] = true
				words = append(words, w)
			}
		}
		start, hasLetter = -1, false
	}
	for i, r := range q {
		// An invalid byte reads as utf8.RuneError, a symbol: a separator.
		switch {
		case unicode.IsLetter(r) || unicode.IsNumber(r):
			if start < 0 {
				start = i
			}
			hasLetter = true
		case unicode.IsMark(r):
			if start < 0 {
				start = i // a mark alone is no word; one with a letter is
			}
		default:
			flush(i)
		}
	}
	flush(len(q))
	return words
}

// ProjectRef names a project.
type ProjectRef struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// SearchResult is one task a search found, with its project and a short
// excerpt of its text around the words found: plain text, each word found
// between « and », an ellipsis (…) where the text was cut.
type SearchResult struct {
	Task    Task       `json:"task"`
	Project ProjectRef `json:"project"`
	Snippet string     `json:"snippet"`
}

// SearchTasks finds the tasks of every project the caller is a member of
// whose title, description and comments contain every word of q, best
// match first (a word in the title counts most, then in the description,
// then in a comment), at most limit of them (0: DefaultSearchLimit).
// Projects the caller is not a member of are never searched. Returns
// Invalid (field "q") for a query without words or longer than
// MaxSearchQueryLen characters; Invalid (field "limit") for a limit
// outside 0–MaxSearchLimit.
func (s *Service) SearchTasks(ctx context.Context, actor User, q string, limit int) ([]SearchResult, error) {
	query, err := ParseSearchQuery(q)
	if err != nil {
		return nil, err
	}
	switch {
	case limit == 0:
		limit = DefaultSearchLimit
	case limit < 0 || limit > MaxSearchLimit:
		return nil, InvalidField("limit", "Limit must be 1 to 100")
	}
	var out []SearchResult
	err = s.store.View(ctx, func(r Reader) (err error) {
		out, err = r.SearchTasks(ctx, actor.ID, query, limit)
		return err
	})
	return out, err
}
