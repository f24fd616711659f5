// Package auth issues and verifies access tokens, hashes passwords and
// limits request rates.
package auth

import (
	"fmt"

	"golang.org/x/crypto/bcrypt"
)

// Bcrypt hashes passwords with bcrypt, writing the $2b$ prefix the seed's
// Python bcrypt wrote, and reads $2a$, $2b$ and $2y$ hashes alike.
type Bcrypt struct {
	cost int
}

// NewBcrypt returns a hasher of the given cost (4–31).
func NewBcrypt(cost int) (*Bcrypt, error) {
	if cost < bcrypt.MinCost || cost > bcrypt.MaxCost {
		return nil, fmt.Errorf("auth: bcrypt cost %d is outside %d–%d", cost, bcrypt.MinCost, bcrypt.MaxCost)
	}
	return &Bcrypt{cost: cost}, nil
}

// Hash returns the $2b$ bcrypt hash of password.
func (b *Bcrypt) Hash(password string) (string, error) {
	h, err := bcrypt.GenerateFromPassword([]byte(password), b.cost)
	if err != nil {
		return "", fmt.Errorf("auth: hash password: %w", err)
	}
	// Go writes $2a$; the algorithm is the same, and $2b$ is what the seed
	// stored, so hashes stay interchangeable in both directions.
	if len(h) > 3 && string(h[:4]) == "$2a$" {
		h[2] = 'b'
	}
	return string(h), nil
}

// Compare returns nil when password matches hash.
func (b *Bcrypt) Compare(hash, password string) error {
	h := []byte(hash)
	if len(h) > 3 && (string(h[:4]) == "$2b$" || string(h[:4]) == "$2y$") {
		h = append([]byte(nil), h...)
		h[2] = 'a'
	}
	return bcrypt.CompareHashAndPassword(h, []byte(password))
}
