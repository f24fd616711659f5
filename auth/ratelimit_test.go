package auth_test

import (
	"testing"
	"time"

	"github.com/taskwire/taskwire/auth"
)

func TestParseRate(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    auth.Rate
		wantErr bool
	}{
		{"PerMinute", "5/minute", auth.Rate{N: 5, Period: time.Minute}, false},
		{"PerSecond", "10/second", auth.Rate{N: 10, Period: time.Second}, false},
		{"PerHour", "100/hour", auth.Rate{N: 100, Period: time.Hour}, false},
		{"ShortSecond", "3/s", auth.Rate{N: 3, Period: time.Second}, false},
		{"ShortMinute", "3/m", auth.Rate{N: 3, Period: time.Minute}, false},
		{"ShortMin", "3/min", auth.Rate{N: 3, Period: time.Minute}, false},
		{"ShortHour", "3/h", auth.Rate{N: 3, Period: time.Hour}, false},
		{"DurationMinute", "5/1m", auth.Rate{N: 5, Period: time.Minute}, false},
		{"DurationSeconds", "20/30s", auth.Rate{N: 20, Period: 30 * time.Second}, false},
		{"DurationCompound", "2/1h30m", auth.Rate{N: 2, Period: 90 * time.Minute}, false},
		{"Spaces", " 5 / minute ", auth.Rate{N: 5, Period: time.Minute}, false},

		{"ErrEmpty", "", auth.Rate{}, true},
		{"ErrNoPeriod", "5", auth.Rate{}, true},
		{"ErrEmptyPeriod", "5/", auth.Rate{}, true},
		{"ErrNoCount", "/minute", auth.Rate{}, true},
		{"ErrZero", "0/minute", auth.Rate{}, true},
		{"ErrNegative", "-1/minute", auth.Rate{}, true},
		{"ErrNotANumber", "five/minute", auth.Rate{}, true},
		{"ErrFraction", "1.5/minute", auth.Rate{}, true},
		{"ErrUnknownUnit", "5/fortnight", auth.Rate{}, true},
		{"ErrPlural", "5/minutes", auth.Rate{}, true},
		{"ErrSubSecond", "5/500ms", auth.Rate{}, true},
		{"ErrFractionalSeconds", "5/1.5s", auth.Rate{}, true},
		{"ErrZeroPeriod", "5/0s", auth.Rate{}, true},
		{"ErrNegativePeriod", "5/-1m", auth.Rate{}, true},
		{"ErrTwoSlashes", "5/minute/hour", auth.Rate{}, true},
		{"ErrOverflow", "99999999999999999999/minute", auth.Rate{}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := auth.ParseRate(tc.in)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("ParseRate(%q) = %+v, want an error", tc.in, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseRate(%q): %v", tc.in, err)
			}
			if got != tc.want {
				t.Fatalf("ParseRate(%q) = %+v, want %+v", tc.in, got, tc.want)
			}
		})
	}
}

func TestRateString(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"5/minute", "5 per 1 minute"},
		{"10/second", "10 per 1 second"},
		{"100/hour", "100 per 1 hour"},
		{"5/1m", "5 per 1 minute"},
		{"20/30s", "20 per 30 second"},
		{"20/90s", "20 per 90 second"},
		{"3/120m", "3 per 2 hour"},
		{"3/90m", "3 per 90 minute"},
		{"1/24h", "1 per 24 hour"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			r, err := auth.ParseRate(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if got := r.String(); got != tc.want {
				t.Fatalf("ParseRate(%q).String() = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestNewLimiterRate(t *testing.T) {
	r := auth.Rate{N: 5, Period: time.Minute}
	if got := auth.NewLimiter(r).Rate(); got != r {
		t.Fatalf("Rate() = %+v, want %+v", got, r)
	}
}

func TestLimiterRealClock(t *testing.T) {
	l := auth.NewLimiter(auth.Rate{N: 2, Period: time.Hour})
	for i := range 2 {
		if ok, _ := l.Allow("1.2.3.4"); !ok {
			t.Fatalf("request %d refused", i+1)
		}
	}
	ok, retry := l.Allow("1.2.3.4")
	if ok {
		t.Fatal("third request allowed, want refused")
	}
	if retry <= 0 || retry > time.Hour {
		t.Fatalf("retryAfter = %v, want in (0, 1h]", retry)
	}
	if ok, _ := l.Allow("5.6.7.8"); !ok {
		t.Fatal("another key was refused")
	}
}

func FuzzParseRate(f *testing.F) {
	for _, s := range []string{"5/minute", "10/second", "100/hour", "5/1m", "20/30s", "", "/", "0/s", "5/500ms", "9223372036854775807/2562047h"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := auth.ParseRate(s)
		if err != nil {
			if r != (auth.Rate{}) {
				t.Fatalf("ParseRate(%q) = %+v with error %v, want the zero Rate", s, r, err)
			}
			return
		}
		if r.N < 1 {
			t.Fatalf("ParseRate(%q).N = %d, want at least 1", s, r.N)
		}
		if r.Period < time.Second || r.Period%time.Second != 0 {
			t.Fatalf("ParseRate(%q).Period = %v, want a positive whole number of seconds", s, r.Period)
		}
		_ = r.String()
	})
}
