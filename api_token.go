package taskwire

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"time"
	"unicode/utf8"
)

// APIToken is a long-lived credential a user makes for a script or an
// integration. Its secret is shown once, when it is created; only the
// SHA-256 of the secret is kept (Hash), so a copy of the database does not
// hold working tokens.
type APIToken struct {
	ID     int64  `json:"id"`
	UserID int64  `json:"-"`
	Name   string `json:"name"`
	// Hash is the hex SHA-256 of the secret.
	Hash       string     `json:"-"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  *time.Time `json:"expires_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
}

// NewAPIToken is the input of Service.CreateAPIToken.
type NewAPIToken struct {
	Name string
	// ExpiresAt, when set, must be in the future.
	ExpiresAt *time.Time
}

// API token rules.
const (
	// MaxAPITokenNameLen is the longest token name, in characters, after
	// surrounding spaces are trimmed.
	MaxAPITokenNameLen = 100
	// APITokenPrefix starts every API token, so a token can be told from a
	// login JWT (and found by secret scanners) at a glance.
	APITokenPrefix = "tw_"
	// apiTokenBytes is how many random bytes a token carries.
	apiTokenBytes = 32
	// TokenUseInterval is how stale last_used_at may be: a token's use is
	// written at most once per interval.
	TokenUseInterval = time.Minute

	MsgTokenNotFound = "Token not found"
)

// apiTokenLen is the length of a token: the prefix and 32 bytes in
// unpadded base64url.
var apiTokenLen = len(APITokenPrefix) + base64.RawURLEncoding.EncodedLen(apiTokenBytes)

// IsAPIToken reports whether a bearer credential is meant as an API token
// (rather than a login JWT), by its prefix. ParseAPIToken says whether it
// is well-formed.
func IsAPIToken(s string) bool { return strings.HasPrefix(s, APITokenPrefix) }

// ParseAPIToken checks the form of an API token — the prefix and exactly
// 32 bytes in unpadded base64url, spelled one way only — and returns the
// hash it is stored under. It reports false for anything else, which
// therefore never reaches the database.
func ParseAPIToken(s string) (hash string, ok bool) {
	if len(s) != apiTokenLen || !IsAPIToken(s) {
		return "", false
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(s[len(APITokenPrefix):])
	if err != nil || len(raw) != apiTokenBytes {
		return "", false
	}
	return hashAPIToken(s), true
}

func hashAPIToken(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// newAPITokenSecret returns a fresh token and its hash.
func newAPITokenSecret() (secret, hash string) {
	var b [apiTokenBytes]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	secret = APITokenPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	return secret, hashAPIToken(secret)
}

// Validate trims the name and reports the first problem as an Invalid
// error; now is the time expiry is checked against.
func (in *NewAPIToken) Validate(now time.Time) error {
	in.Name = strings.TrimSpace(in.Name)
	switch {
	case in.Name == "":
		return InvalidField("name", "Name must not be empty")
	case !utf8.ValidString(in.Name) || strings.ContainsFunc(in.Name, isControl):
		return InvalidField("name", "Name must not contain control characters")
	case utf8.RuneCountInString(in.Name) > MaxAPITokenNameLen:
		return InvalidField("name", "Name must be at most 100 characters")
	case in.ExpiresAt != nil && !in.ExpiresAt.After(now):
		return InvalidField("expires_at", "expires_at must be in the future")
	}
	return nil
}

// expired reports whether the token has expired at now.
func (t APIToken) expired(now time.Time) bool {
	return t.ExpiresAt != nil && !now.Before(*t.ExpiresAt)
}
