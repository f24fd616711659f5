package auth_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/taskwire/taskwire/auth"
)

var testSecret = []byte("0123456789abcdef0123456789abcdef")

func newTokens(t *testing.T, ttl time.Duration) *auth.Tokens {
	t.Helper()
	tok, err := auth.NewTokens(testSecret, ttl)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// sign returns a token with the given claims, method and key, made with
// golang-jwt directly.
func sign(t *testing.T, method jwt.SigningMethod, key any, claims jwt.Claims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(method, claims).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// claims returns valid claims for sub that expire in an hour.
func claims(sub string) jwt.RegisteredClaims {
	now := time.Now()
	return jwt.RegisteredClaims{
		Subject:   sub,
		IssuedAt:  jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour)),
	}
}

func TestTokensIssueVerify(t *testing.T) {
	tokens := newTokens(t, time.Hour)
	before := time.Now()
	tok, err := tokens.Issue(42)
	if err != nil {
		t.Fatal(err)
	}
	c, err := tokens.Verify(tok)
	if err != nil {
		t.Fatalf("Verify(fresh token): %v", err)
	}
	if c.UserID != 42 {
		t.Errorf("UserID = %d, want 42", c.UserID)
	}
	// NumericDate has second precision.
	if lo, hi := before.Add(time.Hour-time.Second), time.Now().Add(time.Hour+time.Second); c.ExpiresAt.Before(lo) || c.ExpiresAt.After(hi) {
		t.Errorf("ExpiresAt = %v, want about an hour from now", c.ExpiresAt)
	}

	t.Run("OtherTokensSameSecret", func(t *testing.T) {
		// Another Tokens with the same secret accepts it: tokens survive restarts.
		c, err := newTokens(t, time.Minute).Verify(tok)
		if err != nil || c.UserID != 42 {
			t.Fatalf("Verify = %+v, %v; want user 42", c, err)
		}
	})
	t.Run("ExternallySigned", func(t *testing.T) {
		// A token made by another HS256 implementation with the secret verifies.
		c, err := tokens.Verify(sign(t, jwt.SigningMethodHS256, testSecret, claims("7")))
		if err != nil || c.UserID != 7 {
			t.Fatalf("Verify = %+v, %v; want user 7", c, err)
		}
	})
}

