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

// FuzzParseTime: parseTime never panics, reads every time Taskwire writes
// back as itself, and agrees with time.Parse on RFC 3339 text.
func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"2026-12-06T03:10:30.368637Z", "0000-01-01T00:00:00.000000Z", "9999-12-31T23:59:59.999999Z",
		"2026-02-30T03:10:30.368637Z", "2026-12-06T03:10:30.368637+", "2026-12-06 03:10:30.368637Z", "2026-12-06 03:10"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := parseTime(s)
		if err == nil && got.Location() != time.UTC {
			t.Fatalf("parseTime(%q) = %v, not in UTC", s, got)
		}
		if want, werr := time.Parse(time.RFC3339Nano, s); werr == nil && (err != nil || !got.Equal(want)) {
			t.Fatalf("parseTime(%q) = %v, %v; time.Parse: %v", s, got, err, want)
		}
		if err == nil && got.Format(sqliteTimeLayout) == s {
			return
		}
		if w, werr := time.Parse(sqliteTimeLayout, s); werr == nil && w.Format(sqliteTimeLayout) == s && (err != nil || !got.Equal(w)) {
			t.Fatalf("parseTime(%q) = %v, %v; want %v", s, got, err, w)
		}
	})
}
