package auth_test

import (
	"strings"
	"testing"

	"github.com/taskwire/taskwire/auth"
	"golang.org/x/crypto/bcrypt"
)

func newBcrypt(t *testing.T) *auth.Bcrypt {
	t.Helper()
	b, err := auth.NewBcrypt(bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestBcryptHash(t *testing.T) {
	b := newBcrypt(t)
	h, err := b.Hash("password123")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$2b$04$") {
		t.Fatalf("Hash = %q, want the $2b$ prefix and cost 04", h)
	}
	if len(h) != 60 {
		t.Fatalf("Hash has %d characters, want 60", len(h))
	}
	again, err := b.Hash("password123")
	if err != nil {
		t.Fatal(err)
	}
	if again == h {
		t.Fatal("two hashes of one password are equal: no salt")
	}
}

func TestBcryptCompare(t *testing.T) {
	b := newBcrypt(t)
	h, err := b.Hash("password123")
	if err != nil {
		t.Fatal(err)
	}
	// The same hash under each prefix bcrypt implementations write.
	variant := func(prefix string) string { return prefix + h[4:] }
	seedHash, err := bcrypt.GenerateFromPassword([]byte("seed-password"), bcrypt.MinCost) // Go writes $2a$
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		hash     string
		password string
		ok       bool
	}{
		{"2b", variant("$2b$"), "password123", true},
		{"2a", variant("$2a$"), "password123", true},
		{"2y", variant("$2y$"), "password123", true},
		{"GoWritten2a", string(seedHash), "seed-password", true},
		{"GoWritten2aAs2b", "$2b$" + string(seedHash[4:]), "seed-password", true},
		{"ErrWrongPassword", h, "password124", false},
		{"ErrWrongPassword2a", variant("$2a$"), "Password123", false},
		{"ErrEmptyPassword", h, "", false},
		{"ErrPrefixOfPassword", h, "password12", false},
		{"ErrEmptyHash", "", "password123", false},
		{"ErrTruncatedHash", h[:30], "password123", false},
		{"ErrNotAHash", "password123", "password123", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := b.Compare(tc.hash, tc.password)
			if tc.ok && err != nil {
				t.Fatalf("Compare(%q, %q) = %v, want nil", tc.hash, tc.password, err)
			}
			if !tc.ok && err == nil {
				t.Fatalf("Compare(%q, %q) = nil, want an error", tc.hash, tc.password)
			}
		})
	}
}

func TestNewBcrypt(t *testing.T) {
	tests := []struct {
		name string
		cost int
		ok   bool
	}{
		{"Min", 4, true},
		{"Default", bcrypt.DefaultCost, true},
		{"Max", 31, true},
		{"ErrTooLow", 3, false},
		{"ErrZero", 0, false},
		{"ErrNegative", -1, false},
		{"ErrTooHigh", 32, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := auth.NewBcrypt(tc.cost)
			if tc.ok != (err == nil) {
				t.Fatalf("NewBcrypt(%d) = %v, %v; want ok = %v", tc.cost, b, err, tc.ok)
			}
		})
	}
	t.Run("CostIsUsed", func(t *testing.T) {
		b, err := auth.NewBcrypt(5)
		if err != nil {
			t.Fatal(err)
		}
		h, err := b.Hash("x")
		if err != nil {
			t.Fatal(err)
		}
		if cost, err := bcrypt.Cost([]byte(h)); err != nil || cost != 5 {
			t.Fatalf("cost of %q = %d, %v; want 5", h, cost, err)
		}
	})
}
