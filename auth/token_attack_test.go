package auth_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/taskwire/taskwire/auth"
)

// The attacks below are tokens an attacker can make without the signing
// secret (or with a valid token of their own to start from), plus tokens
// signed with the secret whose claims must still be refused. Each must fail
// with ErrInvalidToken and zero claims.

var b64url = base64.RawURLEncoding.EncodeToString

// hs256 returns the raw HMAC-SHA256 of signingInput under key.
func hs256(key []byte, signingInput string) []byte {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(signingInput))
	return mac.Sum(nil)
}

// rawToken assembles header.payload.signature from the JSON texts given,
// the signature being HMAC-SHA256 of the first two segments under key (no
// signature segment content when key is nil).
func rawToken(header, payload string, key []byte) string {
	in := b64url([]byte(header)) + "." + b64url([]byte(payload))
	if key == nil {
		return in + "."
	}
	return in + "." + b64url(hs256(key, in))
}

// payload renders claims for sub that expire in an hour, with extra
// members appended (each `"name": value`).
func payload(sub string, extra ...string) string {
	now := time.Now().Unix()
	members := []string{`"sub":` + strconv.Quote(sub), `"iat":` + strconv.FormatInt(now, 10), `"exp":` + strconv.FormatInt(now+3600, 10)}
	return "{" + strings.Join(append(members, extra...), ",") + "}"
}

// payloadWith renders exactly the members given.
func payloadWith(members ...string) string { return "{" + strings.Join(members, ",") + "}" }

const hsHeader = `{"alg":"HS256","typ":"JWT"}`

// wantRejected asserts that Verify refuses token the documented way.
func wantRejected(t *testing.T, tokens *auth.Tokens, token string) {
	t.Helper()
	c, err := tokens.Verify(token)
	if err == nil {
		t.Fatalf("Verify accepted the token (%d bytes) as %+v", len(token), c)
	}
	if !errors.Is(err, auth.ErrInvalidToken) {
		t.Fatalf("Verify: %v, want ErrInvalidToken", err)
	}
	if c != (auth.Claims{}) {
		t.Fatalf("Verify returned claims %+v with its error", c)
	}
}

// TestRawTokenControl makes sure the hand-built tokens of the attack tables
// are well formed: the same builder with the right header and key verifies,
// so a rejection below is due to the attack, not to a malformed token.
func TestRawTokenControl(t *testing.T) {
	tokens := newTokens(t, time.Hour)
	for name, tok := range map[string]string{
		"Plain":            rawToken(hsHeader, payload("42"), testSecret),
		"NoTyp":            rawToken(`{"alg":"HS256"}`, payload("42"), testSecret),
		"UnknownHeaderKey": rawToken(`{"alg":"HS256","kid":"../../etc/passwd"}`, payload("42"), testSecret),
		"LowerBound":       rawToken(hsHeader, payload("1"), testSecret),
		"MaxInt64":         rawToken(hsHeader, payload("9223372036854775807"), testSecret),
	} {
		t.Run(name, func(t *testing.T) {
			c, err := tokens.Verify(tok)
			if err != nil {
				t.Fatalf("Verify(%s): %v", tok, err)
			}
			if c.UserID <= 0 {
				t.Fatalf("UserID %d", c.UserID)
			}
		})
	}
}

