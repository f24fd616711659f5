package redisbroker

import (
	"context"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/taskwire/taskwire/auth"
)

// Limiter counts requests per key in fixed windows kept in Redis, so every
// instance shares one count. If Redis does not answer, the request is let
// through: signup and login should not fail because the limiter is down.
type Limiter struct {
	client *redis.Client
	prefix string
	rate   auth.Rate
}

// NewLimiter returns a limiter whose keys start with prefix.
func NewLimiter(client *redis.Client, prefix string, rate auth.Rate) *Limiter {
	return &Limiter{client: client, prefix: prefix, rate: rate}
}

// Rate returns the configured rate.
func (l *Limiter) Rate() auth.Rate { return l.rate }

// Allow counts one request for key.
func (l *Limiter) Allow(ctx context.Context, key string) (bool, time.Duration) {
	now := time.Now()
	period := l.rate.Period
	window := now.Truncate(period)
	k := l.prefix + key + ":" + strconv.FormatInt(window.Unix(), 10)
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	pipe := l.client.TxPipeline()
	incr := pipe.Incr(ctx, k)
	pipe.Expire(ctx, k, period+time.Second)
	if _, err := pipe.Exec(ctx); err != nil {
		return true, 0
	}
	if incr.Val() > int64(l.rate.N) {
		return false, window.Add(period).Sub(now)
	}
	return true, 0
}
