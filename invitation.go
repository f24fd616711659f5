package taskwire

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"time"
)

// Invitation asks someone, by email address, to join a project. The
// address need not belong to an account yet. Its token travels only in
// the invitation email; the store keeps the token's SHA-256 (TokenHash),
// so a copy of the database cannot accept an invitation.
type Invitation struct {
	ID        int64  `json:"id"`
	ProjectID int64  `json:"project_id"`
	Email     string `json:"email"`
	// InvitedBy is the user who sent it (the project's owner then).
	InvitedBy  int64      `json:"-"`
	TokenHash  string     `json:"-"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  time.Time  `json:"expires_at"`
	AcceptedAt *time.Time `json:"accepted_at"`
	AcceptedBy *int64     `json:"accepted_by"`
}

// Pending reports whether the invitation can still be accepted at now:
// not accepted and not expired.
func (inv Invitation) Pending(now time.Time) bool {
	return inv.AcceptedAt == nil && now.Before(inv.ExpiresAt)
}

// DefaultInvitationTTL is how long an invitation can be accepted, unless
// Options.InvitationTTL says otherwise.
const DefaultInvitationTTL = 7 * 24 * time.Hour

// Messages of the invitation use-cases; they are part of the API contract.
const (
	MsgInvitationNotFound = "Invitation not found"
	MsgInvitationGone     = "Invitation is no longer valid"
	MsgInvitationOther    = "This invitation is for another email address"
	MsgInviteeIsMember    = "This address belongs to a member of this project"
)

// newInvitationToken returns a new token (32 random bytes, base64url
// without padding: 43 characters) and its hash as the store keeps it.
func newInvitationToken() (token, hash string) {
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand)
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, InvitationTokenHash(token)
}

// InvitationTokenHash is the stored form of an invitation token: its
// SHA-256, hex-encoded.
func InvitationTokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