func TestTokensVerifyRejects(t *testing.T) {
	tokens := newTokens(t, time.Hour)
	good, err := tokens.Issue(42)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, ".")
	if len(parts) != 3 {
		t.Fatalf("issued token %q does not have three parts", good)
	}
	b64 := base64.RawURLEncoding.EncodeToString
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	otherSecret := bytes.Repeat([]byte("x"), 32)
	expired := claims("42")
	expired.IssuedAt = jwt.NewNumericDate(time.Now().Add(-2 * time.Hour))
	expired.ExpiresAt = jwt.NewNumericDate(time.Now().Add(-time.Hour))
	noExpiry := claims("42")
	noExpiry.ExpiresAt = nil
	notYet := claims("42")
	notYet.NotBefore = jwt.NewNumericDate(time.Now().Add(time.Hour))
	future := claims("42")
	future.IssuedAt = jwt.NewNumericDate(time.Now().Add(time.Hour))
	// The signature's last character carries two unused bits: another
	// spelling of the same bytes, which strict decoding refuses.
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	sig := parts[2]
	respelled := sig[:len(sig)-1] + string(alphabet[strings.IndexByte(alphabet, sig[len(sig)-1])^1])

	tests := []struct {
		name  string
		token string
	}{
		{"TamperedPayload", parts[0] + "." + b64(bytes.Replace(payload, []byte(`"sub":"42"`), []byte(`"sub":"1"`), 1)) + "." + parts[2]},
		{"TamperedSignature", parts[0] + "." + parts[1] + "." + b64([]byte("not the signature at all, no....."))},
		{"NoSignature", parts[0] + "." + parts[1] + "."},
		{"OtherSecret", sign(t, jwt.SigningMethodHS256, otherSecret, claims("42"))},
		{"AlgNone", sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, claims("42"))},
		{"AlgNoneHeaderOnGoodToken", b64([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + parts[1] + "."},
		{"HS512RightSecret", sign(t, jwt.SigningMethodHS512, testSecret, claims("42"))},
		{"HS384RightSecret", sign(t, jwt.SigningMethodHS384, testSecret, claims("42"))},
		{"Expired", sign(t, jwt.SigningMethodHS256, testSecret, expired)},
		{"NoExpiry", sign(t, jwt.SigningMethodHS256, testSecret, noExpiry)},
		{"NotYetValid", sign(t, jwt.SigningMethodHS256, testSecret, notYet)},
		{"IssuedInTheFuture", sign(t, jwt.SigningMethodHS256, testSecret, future)},
		{"SignatureRespelled", parts[0] + "." + parts[1] + "." + respelled},
		{"SignaturePadded", good + "="},
		{"NonNumericSubject", sign(t, jwt.SigningMethodHS256, testSecret, claims("alice"))},
		{"EmptySubject", sign(t, jwt.SigningMethodHS256, testSecret, claims(""))},
		{"ZeroSubject", sign(t, jwt.SigningMethodHS256, testSecret, claims("0"))},
		{"NegativeSubject", sign(t, jwt.SigningMethodHS256, testSecret, claims("-5"))},
		{"OverflowingSubject", sign(t, jwt.SigningMethodHS256, testSecret, claims("99999999999999999999"))},
		{"Empty", ""},
		{"Garbage", "not.a.token"},
		{"TwoParts", parts[0] + "." + parts[1]},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := tokens.Verify(tc.token)
			if err == nil {
				t.Fatalf("Verify accepted the token: %+v", c)
			}
			if !errors.Is(err, auth.ErrInvalidToken) {
				t.Fatalf("Verify: %v, want ErrInvalidToken", err)
			}
			if c != (auth.Claims{}) {
				t.Fatalf("Verify returned claims %+v with its error", c)
			}
		})
	}
}

// TestTokensFromAFastClock: another instance whose clock runs a few seconds
// ahead issued the token; it verifies.
func TestTokensFromAFastClock(t *testing.T) {
	tokens := newTokens(t, time.Hour)
	ahead := claims("42")
	ahead.IssuedAt = jwt.NewNumericDate(time.Now().Add(10 * time.Second))
	c, err := tokens.Verify(sign(t, jwt.SigningMethodHS256, testSecret, ahead))
	if err != nil || c.UserID != 42 {
		t.Fatalf("Verify(token issued 10 s ahead) = %+v, %v; want user 42", c, err)
	}
}

func TestTokensExpire(t *testing.T) {
	tokens := newTokens(t, time.Second)
	tok, err := tokens.Issue(42)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tokens.Verify(tok); err != nil {
		t.Fatalf("Verify(fresh token): %v", err)
	}
	// exp has second precision: after two seconds the token has expired
	// whatever the sub-second moment it was issued at.
	time.Sleep(2100 * time.Millisecond)
	if _, err := tokens.Verify(tok); !errors.Is(err, auth.ErrInvalidToken) {
		t.Fatalf("Verify(expired token) = %v, want ErrInvalidToken", err)
	}
}

func TestNewTokens(t *testing.T) {
	tests := []struct {
		name   string
		secret []byte
		ttl    time.Duration
		ok     bool
	}{
		{"OK", testSecret, time.Hour, true},
		{"OKLongSecret", bytes.Repeat([]byte("s"), 128), time.Minute, true},
		{"ErrShortSecret", testSecret[:auth.MinSecretLen-1], time.Hour, false},
		{"ErrEmptySecret", nil, time.Hour, false},
		{"ErrZeroLifetime", testSecret, 0, false},
		{"ErrNegativeLifetime", testSecret, -time.Second, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tok, err := auth.NewTokens(tc.secret, tc.ttl)
			if tc.ok != (err == nil) {
				t.Fatalf("NewTokens(%d-byte secret, %v) = %v, %v; want ok = %v", len(tc.secret), tc.ttl, tok, err, tc.ok)
			}
			if !tc.ok && tok != nil {
				t.Fatal("NewTokens returned Tokens with its error")
			}
		})
	}
}

