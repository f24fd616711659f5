package realtime

import (
	"context"
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

// ids returns the tokens with open sockets.
func (ts *tokenSockets) ids() []int64 {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ids := make([]int64, 0, len(ts.byToken))
	for id := range ts.byToken {
		ids = append(ids, id)
	}
	return ids
}

// checkTokens closes the sockets of API tokens that no longer exist: the
// broker carries revocations at most once, and one may be lost in an
// outage. It reads the database only while such sockets are open.
func (h *Hub) checkTokens(ctx context.Context) error {
	ids := h.tokens.ids()
	if len(ids) == 0 {
		return nil
	}
	live, err := h.source.LiveAPITokens(ctx, ids)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if !live[id] {
			h.tokens.revoke(id, time.Now())
		}
	}
	return nil
}
