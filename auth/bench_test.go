package auth_test

import (
	"strings"
	"testing"
	"time"

	"github.com/taskwire/taskwire/auth"
)

// BenchmarkTokenVerify measures a token's first verification (signature,
// claims) and the next ones, which find it remembered.
func BenchmarkTokenVerify(b *testing.B) {
	tokens, err := auth.NewTokens([]byte(strings.Repeat("s", 32)), time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	tok, err := tokens.Issue(42)
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name   string
		verify func(string) (auth.Claims, error)
	}{
		{"first", tokens.VerifyUncached},
		{"again", tokens.Verify},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := bc.verify(tok); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
