package sqlstore

import (
	"database/sql/driver"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
	"modernc.org/sqlite"
)

// This file holds how text becomes searchable: the folding both the index
// and the queries go through, and the snippets of results. See search.go
// for the queries and docs/API.md ("Search") for the contract.
//
// SQLite indexes searchText(text) with FTS5's unicode61 tokenizer (every
// letter, digit and mark is a word character); PostgreSQL indexes its own
// taskwire_search_text(text) (migrations/postgres/00006_search.sql), which
// does the same in SQL, with to_tsvector('simple', ...). Queries go through
// the same function as the index on each database, so the two sides always
// agree.

// searchTextFunc is the SQL name of searchText on SQLite, called by the
// triggers that keep the index (migrations/sqlite/00006_search.sql).
const searchTextFunc = "taskwire_search_text"

func init() {
	// Registered with the driver, so every connection of the process has
	// it: the search migration (00006) fills the index through it. Since
	// 00008 no trigger calls it, so programs without it (the sqlite3
	// shell) can write tasks and comments; see search_index.go.
	sqlite.MustRegisterDeterministicScalarFunction(searchTextFunc, 1, func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
		switch v := args[0].(type) {
		case nil:
			return "", nil
		case string:
			return searchText(v), nil
		case []byte:
			return searchText(string(v)), nil
		default:
			return searchText(fmt.Sprint(v)), nil
		}
	})
}

