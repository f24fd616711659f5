package realtime

import (
	"sync"
	"time"
)

// revokedMemory is how long a hub remembers a revoked API token, so that a
// socket whose handshake checked the token just before its revocation
// committed, and which joins after the revocation arrived, is closed too.
// A handshake takes far less.
const revokedMemory = 5 * time.Minute

// tokenSockets indexes the sockets opened with API tokens by token.
type tokenSockets struct {
	mu      sync.Mutex // guards byToken and revoked
	byToken map[int64]map[*conn]struct{}
	revoked map[int64]time.Time // token → when its revocation arrived
}

func newTokenSockets() *tokenSockets {
	return &tokenSockets{byToken: map[int64]map[*conn]struct{}{}, revoked: map[int64]time.Time{}}
}

// add records c under its token and reports true, or reports false if the
// token was revoked lately (the caller closes c).
func (ts *tokenSockets) add(c *conn) bool {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if _, ok := ts.revoked[c.tokenID]; ok {
		return false
	}
	set := ts.byToken[c.tokenID]
	if set == nil {
		set = map[*conn]struct{}{}
		ts.byToken[c.tokenID] = set
	}
	set[c] = struct{}{}
	return true
}

// remove forgets c, which is finishing.
func (ts *tokenSockets) remove(c *conn) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	set := ts.byToken[c.tokenID]
	delete(set, c)
	if len(set) == 0 {
		delete(ts.byToken, c.tokenID)
	}
}

// revoke closes every socket opened with the token with CloseTokenExpired,
// and remembers the token for revokedMemory.
func (ts *tokenSockets) revoke(id int64, now time.Time) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	for t, at := range ts.revoked {
		if now.Sub(at) > revokedMemory {
			delete(ts.revoked, t)
		}
	}
	ts.revoked[id] = now
	for c := range ts.byToken[id] {
		c.stop(CloseTokenExpired, "token revoked", false)
	}
}
