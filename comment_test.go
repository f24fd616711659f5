package taskwire_test

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/taskwire/taskwire"
)

// mentionMembers are the members the mention tests parse against.
var mentionMembers = []taskwire.UserRef{
	{ID: 1, Username: "ada"},
	{ID: 2, Username: "Bob"},
	{ID: 3, Username: "ada lovelace"},
	{ID: 4, Username: "cy.dee"},
	{ID: 5, Username: "Ünïcødé"},
	{ID: 6, Username: "x_y"},
	{ID: 7, Username: "kelvin"},
}

func TestMentions(t *testing.T) {
	tests := []struct {
		name string
		body string
		want []int64
	}{
		{"OKPlain", "@ada please look", []int64{1}},
		{"OKAtEnd", "thanks @ada", []int64{1}},
		{"OKWholeBody", "@ada", []int64{1}},
		{"OKCaseInsensitive", "@ADA and @bob", []int64{1, 2}},
		{"OKCaseInsensitiveUnicode", "@üNÏCØDÉ", []int64{5}},
		{"OKKelvinSignFolds", "@\u212aelvin", []int64{7}}, // K (Kelvin sign) folds to k
		{"OKParentheses", "(@ada)", []int64{1}},
		{"OKComma", "@ada, @bob", []int64{1, 2}},
		{"OKFullStop", "ask @ada.", []int64{1}},
		{"OKColon", "@ada: done?", []int64{1}},
		{"OKQuestionAndExclamation", "@ada? @bob!", []int64{1, 2}},
		{"OKQuoted", `"@ada" '@bob'`, []int64{1, 2}},
		{"OKApostrophe", "@ada's idea", []int64{1}},
		{"OKAfterNewline", "first\n@ada", []int64{1}},
		{"OKAfterDash", "see-@ada", []int64{1}},
		{"OKBrackets", "[@ada]{@bob}<@x_y>", []int64{1, 2, 6}},
		{"OKDistinctSorted", "@bob @ada @BOB @ada", []int64{1, 2}},
		{"OKUsernameWithSpace", "@ada lovelace wrote it", []int64{3}},
		{"OKLongestWins", "@ada lovelace, @ada", []int64{1, 3}},
		{"OKShorterWhenLongerDoesNotFit", "@ada love", []int64{1}},
		{"OKUsernameWithDot", "@cy.dee.", []int64{4}},
		{"OKUnderscore", "@x_y", []int64{6}},
		{"OKAdjacentMentions", "@ada@bob", []int64{1}}, // the second @ follows a word character
		{"OKDoubleAt", "@@ada", []int64{1}},
		{"OKAfterCodeSpan", "`code` @ada", []int64{1}},
		{"OKUnclosedBacktick", "a ` then @ada", []int64{1}},
		{"OKUnmatchedRunLengths", "`` x ` @ada", []int64{1}},

		{"NoneEmail", "mail bob@ada.com", []int64{}},
		{"NoneWordBefore", "x@ada", []int64{}},
		{"NoneDigitBefore", "1@ada", []int64{}},
		{"NoneUnderscoreBefore", "_@ada", []int64{}},
		{"NoneLongerWord", "@adam and @bobby", []int64{}},
		{"NoneUnderscoreAfter", "@ada_", []int64{}},
		{"NoneDigitAfter", "@ada2", []int64{}},
		{"NoneNotMember", "@carol", []int64{}},
		{"NoneBareAt", "@ @ @", []int64{}},
		{"NoneSpaceAfterAt", "@ ada", []int64{}},
		{"NoneNoAt", "ada bob", []int64{}},
		{"NoneEmpty", "", []int64{}},
		{"NoneInCodeSpan", "use `@ada` literally", []int64{}},
		{"NoneInDoubleBacktickSpan", "``a ` @ada``", []int64{}},
		{"NoneInFence", "```\n@ada\n@bob\n```", []int64{}},
		{"OnlyOutsideCode", "`@ada` but @bob", []int64{2}},
		{"NoneCombiningMarkAfter", "@ada\u0301", []int64{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := taskwire.Mentions(tc.body, mentionMembers)
			if got == nil || !slices.Equal(got, tc.want) {
				t.Fatalf("Mentions(%q) = %#v, want %v", tc.body, got, tc.want)
			}
		})
	}
}