func TestTokenAttacks(t *testing.T) {
	tokens := newTokens(t, time.Hour)
	good, err := tokens.Issue(42)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, ".")
	if len(parts) != 3 {
		t.Fatalf("issued token %q does not have three parts", good)
	}
	goodSig := parts[2]
	goodPayload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}

	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	rsaPubDER, err := x509.MarshalPKIXPublicKey(&rsaKey.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	rsaPubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: rsaPubDER})
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecPubDER, err := x509.MarshalPKIXPublicKey(&ecKey.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	jwk, _ := json.Marshal(map[string]string{"kty": "oct", "k": b64url([]byte("attacker-chosen-key-attacker-key"))})

	now := time.Now().Unix()
	exp := func(d int64) string { return `"exp":` + strconv.FormatInt(now+d, 10) }
	sub := func(s string) string { return `"sub":` + strconv.Quote(s) }

	type attack struct {
		name  string
		token string
	}
	var attacks []attack
	add := func(name, token string) { attacks = append(attacks, attack{name, token}) }

	// alg "none", in every spelling, unsigned and with a signature.
	for _, alg := range []string{"none", "None", "NONE", "nOnE", "none ", ""} {
		h := `{"alg":` + strconv.Quote(alg) + `,"typ":"JWT"}`
		name := "AlgNone" + strconv.Quote(alg)
		add(name+"Unsigned", rawToken(h, payload("42"), nil))
		add(name+"UnsignedNoDot", strings.TrimSuffix(rawToken(h, payload("42"), nil), "."))
		add(name+"SignedWithSecret", rawToken(h, payload("42"), testSecret))
		add(name+"GoodSignature", b64url([]byte(h))+"."+parts[1]+"."+goodSig)
	}
	add("AlgNoneLibrary", sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, claims("42")))

	// alg spelled otherwise, each with a signature the secret makes over
	// that very header: only the exact "HS256" is accepted.
	for _, alg := range []string{"hs256", "Hs256", "hS256", "HS256 ", " HS256", "HS256\u0000", "HS 256", "HMAC-SHA256", "HS2560", "HS25", "HS384", "HS512"} {
		h := `{"alg":` + strconv.Quote(alg) + `,"typ":"JWT"}`
		add("AlgCase"+strconv.Quote(alg), rawToken(h, payload("42"), testSecret))
	}
	for name, h := range map[string]string{
		"AlgMissing":      `{"typ":"JWT"}`,
		"AlgNull":         `{"alg":null,"typ":"JWT"}`,
		"AlgNumber":       `{"alg":256,"typ":"JWT"}`,
		"AlgArray":        `{"alg":["HS256"],"typ":"JWT"}`,
		"AlgObject":       `{"alg":{"HS256":true}}`,
		"AlgTwiceLastBad": `{"alg":"HS256","alg":"none"}`,
		"HeaderArray":     `["HS256"]`,
		"HeaderNull":      `null`,
		"HeaderString":    `"HS256"`,
		"HeaderEmpty":     ``,
		"HeaderNotJSON":   `{alg:HS256}`,
	} {
		add(name, rawToken(h, payload("42"), testSecret))
	}

	// Algorithm confusion: public-key algorithms with real signatures, and
	// HS256 keyed with what a verifier might take for "the key".
	add("RS256", sign(t, jwt.SigningMethodRS256, rsaKey, claims("42")))
	add("RS512", sign(t, jwt.SigningMethodRS512, rsaKey, claims("42")))
	add("PS256", sign(t, jwt.SigningMethodPS256, rsaKey, claims("42")))
	add("ES256", sign(t, jwt.SigningMethodES256, ecKey, claims("42")))
	add("EdDSA", sign(t, jwt.SigningMethodEdDSA, edKey, claims("42")))
	add("HS256KeyedWithRSAPublicPEM", sign(t, jwt.SigningMethodHS256, rsaPubPEM, claims("42")))
	add("HS256KeyedWithRSAPublicDER", sign(t, jwt.SigningMethodHS256, rsaPubDER, claims("42")))
	add("HS256KeyedWithECPublicDER", sign(t, jwt.SigningMethodHS256, ecPubDER, claims("42")))
	add("RS256HeaderHMACSignature", rawToken(`{"alg":"RS256","typ":"JWT"}`, payload("42"), testSecret))
	add("ES256HeaderHMACSignature", rawToken(`{"alg":"ES256","typ":"JWT"}`, payload("42"), testSecret))
	add("RS256HeaderGoodSignature", b64url([]byte(`{"alg":"RS256","typ":"JWT"}`))+"."+parts[1]+"."+goodSig)
	add("EmbeddedJWK", rawToken(`{"alg":"HS256","jwk":`+string(jwk)+`}`, payload("42"), []byte("attacker-chosen-key-attacker-key")))
	add("KidPointsAtEmptyFile", rawToken(`{"alg":"HS256","kid":"/dev/null"}`, payload("42"), []byte{}))

	// Wrong keys.
	add("KeyEmpty", rawToken(hsHeader, payload("42"), []byte{}))
	add("KeyOther", rawToken(hsHeader, payload("42"), []byte(strings.Repeat("x", 32))))
	add("KeyPrefix", rawToken(hsHeader, payload("42"), testSecret[:len(testSecret)-1]))
	// (Not secret+"\x00": HMAC pads short keys with zeros, so that is the
	// same key.)
	add("KeyExtended", rawToken(hsHeader, payload("42"), append(append([]byte{}, testSecret...), 'x')))
	add("KeyUpperCase", rawToken(hsHeader, payload("42"), []byte(strings.ToUpper(string(testSecret)))))
	add("KeyHexDecoded", rawToken(hsHeader, payload("42"), []byte("\x01\x23\x45\x67\x89\xab\xcd\xef\x01\x23\x45\x67\x89\xab\xcd\xef")))

	// Expiry and validity window (signed with the secret: the claims decide).
	for name, members := range map[string][]string{
		"ExpiredBy2s":        {sub("42"), exp(-2)},
		"ExpiredLongAgo":     {sub("42"), `"exp":1`},
		"ExpZero":            {sub("42"), `"exp":0`},
		"ExpNegative":        {sub("42"), `"exp":-1`},
		"ExpHugeFloat":       {sub("42"), `"exp":1e300`},
		"ExpBeyondInt64":     {sub("42"), `"exp":9223372036854775808`},
		"ExpStringPast":      {sub("42"), `"exp":"1"`},
		"ExpNull":            {sub("42"), `"exp":null`},
		"ExpBool":            {sub("42"), `"exp":true`},
		"ExpArray":           {sub("42"), `"exp":[` + strconv.FormatInt(now+3600, 10) + `]`},
		"ExpMissing":         {sub("42")},
		"NotYetValid":        {sub("42"), exp(3600), `"nbf":` + strconv.FormatInt(now+1800, 10)},
		"NotBeforeString":    {sub("42"), exp(3600), `"nbf":"soon"`},
		"IssuedAtString":     {sub("42"), exp(3600), `"iat":"now"`},
		"SubMissing":         {exp(3600)},
		"SubNull":            {`"sub":null`, exp(3600)},
		"SubNumber":          {`"sub":42`, exp(3600)},
		"SubArray":           {`"sub":["42"]`, exp(3600)},
		"SubObject":          {`"sub":{"id":42}`, exp(3600)},
		"SubEmpty":           {sub(""), exp(3600)},
		"SubNonNumeric":      {sub("alice"), exp(3600)},
		"SubSQL":             {sub("1 OR 1=1"), exp(3600)},
		"SubHex":             {sub("0x2a"), exp(3600)},
		"SubFloat":           {sub("42.0"), exp(3600)},
		"SubExponent":        {sub("4e1"), exp(3600)},
		"SubSpaces":          {sub(" 42 "), exp(3600)},
		"SubTrailingNUL":     {sub("42\x00"), exp(3600)},
		"SubFullwidthDigits": {sub("４２"), exp(3600)},
		"SubZero":            {sub("0"), exp(3600)},
		"SubNegativeZero":    {sub("-0"), exp(3600)},
		"SubNegative":        {sub("-42"), exp(3600)},
		"SubMinInt64":        {sub("-9223372036854775808"), exp(3600)},
		"SubOverflowByOne":   {sub("9223372036854775808"), exp(3600)},
		"SubOverflowHuge":    {sub(strings.Repeat("9", 400)), exp(3600)},
		"SubUnderflow":       {sub("-9223372036854775809"), exp(3600)},
	} {
		add("Claims"+name, rawToken(hsHeader, payloadWith(members...), testSecret))
	}
	for name, p := range map[string]string{
		"PayloadEmptyObject": `{}`,
		"PayloadNull":        `null`,
		"PayloadArray":       `[{"sub":"42"}]`,
		"PayloadString":      `"42"`,
		"PayloadNumber":      `42`,
		"PayloadEmpty":       ``,
		"PayloadNotJSON":     `sub=42`,
		"PayloadTruncated":   payload("42")[:20],
		"PayloadTrailing":    payload("42") + `x`,
	} {
		add(name, rawToken(hsHeader, p, testSecret))
	}

	// Structure: truncated, extra or mangled segments.
	add("Empty", "")
	add("OneDot", ".")
	add("TwoDots", "..")
	add("ThreeDots", "...")
	add("HeaderOnly", parts[0])
	add("NoSignatureSegment", parts[0]+"."+parts[1])
	add("EmptySignature", parts[0]+"."+parts[1]+".")
	add("SignatureTruncatedByOne", parts[0]+"."+parts[1]+"."+goodSig[:len(goodSig)-1])
	add("SignatureHalf", parts[0]+"."+parts[1]+"."+goodSig[:len(goodSig)/2])
	add("SignatureDoubled", parts[0]+"."+parts[1]+"."+goodSig+goodSig)
	add("SignaturePadded", good+"=")
	add("SignatureStdBase64", parts[0]+"."+parts[1]+"."+base64.StdEncoding.EncodeToString(mustDecode(t, goodSig)))
	add("SignatureHex", parts[0]+"."+parts[1]+"."+strings.ToLower(strings.TrimSpace(hexOf(mustDecode(t, goodSig)))))
	add("SignatureFlippedBit", parts[0]+"."+parts[1]+"."+b64url(flipFirstBit(mustDecode(t, goodSig))))
	add("SegmentsSwapped", parts[1]+"."+parts[0]+"."+goodSig)
	add("ExtraSegment", good+".")
	add("ExtraSegmentGoodSig", good+"."+goodSig)
	add("JWELike", parts[0]+".."+parts[1]+"."+goodSig+".tag")
	add("LeadingDot", "."+good)
	add("LeadingSpace", " "+good)
	add("TrailingSpace", good+" ")
	add("InnerSpace", parts[0]+". "+parts[1]+"."+goodSig)
	add("BearerPrefix", "Bearer "+good)
	add("HeaderPadded", parts[0]+"=."+parts[1]+"."+goodSig)
	add("PayloadReencodedStd", parts[0]+"."+base64.StdEncoding.EncodeToString(goodPayload)+"."+goodSig)
	add("PayloadChangedSameSig", parts[0]+"."+b64url([]byte(strings.Replace(string(goodPayload), `"42"`, `"1"`, 1)))+"."+goodSig)
	add("PayloadAppendedSpaceSameSig", parts[0]+"."+b64url(append(goodPayload, ' '))+"."+goodSig)
	add("NotBase64", "!!!.???.***")
	add("NonASCII", "é.é.é")
	add("NUL", parts[0]+"\x00."+parts[1]+"."+goodSig)

	// Huge tokens: oversized segments, with and without the right secret.
	bigClaim := `"pad":"` + strings.Repeat("A", 1<<20) + `"`
	add("HugePayloadWrongKey", rawToken(hsHeader, payload("42", bigClaim), []byte(strings.Repeat("x", 32))))
	add("HugePayloadNoSig", rawToken(hsHeader, payload("42", bigClaim), nil))
	add("HugeHeaderAlgNone", rawToken(`{"alg":"none","pad":"`+strings.Repeat("B", 1<<20)+`"}`, payload("42"), nil))
	add("HugeGarbage", strings.Repeat("A", 4<<20))
	add("HugeDots", strings.Repeat(".", 1<<20))
	add("HugeSignature", parts[0]+"."+parts[1]+"."+strings.Repeat("A", 1<<20))
	add("DeepHeader", b64url([]byte(strings.Repeat(`{"a":`, 100000)+"1"+strings.Repeat("}", 100000)))+"."+parts[1]+"."+goodSig)
	add("DeepPayloadSigned", rawToken(hsHeader, `{"sub":"42","exp":`+strconv.FormatInt(now+3600, 10)+`,"x":`+strings.Repeat("[", 100000)+strings.Repeat("]", 100000)+`,"sub":"alice"}`, testSecret))
	add("HugeSubjectSigned", rawToken(hsHeader, payloadWith(sub(strings.Repeat("1", 1<<20)), exp(3600)), testSecret))

	seen := map[string]bool{}
	for _, a := range attacks {
		if seen[a.name] {
			t.Fatalf("duplicate case name %s", a.name)
		}
		seen[a.name] = true
		t.Run(a.name, func(t *testing.T) { wantRejected(t, tokens, a.token) })
	}
	if len(attacks) < 100 {
		t.Fatalf("only %d attack cases", len(attacks))
	}
}

