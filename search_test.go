package taskwire_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/taskwire/taskwire"
)

func TestParseSearchQuery(t *testing.T) {
	tests := []struct {
		name, q string
		want    []string
		err     string
	}{
		{"OK", "naïve plan", []string{"naïve", "plan"}, ""},
		{"RepeatsOnce", "Plan plan PLAN", []string{"Plan"}, ""},
		{"SyntaxIsSeparators", `"a" (b) c* d:e -f ^g \h`, []string{"a", "b", "c", "d", "e", "f", "g", "h"}, ""},
		{"OperatorsAreWords", "x AND y OR NOT z NEAR", []string{"x", "AND", "y", "OR", "NOT", "z", "NEAR"}, ""},
		{"Scripts", "東京タワー καλημέρα ёлка", []string{"東京タワー", "καλημέρα", "ёлка"}, ""},
		{"CombiningMarks", "e\u0301te\u0301 \u0301", []string{"e\u0301te\u0301"}, ""},
		{"Digits", "v1.2 x²", []string{"v1", "2", "x²"}, ""},
		{"NULAndInvalidUTF8Separate", "a\x00b\xffc", []string{"a", "b", "c"}, ""},
		{"MaxLength", strings.Repeat("é", taskwire.MaxSearchQueryLen), []string{strings.Repeat("é", taskwire.MaxSearchQueryLen)}, ""},
		{"ErrEmpty", "", nil, taskwire.MsgSearchQueryNoWords},
		{"ErrNoWords", `"*" -- () :: \\ ` + "\x00\xff", nil, taskwire.MsgSearchQueryNoWords},
		{"ErrTooLong", strings.Repeat("é", taskwire.MaxSearchQueryLen+1), nil, taskwire.MsgSearchQueryTooLong},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := taskwire.ParseSearchQuery(tc.q)
			if tc.err != "" {
				e, ok := taskwire.AsError(err)
				if !ok || e.Kind != taskwire.Invalid || e.Field != "q" || e.Message != tc.err {
					t.Fatalf("err = %v, want Invalid q %q", err, tc.err)
				}
				return
			}
			if err != nil || !slices.Equal(got.Words, tc.want) {
				t.Errorf("words = %q, %v; want %q", got.Words, err, tc.want)
			}
		})
	}
}
