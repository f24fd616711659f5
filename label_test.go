package taskwire

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestNormalizeLabels(t *testing.T) {
	twenty := make([]string, 20)
	for i := range twenty {
		twenty[i] = strings.Repeat("x", i+1)
	}
	tests := []struct {
		name    string
		in      []string
		want    []string
		invalid bool
	}{
		{"Nil", nil, []string{}, false},
		{"Trimmed", []string{"  bug ", "\tui\n"}, []string{"bug", "ui"}, false},
		{"RepeatsKeepTheFirstSpelling", []string{"Bug", "bug", "BUG", "ui"}, []string{"Bug", "ui"}, false},
		{"NonLatin", []string{"Ναΐβ", "ναΐβ", "日本語"}, []string{"Ναΐβ", "日本語"}, false},
		{"FiftyCharacters", []string{strings.Repeat("é", 50)}, []string{strings.Repeat("é", 50)}, false},
		{"TwentyAfterRepeats", append(slices.Clone(twenty), "X"), twenty, false},
		{"Empty", []string{""}, nil, true},
		{"Blank", []string{"   "}, nil, true},
		{"TooLong", []string{strings.Repeat("é", 51)}, nil, true},
		{"TooMany", append(slices.Clone(twenty), "y"), nil, true},
		{"NUL", []string{"a\x00b"}, nil, true},
		{"InvalidUTF8", []string{"a\xffb"}, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := NormalizeLabels(tc.in)
			if tc.invalid {
				if ErrorKind(err) != Invalid {
					t.Fatalf("NormalizeLabels(%q) = %q, %v; want Invalid", tc.in, got, err)
				}
				return
			}
			if err != nil || !slices.Equal(got, tc.want) || got == nil {
				t.Errorf("NormalizeLabels(%q) = %#v, %v; want %#v", tc.in, got, err, tc.want)
			}
		})
	}
}

// FuzzNormalizeLabels checks the invariants of a normalized list: at most
// MaxLabels, each trimmed, 1 to MaxLabelLen characters, storable, no two
// with one key; and normalizing it again changes nothing.
func FuzzNormalizeLabels(f *testing.F) {
	f.Add("bug", " Bug ", "ui")
	f.Add("", "x", "X")
	f.Add("日本語", "Ναΐβ", "naïve")
	f.Add("a\x00", "\xff", strings.Repeat("é", 51))
	f.Fuzz(func(t *testing.T, a, b, c string) {
		in := append(strings.Split(a, ","), append(strings.Split(b, ","), strings.Split(c, ",")...)...)
		got, err := NormalizeLabels(in)
		if err != nil {
			if ErrorKind(err) != Invalid {
				t.Fatalf("error of kind %v: %v", ErrorKind(err), err)
			}
			return
		}
		if len(got) > MaxLabels {
			t.Fatalf("%d labels", len(got))
		}
		keys := map[string]bool{}
		for _, l := range got {
			if l != strings.TrimSpace(l) || l == "" || utf8.RuneCountInString(l) > MaxLabelLen || !storable(l) {
				t.Fatalf("label %q is not normal", l)
			}
			if keys[LabelKey(l)] {
				t.Fatalf("two labels with the key of %q in %q", l, got)
			}
			keys[LabelKey(l)] = true
		}
		again, err := NormalizeLabels(got)
		if err != nil || !slices.Equal(again, got) {
			t.Fatalf("normalizing %q again gave %q, %v", got, again, err)
		}
	})
}
