package auth

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeClock is a Limiter clock the test moves by hand.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

func newTestLimiter(rate Rate) (*Limiter, *fakeClock) {
	c := &fakeClock{t: time.Date(2025, time.March, 14, 15, 9, 26, 0, time.UTC)}
	l := NewLimiter(rate)
	l.now = c.now
	return l, c
}

func allowN(t *testing.T, l *Limiter, key string, n int) {
	t.Helper()
	for i := range n {
		if ok, retry := l.Allow(key); !ok {
			t.Fatalf("request %d for %q refused (retry after %v), want allowed", i+1, key, retry)
		}
	}
}

func wantRefused(t *testing.T, l *Limiter, key string, retryAfter time.Duration) {
	t.Helper()
	ok, retry := l.Allow(key)
	if ok {
		t.Fatalf("request for %q allowed, want refused", key)
	}
	if retry != retryAfter {
		t.Fatalf("retryAfter = %v, want %v", retry, retryAfter)
	}
}

func TestLimiter(t *testing.T) {
	rate := Rate{N: 5, Period: time.Minute}

	t.Run("NThenRefused", func(t *testing.T) {
		l, _ := newTestLimiter(rate)
		allowN(t, l, "k", 5)
		wantRefused(t, l, "k", time.Minute)
		wantRefused(t, l, "k", time.Minute) // refusals do not extend the window
	})

	t.Run("RetryAfterShrinks", func(t *testing.T) {
		l, c := newTestLimiter(rate)
		allowN(t, l, "k", 5)
		c.advance(20 * time.Second)
		wantRefused(t, l, "k", 40*time.Second)
		c.advance(39 * time.Second)
		wantRefused(t, l, "k", time.Second)
	})

	t.Run("KeysIndependent", func(t *testing.T) {
		l, _ := newTestLimiter(rate)
		allowN(t, l, "a", 5)
		wantRefused(t, l, "a", time.Minute)
		allowN(t, l, "b", 5)
		wantRefused(t, l, "b", time.Minute)
		allowN(t, l, "", 5)
	})

	t.Run("WindowResets", func(t *testing.T) {
		l, c := newTestLimiter(rate)
		allowN(t, l, "k", 5)
		c.advance(time.Minute - time.Nanosecond)
		wantRefused(t, l, "k", time.Nanosecond)
		c.advance(time.Nanosecond)
		allowN(t, l, "k", 5)
		wantRefused(t, l, "k", time.Minute)
	})

	t.Run("FixedWindow", func(t *testing.T) {
		// The window starts at a key's first request, not at each request.
		l, c := newTestLimiter(rate)
		allowN(t, l, "k", 1)
		c.advance(50 * time.Second)
		allowN(t, l, "k", 4)
		wantRefused(t, l, "k", 10*time.Second)
		c.advance(10 * time.Second)
		allowN(t, l, "k", 5)
	})

	t.Run("LongIdleKeyReset", func(t *testing.T) {
		l, c := newTestLimiter(rate)
		allowN(t, l, "k", 5)
		c.advance(24 * time.Hour)
		allowN(t, l, "k", 5)
		wantRefused(t, l, "k", time.Minute)
	})

	t.Run("SweepForgetsFinishedWindows", func(t *testing.T) {
		l, c := newTestLimiter(rate)
		for i := range 100 {
			allowN(t, l, fmt.Sprint("key", i), 1)
		}
		c.advance(2 * time.Minute)
		allowN(t, l, "fresh", 1)
		l.mu.Lock()
		n := len(l.windows)
		l.mu.Unlock()
		if n != 1 {
			t.Fatalf("after the windows ended, the limiter holds %d keys, want 1", n)
		}
	})

	t.Run("SweepKeepsLiveWindows", func(t *testing.T) {
		l, c := newTestLimiter(rate)
		allowN(t, l, "old", 5)
		c.advance(61 * time.Second)
		allowN(t, l, "live", 5) // sweeps "old"
		c.advance(30 * time.Second)
		allowN(t, l, "other", 1)
		wantRefused(t, l, "live", 30*time.Second)
	})

	t.Run("OnePerHour", func(t *testing.T) {
		l, c := newTestLimiter(Rate{N: 1, Period: time.Hour})
		allowN(t, l, "k", 1)
		c.advance(59 * time.Minute)
		wantRefused(t, l, "k", time.Minute)
		c.advance(time.Minute)
		allowN(t, l, "k", 1)
	})
}

func TestLimiterConcurrent(t *testing.T) {
	// Run with -race: Allow is safe for concurrent use and counts exactly.
	l, _ := newTestLimiter(Rate{N: 100, Period: time.Minute})
	var allowed atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 50 {
				if ok, _ := l.Allow("k"); ok {
					allowed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if n := allowed.Load(); n != 100 {
		t.Fatalf("%d of 400 concurrent requests allowed, want exactly 100", n)
	}
}