// TestMentionsMembersOrder: the answer does not depend on the order of
// the members, duplicated or not; an empty username never matches.
func TestMentionsMembersOrder(t *testing.T) {
	body := "@ada lovelace @bob @ada"
	want := taskwire.Mentions(body, mentionMembers)
	reversed := slices.Clone(mentionMembers)
	slices.Reverse(reversed)
	withExtras := append(slices.Clone(reversed), taskwire.UserRef{ID: 99, Username: ""}, mentionMembers[0])
	for name, ms := range map[string][]taskwire.UserRef{"Reversed": reversed, "WithExtras": withExtras} {
		if got := taskwire.Mentions(body, ms); !slices.Equal(got, want) {
			t.Errorf("%s: %v, want %v", name, got, want)
		}
	}
	if got := taskwire.Mentions("@ and @", []taskwire.UserRef{{ID: 1, Username: ""}}); len(got) != 0 {
		t.Errorf("an empty username matched: %v", got)
	}
}

// FuzzMentions: Mentions never panics, is deterministic, and answers a
// sorted list of distinct ids of members whose username the body holds
// after an '@'.
func FuzzMentions(f *testing.F) {
	for _, s := range []string{"@ada", "(@ada) @bob, x@ada.com", "`@ada` @bob", "```\n@ada\n```", "@ada lovelace", "@\u212aelvin",
		"@", "``", "`@", "@`ada`", "\xff@ada", "@ada\xff", "@ÅDA", strings.Repeat("@a", 100)} {
		f.Add(s, "ada", "bob", "ada lovelace")
	}
	f.Add("@x @y", "x", "X", "")
	f.Add("@é", "É", "e\u0301", "\xff")
	f.Fuzz(func(t *testing.T, body, u1, u2, u3 string) {
		members := []taskwire.UserRef{{ID: 10, Username: u1}, {ID: 20, Username: u2}, {ID: 30, Username: u3}}
		got := taskwire.Mentions(body, members)
		if got == nil {
			t.Fatal("Mentions returned nil, want a list")
		}
		if again := taskwire.Mentions(body, members); !slices.Equal(again, got) {
			t.Fatalf("not deterministic: %v then %v", got, again)
		}
		if !slices.IsSorted(got) || len(slices.Compact(slices.Clone(got))) != len(got) {
			t.Fatalf("%v is not sorted and distinct", got)
		}
		for _, id := range got {
			i := slices.IndexFunc(members, func(m taskwire.UserRef) bool { return m.ID == id })
			if i < 0 {
				t.Fatalf("id %d is not a member's", id)
			}
			name := members[i].Username
			if name == "" || !strings.Contains(body, "@") {
				t.Fatalf("member %d (%q) mentioned in %q", id, name, body)
			}
			// A necessary condition: the body holds "@" and the name, up to
			// case.
			if utf8.ValidString(body) && utf8.ValidString(name) && !containsFold(body, "@"+name) {
				t.Fatalf("member %d (%q) mentioned in %q, which does not hold @name", id, name, body)
			}
		}
	})
}

// containsFold reports whether s holds sub up to simple case folding
// (which maps a character to one character, so the lengths in characters
// agree).
func containsFold(s, sub string) bool {
	n := utf8.RuneCountInString(sub)
	for i := range s {
		j, k := i, 0
		for k < n && j < len(s) {
			_, size := utf8.DecodeRuneInString(s[j:])
			j, k = j+size, k+1
		}
		if k == n && strings.EqualFold(s[i:j], sub) {
			return true
		}
	}
	return false
}

func TestExcerpt(t *testing.T) {
	long := strings.Repeat("word ", 100)
	tests := []struct {
		name, body, want string
	}{
		{"OKShort", "short", "short"},
		{"OKWhiteSpaceCollapsed", "  line one\n\n\tline  two  ", "line one line two"},
		{"OKExactly200", strings.Repeat("é", 200), strings.Repeat("é", 200)},
		{"OKCut", strings.Repeat("é", 201), strings.Repeat("é", 199) + "\u2026"},
		{"OKCutNoTrailingSpace", long, strings.TrimSpace(long[:199]) + "\u2026"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := taskwire.Excerpt(tc.body)
			if got != tc.want {
				t.Fatalf("Excerpt(%q) = %q, want %q", tc.body, got, tc.want)
			}
			if n := utf8.RuneCountInString(got); n > 200 {
				t.Fatalf("excerpt of %d characters", n)
			}
		})
	}
}
