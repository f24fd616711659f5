package taskwire

import (
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"
)

// User is a person who can sign in. HashedPassword never leaves the server.
type User struct {
	Email          string    `json:"email"`
	Username       string    `json:"username"`
	ID             int64     `json:"id"`
	HashedPassword string    `json:"-"`
	CreatedAt      time.Time `json:"-"`
}

// UserRef is the public view of another user: never their email.
type UserRef struct {
	ID       int64  `json:"id"`
	Username string `json:"username"`
}

// Signup is the input of Service.Signup.
type Signup struct {
	Email    string
	Username string
	Password string
}

// Limits on user fields. bcrypt reads at most 72 bytes of a password, so a
// longer one is refused rather than silently truncated.
const (
	MaxUsernameLen = 150
	MaxEmailLen    = 254
	MaxPasswordLen = 72
)

// Validate reports the first problem with s as an Invalid error.
func (s Signup) Validate() error {
	if err := ValidateEmail(s.Email); err != nil {
		return err
	}
	switch {
	case s.Username == "" || strings.TrimSpace(s.Username) != s.Username:
		return InvalidField("username", "Username must be non-empty and have no leading or trailing spaces")
	case utf8.RuneCountInString(s.Username) > MaxUsernameLen:
		return InvalidField("username", "Username must be at most 150 characters")
	case !utf8.ValidString(s.Username) || strings.ContainsFunc(s.Username, isControl):
		return InvalidField("username", "Username must not contain control characters")
	case s.Password == "":
		return InvalidField("password", "Password must not be empty")
	case len(s.Password) > MaxPasswordLen:
		return InvalidField("password", "Password must be at most 72 bytes")
	}
	return nil
}

// ValidateEmail accepts a bare address (local@domain.tld) and nothing else:
// no display name, no angle brackets, no line breaks, so an address can be
// put in a mail header safely.
func ValidateEmail(email string) error {
	bad := InvalidField("email", "value is not a valid email address")
	if email == "" || len(email) > MaxEmailLen || strings.ContainsFunc(email, isControl) {
		return bad
	}
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Address != email || addr.Name != "" {
		return bad
	}
	at := strings.LastIndexByte(email, '@')
	domain := email[at+1:]
	if at < 1 || !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") ||
		strings.HasSuffix(domain, ".") || strings.Contains(domain, "..") ||
		strings.ContainsAny(email, " \"<>()[],;:\\") {
		return bad
	}
	return nil
}

// isControl reports C0 and C1 control characters and the Unicode line and
// paragraph separators: nothing that can break a line or drive a terminal.
func isControl(r rune) bool {
	return r < 0x20 || r >= 0x7f && r <= 0x9f || r == 0x2028 || r == 0x2029
}
