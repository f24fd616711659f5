package auth_test

import (
	"strings"
	"testing"
	"time"

	"github.com/taskwire/taskwire/auth"
)

func BenchmarkTokenVerify(b *testing.B) {
	tokens, err := auth.NewTokens([]byte(strings.Repeat("s", 32)), time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	tok, err := tokens.Issue(42)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tokens.Verify(tok); err != nil {
			b.Fatal(err)
		}
	}
}
