package taskwire

import (
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Comment is a member's remark on a task. Mentions holds the sorted,
// distinct ids of the project members its body names as @username, as of
// the last time the body was written; it is never nil.
type Comment struct {
	ID        int64     `json:"id"`
	TaskID    int64     `json:"task_id"`
	ProjectID int64     `json:"project_id"`
	AuthorID  int64     `json:"author_id"`
	Body      string    `json:"body"`
	Mentions  []int64   `json:"mentions" nullable:"false"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// MaxCommentLen bounds a comment's body, in characters (code points).
const MaxCommentLen = 10000

// validateCommentBody accepts 1 to MaxCommentLen characters of storable
// text. Like a task's title, the body is kept exactly as sent: it is not
// trimmed, and its length counts every character sent.
func validateCommentBody(body string) error {
	if n := utf8.RuneCountInString(body); n < 1 || n > MaxCommentLen {
		return InvalidField("body", "Body must be 1 to 10000 characters")
	}
	if !storable(body) {
		return InvalidField("body", "Body must be valid UTF-8 without NUL characters")
	}
	return nil
}

// Mentions returns the sorted, distinct ids of the members that body
// mentions. A mention is '@' followed by a member's username, compared
// case-insensitively, where the '@' starts the body or follows a character
// that is not part of a word (so "bob@ada.com" mentions nobody, "(@ada)"
// mentions ada) and the username ends the body or is followed by such a
// character ("@ada," and "@ada." mention ada, "@adam" does not). When
// several usernames fit, the longest wins ("@ada lovelace" names the
// member "ada lovelace" if there is one, else "ada"). Text inside code —
// between two runs of the same number of backticks, as in `@ada` or a
// ``` fenced block — mentions nobody. Members with an empty username are
// ignored.
func Mentions(body string, members []UserRef) []int64 {
	out := []int64{}
	if !strings.Contains(body, "@") {
		return out
	}
	prev := rune(-1) // the character before i; -1 at the start
	for i := 0; i < len(body); {
		r, size := utf8.DecodeRuneInString(body[i:])
		switch {
		case r == '`':
			end := codeSpanEnd(body, i)
			if end > i {
				i, prev = end, '`'
				continue
			}
			// An unclosed run is plain text: skip the whole run.
			n := backtickRun(body, i)
			i, prev = i+n, '`'
			continue
		case r == '@' && !isWordRune(prev):
			if id, n, ok := mentionAt(body[i+size:], members); ok {
				out = append(out, id)
				i += size + n
				prev, _ = utf8.DecodeLastRuneInString(body[:i])
				continue
			}
		}
		i, prev = i+size, r
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// mentionAt returns the member whose username s starts with, followed by
// the end of s or a character that is not part of a word, preferring the
// longest username; n is how many bytes of s it spans.
func mentionAt(s string, members []UserRef) (id int64, n int, ok bool) {
	for _, m := range members {
		if m.Username == "" {
			continue
		}
		k, match := prefixFold(s, m.Username)
		if !match {
			continue
		}
		if next, _ := utf8.DecodeRuneInString(s[k:]); k < len(s) && isWordRune(next) {
			continue
		}
		// The longest match wins; among equal spans, the smallest id, so
		// the answer never depends on the members' order.
		if !ok || k > n || k == n && m.ID < id {
			id, n, ok = m.ID, k, true
		}
	}
	return id, n, ok
}

// prefixFold reports whether s starts with prefix under simple Unicode
// case folding (as strings.EqualFold compares), and how many bytes of s
// the prefix covers.
func prefixFold(s, prefix string) (int, bool) {
	i := 0
	for _, pr := range prefix {
		if i >= len(s) {
			return 0, false
		}
		sr, size := utf8.DecodeRuneInString(s[i:])
		if !equalFoldRune(sr, pr) {
			return 0, false
		}
		i += size
	}
	return i, true
}

// equalFoldRune reports whether a and b are equal under simple case
// folding.
func equalFoldRune(a, b rune) bool {
	if a == b {
		return true
	}
	for r := unicode.SimpleFold(a); r != a; r = unicode.SimpleFold(r) {
		if r == b {
			return true
		}
	}
	return false
}

// isWordRune reports whether r is part of a word: a letter, a digit, a
// combining mark or '_'. -1 (before the start) is not.
func isWordRune(r rune) bool {
	return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)
}

// backtickRun returns how many backticks start s[i:].
func backtickRun(s string, i int) int {
	n := 0
	for i+n < len(s) && s[i+n] == '`' {
		n++
	}
	return n
}

// codeSpanEnd returns the index just after the code span that opens at
// s[i] (a run of n backticks closed by the next run of exactly n), or i if
// the run is never closed.
func codeSpanEnd(s string, i int) int {
	n := backtickRun(s, i)
	for j := i + n; j < len(s); {
		k := strings.IndexByte(s[j:], '`')
		if k < 0 {
			return i
		}
		j += k
		m := backtickRun(s, j)
		if m == n {
			return j + m
		}
		j += m
	}
	return i
}

// excerptLen bounds an Excerpt, in characters.
const excerptLen = 200

// Excerpt is the start of a comment's body for an email: its runs of white
// space (line breaks included) made single spaces, cut to 200 characters
// with an ellipsis when it is longer.
func Excerpt(body string) string {
	s := strings.Join(strings.Fields(body), " ")
	if utf8.RuneCountInString(s) <= excerptLen {
		return s
	}
	n := 0
	for i := range s {
		if n == excerptLen-1 {
			return strings.TrimRight(s[:i], " ") + "\u2026"
		}
		n++
	}
	return s
}
