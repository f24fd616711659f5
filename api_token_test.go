package taskwire

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"
)

func TestNewAPITokenValidate(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	past, future := now.Add(-time.Second), now.Add(time.Second)
	tests := []struct {
		name     string
		in       NewAPIToken
		field    string // "" when valid
		wantName string
	}{
		{"OK", NewAPIToken{Name: "ci"}, "", "ci"},
		{"Trimmed", NewAPIToken{Name: "  ci \t"}, "", "ci"},
		{"Exactly100", NewAPIToken{Name: strings.Repeat("ü", 100)}, "", strings.Repeat("ü", 100)},
		{"FutureExpiry", NewAPIToken{Name: "ci", ExpiresAt: &future}, "", "ci"},
		{"ErrEmpty", NewAPIToken{Name: ""}, "name", ""},
		{"ErrBlank", NewAPIToken{Name: " \n "}, "name", ""},
		{"ErrTooLong", NewAPIToken{Name: strings.Repeat("ü", 101)}, "name", ""},
		{"ErrControl", NewAPIToken{Name: "a\x00b"}, "name", ""},
		{"ErrInvalidUTF8", NewAPIToken{Name: "a\xffb"}, "name", ""},
		{"ErrPastExpiry", NewAPIToken{Name: "ci", ExpiresAt: &past}, "expires_at", ""},
		{"ErrExpiryNow", NewAPIToken{Name: "ci", ExpiresAt: &now}, "expires_at", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			err := in.Validate(now)
			if tc.field == "" {
				if err != nil || in.Name != tc.wantName {
					t.Fatalf("Validate = %v, name %q; want nil, %q", err, in.Name, tc.wantName)
				}
				return
			}
			e, ok := AsError(err)
			if !ok || e.Kind != Invalid || e.Field != tc.field {
				t.Fatalf("Validate = %v, want Invalid on %s", err, tc.field)
			}
		})
	}
}

func TestAPITokenSecret(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		secret, hash := newAPITokenSecret()
		got, ok := ParseAPIToken(secret)
		if !ok || got != hash || len(secret) != 46 || seen[secret] {
			t.Fatalf("secret %q: parse %q %v, want %q; length %d", secret, got, ok, hash, len(secret))
		}
		seen[secret] = true
	}
}

// FuzzParseAPIToken: whatever ParseAPIToken accepts is exactly one
// spelling of 32 bytes — the prefix and their unpadded base64url — and is
// stored under its SHA-256.
func FuzzParseAPIToken(f *testing.F) {
	secret, _ := newAPITokenSecret()
	for _, s := range []string{secret, "", "tw_", "tw_" + strings.Repeat("A", 43), "tw_" + strings.Repeat("A", 42) + "B",
		secret + "=", secret[:45], "TW_" + secret[3:], "tw_" + strings.Repeat("+", 43), "eyJhbGciOiJIUzI1NiJ9.e30.x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		hash, ok := ParseAPIToken(s)
		if !ok {
			if hash != "" {
				t.Fatalf("refused %q with a hash", s)
			}
			return
		}
		raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(s, APITokenPrefix))
		if err != nil || len(raw) != 32 || APITokenPrefix+base64.RawURLEncoding.EncodeToString(raw) != s {
			t.Fatalf("accepted %q, which is not the one spelling of 32 bytes", s)
		}
		if hash != hashAPIToken(s) || len(hash) != 64 {
			t.Fatalf("hash %q of %q", hash, s)
		}
	})
}
