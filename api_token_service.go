package taskwire

import (
	"context"
	"sync"
	"time"
)

// CreateAPIToken makes an API token for actor and returns it with its
// secret, which is not kept anywhere: the caller shows it once. Returns
// Invalid for a bad name or an expiry that is not in the future.
func (s *Service) CreateAPIToken(ctx context.Context, actor User, in NewAPIToken) (APIToken, string, error) {
	now := s.now()
	if err := in.Validate(now); err != nil {
		return APIToken{}, "", err
	}
	secret, hash := newAPITokenSecret()
	t := APIToken{UserID: actor.ID, Name: in.Name, Hash: hash, CreatedAt: now}
	if in.ExpiresAt != nil {
		exp := in.ExpiresAt.UTC().Truncate(time.Microsecond)
		t.ExpiresAt = &exp
	}
	err := s.store.Update(ctx, func(tx Tx) (err error) {
		t, err = tx.CreateAPIToken(ctx, t)
		return err
	})
	if err != nil {
		return APIToken{}, "", err
	}
	return t, secret, nil
}

// APITokens lists actor's API tokens, newest first, without secrets.
func (s *Service) APITokens(ctx context.Context, actor User) ([]APIToken, error) {
	return s.store.APITokens(ctx, actor.ID)
}

// RevokeAPIToken deletes one of actor's API tokens. Once it has committed
// the token no longer authenticates anything, and the publisher is told so
// that every instance closes the sockets opened with it. Returns NotFound
// "Token not found" when actor has no such token.
func (s *Service) RevokeAPIToken(ctx context.Context, actor User, id int64) error {
	return s.store.Update(ctx, func(tx Tx) error {
		if err := tx.DeleteAPIToken(ctx, actor.ID, id); err != nil {
			return err
		}
		tx.AfterCommit(func() { s.pub.PublishTokenRevoked(id) })
		return nil
	})
}

// AuthenticateAPIToken returns the user a token belongs to, and the token.
// Every call reads the database: a revoked token fails on every instance
// as soon as its deletion commits. Its use is recorded for last_used_at
// (see RecordTokenUses). Returns Unauthenticated for a malformed, unknown
// or expired token; a deleted user's tokens are deleted with them.
func (s *Service) AuthenticateAPIToken(ctx context.Context, secret string) (User, APIToken, error) {
	bad := Errorf(Unauthenticated, "Could not validate credentials")
	hash, ok := ParseAPIToken(secret)
	if !ok {
		return User{}, APIToken{}, bad
	}
	t, u, err := s.store.APITokenByHash(ctx, hash)
	if ErrorKind(err) == NotFound {
		return User{}, APIToken{}, bad
	}
	if err != nil {
		return User{}, APIToken{}, err
	}
	now := s.now()
	if t.expired(now) {
		return User{}, APIToken{}, bad
	}
	if t.LastUsedAt == nil || now.Sub(*t.LastUsedAt) >= TokenUseInterval {
		s.uses.note(t.ID, now)
	}
	return u, t, nil
}

// LiveAPITokens reports which of the API tokens ids still exist, for the
// realtime layer: the sockets of the others close, should their
// revocation's message have been lost.
func (s *Service) LiveAPITokens(ctx context.Context, ids []int64) (map[int64]bool, error) {
	owners, err := s.store.APITokenOwners(ctx, ids)
	if err != nil {
		return nil, err
	}
	live := make(map[int64]bool, len(owners))
	for id := range owners {
		live[id] = true
	}
	return live, nil
}

// RecordTokenUses writes the API token uses AuthenticateAPIToken noted to
// last_used_at, off the request path, until ctx ends; report receives the
// errors of failed writes (a lost write only leaves last_used_at older).
// A token is written at most once per TokenUseInterval by each instance:
// a use is noted only when the stored time is older than that, and the
// uses noted meanwhile go out together in one unit of work.
func (s *Service) RecordTokenUses(ctx context.Context, report func(error)) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.uses.signal:
		}
		used := s.uses.take()
		if len(used) == 0 {
			continue
		}
		err := s.store.Update(ctx, func(tx Tx) error {
			for id, at := range used {
				if err := tx.TouchAPIToken(ctx, id, at); err != nil {
					return err
				}
			}
			return nil
		})
		s.uses.done(used)
		if err != nil && ctx.Err() == nil && report != nil {
			report(err)
		}
	}
}

// maxPendingUses bounds the uses waiting to be written: past it a use is
// not noted (it will be at the token's next use).
const maxPendingUses = 10_000

// tokenUses holds the API token uses waiting to be written.
type tokenUses struct {
	signal chan struct{} // has a value when pending may be non-empty

	mu       sync.Mutex // guards pending and inFlight
	pending  map[int64]time.Time
	inFlight map[int64]bool // taken by RecordTokenUses, not yet written
}

func newTokenUses() *tokenUses {
	return &tokenUses{signal: make(chan struct{}, 1), pending: map[int64]time.Time{}, inFlight: map[int64]bool{}}
}

// note records that token id was used at at. A use already waiting or
// being written is not noted again: requests in a burst cost one write.
func (u *tokenUses) note(id int64, at time.Time) {
	u.mu.Lock()
	_, waiting := u.pending[id]
	if waiting || u.inFlight[id] || len(u.pending) >= maxPendingUses {
		u.mu.Unlock()
		return
	}
	u.pending[id] = at
	u.mu.Unlock()
	select {
	case u.signal <- struct{}{}:
	default:
	}
}

func (u *tokenUses) take() map[int64]time.Time {
	u.mu.Lock()
	defer u.mu.Unlock()
	used := u.pending
	u.pending = map[int64]time.Time{}
	for id := range used {
		u.inFlight[id] = true
	}
	return used
}

func (u *tokenUses) done(used map[int64]time.Time) {
	u.mu.Lock()
	defer u.mu.Unlock()
	for id := range used {
		delete(u.inFlight, id)
	}
}
