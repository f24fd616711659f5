package auth

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Tokens issues and verifies HS256 JWT access tokens.
type Tokens struct {
	secret []byte
	ttl    time.Duration
	parser *jwt.Parser
	now    func() time.Time

	mu       sync.Mutex        // guards verified
	verified map[string]Claims // tokens that verified, until they expire
}

// maxVerified bounds how many verified tokens Verify remembers; past it,
// one is forgotten for each new one.
const maxVerified = 10_000

// MinSecretLen is the shortest accepted signing secret, in bytes.
const MinSecretLen = 32

// NewTokens returns Tokens signing with secret; tokens live for ttl.
func NewTokens(secret []byte, ttl time.Duration) (*Tokens, error) {
	if len(secret) < MinSecretLen {
		return nil, fmt.Errorf("auth: JWT secret must be at least %d bytes", MinSecretLen)
	}
	if ttl <= 0 {
		return nil, fmt.Errorf("auth: token lifetime must be positive")
	}
	t := &Tokens{secret: secret, ttl: ttl, now: time.Now, verified: map[string]Claims{}}
	t.parser = jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}), // pinned: no "none", no RS/HS confusion
		jwt.WithExpirationRequired(),
		jwt.WithStrictDecoding(), // one spelling per token: no padding, no trailing bits
		jwt.WithTimeFunc(func() time.Time { return t.now() }),
	)
	return t, nil
}

// Claims are what a verified token says.
type Claims struct {
	UserID    int64
	ExpiresAt time.Time
}

// Issue returns a signed token for the user.
func (t *Tokens) Issue(userID int64) (string, error) {
	now := t.now()
	claims := jwt.RegisteredClaims{
		Subject:   strconv.FormatInt(userID, 10),
		IssuedAt:  jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(now.Add(t.ttl)),
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(t.secret)
}

// maxClockSkew is how far ahead of this instance's clock a token's issue
// time may be: another instance may have issued it.
const maxClockSkew = time.Minute

// ErrInvalidToken is returned for every token that does not verify.
var ErrInvalidToken = errors.New("auth: invalid token")

// Verify checks a token's signature, algorithm and expiry. A token that
// verified is remembered until it expires: a client sends the same one
// with every request, and checking it again would find the same answer
// (its signature and claims cannot change; only time passes, and the
// expiry is checked on every call).
func (t *Tokens) Verify(token string) (Claims, error) {
	now := t.now()
	t.mu.Lock()
	c, ok := t.verified[token]
	t.mu.Unlock()
	if ok && now.Before(c.ExpiresAt) {
		return c, nil
	}
	c, err := t.verify(token)
	if err != nil {
		return Claims{}, err
	}
	t.remember(token, c)
	return c, nil
}

// remember keeps a verified token. At maxVerified it starts over, as the
// server's other bounded caches do: expired tokens go then too, and the
// tokens still in use verify once more.
func (t *Tokens) remember(token string, c Claims) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.verified) >= maxVerified {
		clear(t.verified)
	}
	t.verified[token] = c
}

// verify checks a token in full.
func (t *Tokens) verify(token string) (Claims, error) {
	var rc jwt.RegisteredClaims
	_, err := t.parser.ParseWithClaims(token, &rc, func(*jwt.Token) (any, error) { return t.secret, nil })
	if err != nil {
		return Claims{}, fmt.Errorf("%w: %v", ErrInvalidToken, err)
	}
	// A token issued in the future is refused, with room for the clocks of
	// several instances to differ a little.
	if rc.IssuedAt != nil && rc.IssuedAt.After(t.now().Add(maxClockSkew)) {
		return Claims{}, fmt.Errorf("%w: issued in the future", ErrInvalidToken)
	}
	id, err := strconv.ParseInt(rc.Subject, 10, 64)
	if err != nil || id <= 0 {
		return Claims{}, fmt.Errorf("%w: bad subject", ErrInvalidToken)
	}
	return Claims{UserID: id, ExpiresAt: rc.ExpiresAt.Time}, nil
}

// LoadOrCreateSecret reads the signing secret kept in path, creating it
// with 32 random bytes (hex-encoded, mode 0600) on first use. The file
// appears whole or not at all: it is written aside and linked into place,
// so concurrent first starts agree on one secret.
func LoadOrCreateSecret(path string) ([]byte, error) {
	if s, err := readSecret(path); err == nil || !errors.Is(err, os.ErrNotExist) {
		return s, err
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return nil, err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("auth: %w", err)
	}
	f, err := os.CreateTemp(dir, ".secret-*")
	if err != nil {
		return nil, fmt.Errorf("auth: create secret: %w", err)
	}
	defer os.Remove(f.Name())
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return nil, fmt.Errorf("auth: create secret: %w", err)
	}
	if _, err := f.WriteString(hex.EncodeToString(raw) + "\n"); err != nil {
		f.Close()
		return nil, fmt.Errorf("auth: write secret: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, fmt.Errorf("auth: write secret: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("auth: write secret: %w", err)
	}
	// Link fails if another process linked its secret first; then that one
	// is the secret.
	if err := os.Link(f.Name(), path); err != nil && !errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf("auth: install secret: %w", err)
	}
	return readSecret(path)
}

func readSecret(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
		return nil, fmt.Errorf("auth: read secret: %w", err)
	}
	s := strings.TrimSpace(string(b))
	if len(s) < MinSecretLen {
		return nil, fmt.Errorf("auth: secret in %s is shorter than %d bytes", path, MinSecretLen)
	}
	return []byte(s), nil
}