// searchText folds text for the SQLite index and its queries: compatibility
// forms to their plain letters (NFKD: full-width Ａ is A, ﬁ is fi, half-width
// ｶ is カ), accents off (the combining marks U+0300–U+036F that NFKD splits
// off: é, ï, Greek tonos and dialytika, Cyrillic breve and diaeresis), back
// to composed form (NFC: Hangul syllables, kana with voicing marks), lower
// case, final sigma as sigma; and a space on each side of every character
// of the scripts written without spaces (spacedScript), so each is a word
// and a query's run of them is looked up as a phrase.
func searchText(s string) string {
	if isASCII(s) {
		return strings.ToLower(s)
	}
	s = norm.NFC.String(stripAccents(norm.NFKD.String(s)))
	var b strings.Builder
	b.Grow(len(s) + len(s)/2)
	for _, r := range s {
		r = unicode.ToLower(r)
		switch {
		case r == 'ς':
			b.WriteRune('σ')
		case spacedScript(r):
			b.WriteByte(' ')
			b.WriteRune(r)
			b.WriteByte(' ')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// stripAccents drops the combining diacritical marks (U+0300–U+036F).
// Other marks stay: the kana voicing marks, the vowel signs of Indic
// scripts, which are letters' parts, not accents.
func stripAccents(s string) string {
	if !strings.ContainsFunc(s, isAccent) {
		return s
	}
	return strings.Map(func(r rune) rune {
		if isAccent(r) {
			return -1
		}
		return r
	}, s)
}

func isAccent(r rune) bool { return r >= 0x300 && r <= 0x36f }

// spacedScript reports a character of the scripts written without spaces
// between words that search indexes one character at a time: hiragana,
// katakana, CJK ideographs (with extensions A–H and the compatibility
// block) and Hangul syllables. PostgreSQL's taskwire_search_text lists the
// same ranges.
func spacedScript(r rune) bool {
	switch {
	case r < 0x3040:
		return false
	case r <= 0x30ff, // hiragana, katakana
		0x31f0 <= r && r <= 0x31ff,   // katakana phonetic extensions
		0x3400 <= r && r <= 0x4dbf,   // CJK extension A
		0x4e00 <= r && r <= 0x9fff,   // CJK unified ideographs
		0xac00 <= r && r <= 0xd7af,   // Hangul syllables
		0xf900 <= r && r <= 0xfaff,   // CJK compatibility ideographs
		0x20000 <= r && r <= 0x3134f: // CJK extensions B–H
		return true
	}
	return false
}

// isWordRune reports a character that is part of a word: a letter, a
// digit or a mark, as FTS5's tokenizer is told (categories L* N* Co M*).
func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.IsMark(r) || unicode.Is(unicode.Co, r)
}

// searchToken is one word of a text, as the index sees it: key is its
// folded form, [start, end) its bytes in the original text.
type searchToken struct {
	key        string
	start, end int
}

// searchTokens splits text into the words the index holds: runs of word
// characters, each character of a spacedScript its own word.
func searchTokens(text string) []searchToken {
	var out []searchToken
	start := -1
	emit := func(end int) {
		if start >= 0 {
			for _, k := range strings.FieldsFunc(searchText(text[start:end]), func(r rune) bool { return !isWordRune(r) }) {
				// A compatibility character may fold to several words (㈱
				// to ( 株 )); each keeps the span of the whole run.
				out = append(out, searchToken{key: k, start: start, end: end})
			}
		}
		start = -1
	}
	for i, r := range text {
		switch {
		case spacedScript(r):
			emit(i)
			start = i
			emit(i + utf8.RuneLen(r))
		case isWordRune(r):
			if start < 0 {
				start = i
			}
		default:
			emit(i)
		}
	}
	emit(len(text))
	return out
}

// phrases returns each query word as the sequence of folded words the
// index holds for it ("東京" is 東 then 京).
func phrases(words []string) [][]string {
	out := make([][]string, 0, len(words))
	for _, w := range words {
		var keys []string
		for _, t := range searchTokens(w) {
			keys = append(keys, t.key)
		}
		if len(keys) > 0 {
			out = append(out, keys)
		}
	}
	return out
}

// Snippet bounds, in characters.
const (
	snippetBefore = 60  // of context before the first word found
	snippetLen    = 180 // in all, before the ellipses
)

// snippet returns an excerpt of text around the first place one of the
// phrases occurs, each occurrence inside it between « and », with … where
// the text was cut; ok is false when none occurs.
func snippet(text string, phrases [][]string) (string, bool) {
	tokens := searchTokens(text)
	type span struct{ start, end int }
	var found []span
	for i := range tokens {
		for _, p := range phrases {
			if i+len(p) > len(tokens) {
				continue
			}
			match := true
			for j, k := range p {
				if tokens[i+j].key != k {
					match = false
					break
				}
			}
			if match {
				found = append(found, span{tokens[i].start, tokens[i+len(p)-1].end})
				break
			}
		}
	}
	if len(found) == 0 {
		return "", false
	}
	from := backRunes(text, found[0].start, snippetBefore)
	to := forwardRunes(text, from, snippetLen)
	var b strings.Builder
	if from > 0 {
		b.WriteString("…")
	}
	at := from
	for _, f := range found {
		if f.start < at {
			continue // overlaps the previous occurrence
		}
		if f.start >= to {
			break
		}
		end := min(f.end, to)
		b.WriteString(text[at:f.start])
		b.WriteString("«")
		b.WriteString(text[f.start:end])
		b.WriteString("»")
		at = end
	}
	b.WriteString(text[at:to])
	if to < len(text) {
		b.WriteString("…")
	}
	return oneLineText(b.String()), true
}

// leadSnippet is the beginning of text, for a result whose words could
// not be located (a folding the database does differently).
func leadSnippet(text string) string {
	to := forwardRunes(text, 0, snippetLen)
	s := text[:to]
	if to < len(text) {
		s += "…"
	}
	return oneLineText(s)
}

// backRunes returns the offset at most n characters before i, moved
// forward to the start of a word when it falls inside one.
func backRunes(text string, i, n int) int {
	j := i
	for k := 0; k < n && j > 0; k++ {
		_, size := utf8.DecodeLastRuneInString(text[:j])
		j -= size
	}
	if j == 0 {
		return 0
	}
	// Inside a word: on to the start of the next one.
	for j < i {
		if r, _ := utf8.DecodeLastRuneInString(text[:j]); !isWordRune(r) || spacedScript(r) {
			break
		}
		_, size := utf8.DecodeRuneInString(text[j:])
		j += size
	}
	// Nor on the space before it.
	for j < i {
		r, size := utf8.DecodeRuneInString(text[j:])
		if !unicode.IsSpace(r) {
			break
		}
		j += size
	}
	return j
}

// forwardRunes returns the offset n characters after i, or the end.
func forwardRunes(text string, i, n int) int {
	for k := 0; k < n && i < len(text); k++ {
		_, size := utf8.DecodeRuneInString(text[i:])
		i += size
	}
	return i
}

// oneLineText turns every run of white space into one space and trims the
// ends, so a snippet reads as one line.
func oneLineText(s string) string { return strings.Join(strings.Fields(s), " ") }