func mustDecode(t *testing.T, seg string) []byte {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func hexOf(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}

func flipFirstBit(b []byte) []byte {
	out := append([]byte(nil), b...)
	out[0] ^= 0x80
	return out
}

// TestTokenAttacksOtherIssuers: a token minted by Tokens with another
// secret is refused, and verifies once re-signed with the real secret.
func TestTokenAttacksOtherIssuers(t *testing.T) {
	tokens := newTokens(t, time.Hour)
	other, err := auth.NewTokens([]byte(strings.Repeat("z", 64)), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := other.Issue(42)
	if err != nil {
		t.Fatal(err)
	}
	wantRejected(t, tokens, tok)
	// The same claims re-signed with the real secret do verify: the
	// rejection above is the key's doing.
	p := strings.Split(tok, ".")
	resigned := p[0] + "." + p[1] + "." + b64url(hs256(testSecret, p[0]+"."+p[1]))
	if c, err := tokens.Verify(resigned); err != nil || c.UserID != 42 {
		t.Fatalf("re-signed token: %+v, %v", c, err)
	}
}

// FuzzVerifyToken: Verify never panics, and accepts a token only when it
// is header.payload.signature with alg HS256, signature the HMAC-SHA256 of
// header.payload under the secret, an unexpired exp and a positive
// decimal subject. The fuzzer cannot forge HMAC, so in practice only the
// seeds minted by the real signer (and encodings of the very same bytes)
// verify.
func FuzzVerifyToken(f *testing.F) {
	tokens, err := auth.NewTokens(testSecret, time.Hour)
	if err != nil {
		f.Fatal(err)
	}
	good, err := tokens.Issue(42)
	if err != nil {
		f.Fatal(err)
	}
	p := strings.Split(good, ".")
	f.Add(good)
	f.Add(p[0] + "." + p[1])
	f.Add(p[0] + "." + p[1] + ".")
	f.Add(good + ".")
	f.Add(rawToken(`{"alg":"none"}`, payload("42"), nil))
	f.Add(rawToken(`{"alg":"hs256"}`, payload("42"), testSecret))
	f.Add(rawToken(hsHeader, payload("0"), testSecret))
	f.Add(rawToken(hsHeader, payload("-1"), testSecret))
	f.Add(rawToken(hsHeader, payload("99999999999999999999"), testSecret))
	f.Add(rawToken(hsHeader, payloadWith(`"sub":"42"`), testSecret))
	f.Add(rawToken(hsHeader, payloadWith(`"sub":"42"`, `"exp":1`), testSecret))
	f.Add(rawToken(hsHeader, payload("7"), []byte("wrong key wrong key wrong key!!!")))
	f.Add("")
	f.Add("..")
	f.Add("a.b.c")
	f.Add("\xff.\xfe.\xfd")
	f.Fuzz(func(t *testing.T, token string) {
		c, err := tokens.Verify(token)
		if err != nil {
			if !errors.Is(err, auth.ErrInvalidToken) || c != (auth.Claims{}) {
				t.Fatalf("Verify = %+v, %v: want zero claims and ErrInvalidToken", c, err)
			}
			return
		}
		seg := strings.Split(token, ".")
		if len(seg) != 3 {
			t.Fatalf("accepted a token of %d segments: %q", len(seg), token)
		}
		header, err1 := base64.RawURLEncoding.DecodeString(seg[0])
		sig, err2 := base64.RawURLEncoding.DecodeString(seg[2])
		if err1 != nil || err2 != nil {
			t.Fatalf("accepted a token whose segments do not decode: %q", token)
		}
		var h struct{ Alg string }
		if json.Unmarshal(header, &h) != nil || h.Alg != "HS256" {
			t.Fatalf("accepted header %q", header)
		}
		if !hmac.Equal(sig, hs256(testSecret, seg[0]+"."+seg[1])) {
			t.Fatalf("accepted a token the secret did not sign: %q", token)
		}
		if c.UserID <= 0 || !c.ExpiresAt.After(time.Now().Add(-time.Second)) {
			t.Fatalf("accepted claims %+v", c)
		}
	})
}
