package httpapi

import (
	"sync"
	"time"

	"github.com/taskwire/taskwire"
)

// userCache remembers the users behind recently verified tokens, so an
// authenticated request does not read the users table every time. Users
// cannot be changed or deleted through the API today; the TTL bounds how
// long a change made another way goes unnoticed.
type userCache struct {
	ttl time.Duration
	max int

	mu    sync.Mutex // guards users
	users map[int64]cachedUser
}

type cachedUser struct {
	user    taskwire.User
	expires time.Time
}

func newUserCache(ttl time.Duration, max int) *userCache {
	return &userCache{ttl: ttl, max: max, users: map[int64]cachedUser{}}
}

func (c *userCache) get(id int64, now time.Time) (taskwire.User, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.users[id]
	if !ok || now.After(e.expires) {
		return taskwire.User{}, false
	}
	return e.user, true
}

func (c *userCache) put(u taskwire.User, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.users) >= c.max {
		// Start over rather than track recency: refilling costs one read
		// per active user.
		clear(c.users)
	}
	c.users[u.ID] = cachedUser{user: u, expires: now.Add(c.ttl)}
}