func TestLoadOrCreateSecret(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state", "jwt.secret")
	first, err := auth.LoadOrCreateSecret(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(first) < auth.MinSecretLen {
		t.Fatalf("secret has %d bytes, want at least %d", len(first), auth.MinSecretLen)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("secret file mode = %v, want 0600", perm)
	}
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}

	second, err := auth.LoadOrCreateSecret(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first, second) {
		t.Fatalf("second call returned %q, want the first secret %q", second, first)
	}
	after, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, after) {
		t.Fatal("second call rewrote the secret file")
	}
	if _, err := auth.NewTokens(second, time.Hour); err != nil {
		t.Fatalf("NewTokens(loaded secret): %v", err)
	}

	t.Run("Distinct", func(t *testing.T) {
		other, err := auth.LoadOrCreateSecret(filepath.Join(t.TempDir(), "jwt.secret"))
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Equal(first, other) {
			t.Fatal("two new secrets are equal")
		}
	})
	t.Run("ConcurrentFirstUse", func(t *testing.T) {
		// Instances starting together on a fresh volume all get the one
		// secret. The race is narrow, so it is run many times.
		for round := range 200 {
			path := filepath.Join(t.TempDir(), "jwt.secret")
			const n = 8
			got := make([][]byte, n)
			errs := make([]error, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() { got[i], errs[i] = auth.LoadOrCreateSecret(path) })
			}
			wg.Wait()
			for i := range n {
				if errs[i] != nil {
					t.Fatalf("round %d, call %d: %v", round, i, errs[i])
				}
				if !bytes.Equal(got[i], got[0]) {
					t.Fatalf("round %d: concurrent first calls returned different secrets %q and %q", round, got[0], got[i])
				}
			}
		}
	})
	t.Run("ErrShortSecretInFile", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "jwt.secret")
		if err := os.WriteFile(path, []byte("too short\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if s, err := auth.LoadOrCreateSecret(path); err == nil {
			t.Fatalf("LoadOrCreateSecret accepted a short secret %q", s)
		}
	})
	t.Run("TrimsNewline", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "jwt.secret")
		want := strings.Repeat("k", 40)
		if err := os.WriteFile(path, []byte(want+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		s, err := auth.LoadOrCreateSecret(path)
		if err != nil {
			t.Fatal(err)
		}
		if string(s) != want {
			t.Fatalf("secret = %q, want %q", s, want)
		}
	})
}

// TestTokensRememberedBounded: past the number of tokens Verify remembers,
// every token still verifies (forgotten ones in full again), and a
// remembered token does not make a tampered copy of it verify.
func TestTokensRememberedBounded(t *testing.T) {
	tokens := newTokens(t, time.Hour)
	n := auth.MaxVerified + 500
	toks := make([]string, n)
	for i := range toks {
		tok, err := tokens.Issue(int64(i + 1))
		if err != nil {
			t.Fatal(err)
		}
		toks[i] = tok
	}
	for round := range 2 {
		for i, tok := range toks {
			c, err := tokens.Verify(tok)
			if err != nil || c.UserID != int64(i+1) {
				t.Fatalf("round %d: Verify(token of user %d) = %+v, %v", round, i+1, c, err)
			}
		}
	}
	sig := "AA"
	if strings.HasSuffix(toks[0], sig) {
		sig = "BB"
	}
	tampered := toks[0][:len(toks[0])-2] + sig
	if _, err := tokens.Verify(tampered); !errors.Is(err, auth.ErrInvalidToken) {
		t.Fatalf("Verify(remembered token with another signature) = %v, want ErrInvalidToken", err)
	}
}
