package sqlstore

import (
	"testing"
	"time"
)

func TestParseTime(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time
	}{
		{"2026-12-06T03:10:30.368637Z", time.Date(2026, 12, 6, 3, 10, 30, 368637000, time.UTC)},
		{"2024-02-29T23:59:59.000001Z", time.Date(2024, 2, 29, 23, 59, 59, 1000, time.UTC)},
		{"2026-12-06T03:10:30Z", time.Date(2026, 12, 6, 3, 10, 30, 0, time.UTC)},
		{"2026-12-06T04:10:30.5+01:00", time.Date(2026, 12, 6, 3, 10, 30, 500000000, time.UTC)},
		{"2026-12-06 03:10:30.368637", time.Date(2026, 12, 6, 3, 10, 30, 368637000, time.UTC)}, // the seed service
		{"2026-12-06 03:10:30.368637+00:00", time.Date(2026, 12, 6, 3, 10, 30, 368637000, time.UTC)},
		{"2026-12-06T03:10:30.368637", time.Date(2026, 12, 6, 3, 10, 30, 368637000, time.UTC)},
		{"2026-12-06 03:10", time.Date(2026, 12, 6, 3, 10, 0, 0, time.UTC)},
		{"2026-12-06", time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)},
	}
	for _, tc := range tests {
		got, err := parseTime(tc.in)
		if err != nil || !got.Equal(tc.want) || got.Location() != time.UTC {
			t.Errorf("parseTime(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "yesterday", "2026-13-06T03:10:30.368637Z", "2023-02-29T03:10:30.368637Z",
		"2026-12-06T24:10:30.368637Z", "2026-12-06T03:60:30.368637Z", "2026-12-06T03:10:30.36863xZ", "2026-12-06T03:10:30.368637+"} {
		if got, err := parseTime(bad); err == nil {
			t.Errorf("parseTime(%q) = %v, want an error", bad, got)
		}
	}
}

// FuzzParseStoredTime: the fast parser of Taskwire's own layout never
// panics, takes every text in that layout, and agrees with time.Parse on
// what it takes, which formats back to the same text.
func FuzzParseStoredTime(f *testing.F) {
	for _, s := range []string{"2026-12-06T03:10:30.368637Z", "0000-01-01T00:00:00.000000Z", "9999-12-31T23:59:59.999999Z",
		"2026-02-30T03:10:30.368637Z", "2026-12-06T03:10:30.368637+", "2026-12-06 03:10:30.368637Z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := parseStoredTime(s)
		want, err := time.Parse(sqliteTimeLayout, s)
		canonical := err == nil && want.Format(sqliteTimeLayout) == s
		if ok && err != nil || canonical && !ok {
			// time.Parse is lenient (one-digit hours, a comma before the
			// fraction): the text Taskwire writes is all the fast path
			// must take; the rest goes to time.Parse.
			t.Fatalf("parseStoredTime(%q) ok=%v, time.Parse error %v", s, ok, err)
		}
		if !ok {
			return
		}
		if !got.Equal(want) {
			t.Fatalf("parseStoredTime(%q) = %v, time.Parse = %v", s, got, want)
		}
		if back := got.Format(sqliteTimeLayout); back != s {
			t.Fatalf("parseStoredTime(%q) formats back as %q", s, back)
		}
	})
}
