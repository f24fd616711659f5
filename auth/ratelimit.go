package auth

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Rate is "N per period", as in "5/minute".
type Rate struct {
	N      int
	Period time.Duration
}

// String renders the rate the way the seed's limiter did: "5 per 1 minute".
func (r Rate) String() string {
	unit, n := "second", r.Period/time.Second
	switch {
	case r.Period%time.Hour == 0:
		unit, n = "hour", r.Period/time.Hour
	case r.Period%time.Minute == 0:
		unit, n = "minute", r.Period/time.Minute
	}
	return fmt.Sprintf("%d per %d %s", r.N, n, unit)
}

// ParseRate reads "5/minute", "10/second", "100/hour", "5/1m" or "20/30s".
func ParseRate(s string) (Rate, error) {
	n, per, ok := strings.Cut(strings.TrimSpace(s), "/")
	count, err := strconv.Atoi(strings.TrimSpace(n))
	if !ok || err != nil || count < 1 {
		return Rate{}, fmt.Errorf("rate %q: want N/period, such as 5/minute", s)
	}
	per = strings.TrimSpace(per)
	var d time.Duration
	switch per {
	case "second", "s":
		d = time.Second
	case "minute", "m", "min":
		d = time.Minute
	case "hour", "h":
		d = time.Hour
	default:
		d, err = time.ParseDuration(per)
		if err != nil || d < time.Second || d%time.Second != 0 {
			return Rate{}, fmt.Errorf("rate %q: period must be second, minute, hour or a whole number of seconds", s)
		}
	}
	return Rate{N: count, Period: d}, nil
}

// Limiter counts requests per key in fixed windows, like the seed's limiter.
type Limiter struct {
	rate Rate
	now  func() time.Time

	mu      sync.Mutex // guards windows and swept
	windows map[string]window
	swept   time.Time
}

type window struct {
	start time.Time
	count int
}

// NewLimiter returns a Limiter allowing rate per key.
func NewLimiter(rate Rate) *Limiter {
	return &Limiter{rate: rate, now: time.Now, windows: map[string]window{}}
}

// Rate returns the configured rate.
func (l *Limiter) Rate() Rate { return l.rate }

// Allow counts a request for key. When the key is over its rate it returns
// false and how long until the window resets.
func (l *Limiter) Allow(key string) (ok bool, retryAfter time.Duration) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.swept) > l.rate.Period {
		// Forget finished windows so the map stays as small as the set of
		// recently active keys.
		for k, w := range l.windows {
			if now.Sub(w.start) >= l.rate.Period {
				delete(l.windows, k)
			}
		}
		l.swept = now
	}
	w := l.windows[key]
	if now.Sub(w.start) >= l.rate.Period {
		w = window{start: now}
	}
	if w.count >= l.rate.N {
		return false, w.start.Add(l.rate.Period).Sub(now)
	}
	w.count++
	l.windows[key] = w
	return true, 0
}
