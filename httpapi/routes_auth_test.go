package httpapi_test

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/taskwire/taskwire"
	"github.com/taskwire/taskwire/auth"
)

// testSecret is the signing secret newEnv gives the server.
var testSecret = []byte(strings.Repeat("k", 32))

func TestSignup(t *testing.T) {
	e := newEnv(t)
	e.user("taken")
	signup := func(email, username, password string) map[string]string {
		return map[string]string{"email": email, "username": username, "password": password}
	}
	const path = "/api/v1/auth/signup"
	huge := `{"email":"big@example.com","username":"big","password":"` + strings.Repeat("p", 1<<20+10) + `"}`
	runScenarios(t, e, []scenario{
		{name: "OK", method: "POST", path: path, body: signup("new@example.com", "new", "password123"),
			wantStatus: 201, wantBody: jsonIs(`{"email": "new@example.com", "username": "new", "id": "<int>"}`)},
		{name: "OKExtraFieldsIgnored", method: "POST", path: path,
			body:       map[string]any{"email": "extra@example.com", "username": "extra", "password": "pw", "full_name": "X"},
			wantStatus: 201, wantBody: jsonIs(`{"email": "extra@example.com", "username": "extra", "id": "<int>"}`)},
		{name: "OKUnicodeUsername", method: "POST", path: path, body: signup("uni@example.com", "Zoë 東京", "pässwörd"),
			wantStatus: 201, wantBody: jsonIs(`{"email": "uni@example.com", "username": "Zoë 東京", "id": "<int>"}`)},
		{name: "ErrEmailTaken", method: "POST", path: path, body: signup("taken@example.com", "other", "pw"),
			wantStatus: 400, wantBody: detailIs("Email already registered")},
		{name: "ErrUsernameTaken", method: "POST", path: path, body: signup("other@example.com", "taken", "pw"),
			wantStatus: 400, wantBody: detailIs("Username already taken")},
		{name: "ErrBothTakenEmailFirst", method: "POST", path: path, body: signup("taken@example.com", "taken", "pw"),
			wantStatus: 400, wantBody: detailIs("Email already registered")},
		{name: "ErrBadEmail", method: "POST", path: path, body: signup("not-an-email", "x1", "pw"),
			wantStatus: 422, wantBody: invalidAt{loc: []any{"body", "email"}}},
		{name: "ErrEmailWithDisplayName", method: "POST", path: path, body: signup("Eve <eve@example.com>", "x2", "pw"),
			wantStatus: 422, wantBody: invalidAt{loc: []any{"body", "email"}}},
		{name: "ErrEmailHeaderInjection", method: "POST", path: path, body: signup("eve@example.com\r\nBcc: a@b.c", "x3", "pw"),
			wantStatus: 422, wantBody: invalidAt{loc: []any{"body", "email"}}},
		{name: "ErrMissingEmail", method: "POST", path: path, body: map[string]string{"username": "x4", "password": "pw"},
			wantStatus: 422, wantBody: invalidAt{loc: []any{"body", "email"}, typ: "missing"}},
		{name: "ErrMissingUsername", method: "POST", path: path, body: map[string]string{"email": "x5@example.com", "password": "pw"},
			wantStatus: 422, wantBody: invalidAt{loc: []any{"body", "username"}, typ: "missing"}},
		{name: "ErrMissingPassword", method: "POST", path: path, body: map[string]string{"email": "x6@example.com", "username": "x6"},
			wantStatus: 422, wantBody: invalidAt{loc: []any{"body", "password"}, typ: "missing"}},
		{name: "ErrEmailWrongType", method: "POST", path: path, body: map[string]any{"email": 5, "username": "x7", "password": "pw"},
			wantStatus: 422, wantBody: invalidAt{loc: []any{"body", "email"}}},
		{name: "ErrUsernameWrongType", method: "POST", path: path, body: map[string]any{"email": "x8@example.com", "username": []int{1}, "password": "pw"},
			wantStatus: 422, wantBody: invalidAt{loc: []any{"body", "username"}}},
		{name: "ErrPasswordWrongType", method: "POST", path: path, body: map[string]any{"email": "x9@example.com", "username": "x9", "password": true},
			wantStatus: 422, wantBody: invalidAt{loc: []any{"body", "password"}}},
		{name: "ErrNullEmail", method: "POST", path: path, body: `{"email": null, "username": "y1", "password": "pw"}`,
			wantStatus: 422, wantBody: invalidAt{loc: []any{"body", "email"}}},
		{name: "ErrNullPassword", method: "POST", path: path, body: `{"email": "y2@example.com", "username": "y2", "password": null}`,
			wantStatus: 422, wantBody: invalidAt{loc: []any{"body", "password"}}},
		{name: "ErrMalformedJSON", method: "POST", path: path, body: `{"email": "y3@example.com", "username": `,
			wantStatus: 422, wantBody: invalidAt{}},
		{name: "ErrBodyNotObject", method: "POST", path: path, body: `["y4@example.com", "y4", "pw"]`,
			wantStatus: 422, wantBody: invalidAt{}},
		{name: "ErrBodyNull", method: "POST", path: path, body: `null`,
			wantStatus: 422, wantBody: invalidAt{}},
		{name: "ErrEmptyBody", method: "POST", path: path, body: ``,
			wantStatus: 422, wantBody: invalidAt{loc: []any{"body"}}},
		{name: "ErrNoBody", method: "POST", path: path,
			wantStatus: 422, wantBody: invalidAt{loc: []any{"body"}}},
		{name: "ErrEmptyUsername", method: "POST", path: path, body: signup("y5@example.com", "", "pw"),
			wantStatus: 422, wantBody: invalidAt{loc: []any{"body", "username"}}},
		{name: "ErrEmptyPassword", method: "POST", path: path, body: signup("y6@example.com", "y6", ""),
			wantStatus: 422, wantBody: invalidAt{loc: []any{"body", "password"}}},
		{name: "ErrPasswordOver72Bytes", method: "POST", path: path, body: signup("y7@example.com", "y7", strings.Repeat("p", 73)),
			wantStatus: 422, wantBody: invalidAt{loc: []any{"body", "password"}}},
		{name: "ErrBodyTooLarge", method: "POST", path: path, body: huge,
			wantStatus: 413, wantBody: detailIs("<string>")},
		{name: "ErrTakenStillChecked", method: "POST", path: path, body: signup("new@example.com", "new", "password123"),
			wantStatus: 400, wantBody: detailIs("Email already registered")},
	})
}

// multipartForm encodes fields as multipart/form-data.
func multipartForm(t *testing.T, fields ...string) (body, contentType string) {
	t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	for i := 0; i+1 < len(fields); i += 2 {
		if err := w.WriteField(fields[i], fields[i+1]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.String(), w.FormDataContentType()
}

// tokenWorks asserts that a login answer's token authenticates as username.
func tokenWorks(e *env, username string) func(*testing.T, response) {
	return func(t *testing.T, r response) {
		t.Helper()
		expectJSON(t, r.Body, map[string]any{"access_token": "<string>", "token_type": "bearer"})
		var tok struct {
			AccessToken string `json:"access_token"`
		}
		r.JSON(t, &tok)
		me := e.as(t).do("GET", "/api/v1/users/me", tok.AccessToken, nil)
		if me.Status != 200 {
			t.Fatalf("GET /users/me with the new token: %d %s", me.Status, me.Body)
		}
		expectJSON(t, me.Body, map[string]any{"id": "<int>", "email": username + "@example.com", "username": username})
	}
}

func TestLogin(t *testing.T) {
	e := newEnv(t)
	e.user("alice")
	const path = "/api/v1/auth/login"
	form := func(kv ...string) url.Values {
		v := url.Values{}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Add(kv[i], kv[i+1])
		}
		return v
	}
	mp, mpType := multipartForm(t, "username", "alice", "password", "password123")
	bad := detailIs("Incorrect username or password")
	runScenarios(t, e, []scenario{
		{name: "OK", method: "POST", path: path, body: form("username", "alice", "password", "password123"),
			wantStatus: 200, wantBody: tokenWorks(e, "alice")},
		{name: "OKByEmail", method: "POST", path: path, body: form("username", "alice@example.com", "password", "password123"),
			wantStatus: 200, wantBody: tokenWorks(e, "alice")},
		{name: "OKOAuth2Fields", method: "POST", path: path,
			body:       form("grant_type", "password", "username", "alice", "password", "password123", "scope", "a b", "client_id", "c", "client_secret", "s"),
			wantStatus: 200, wantBody: tokenWorks(e, "alice")},
		{name: "OKEmptyGrantType", method: "POST", path: path, body: form("grant_type", "", "username", "alice", "password", "password123"),
			wantStatus: 200, wantBody: tokenWorks(e, "alice")},
		{name: "OKMultipart", method: "POST", path: path, body: mp, headers: []string{"Content-Type", mpType},
			wantStatus: 200, wantBody: tokenWorks(e, "alice")},
		{name: "OKCharsetParam", method: "POST", path: path, body: "username=alice&password=password123",
			headers:    []string{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"},
			wantStatus: 200, wantBody: tokenWorks(e, "alice")},
		{name: "ErrWrongPassword", method: "POST", path: path, body: form("username", "alice", "password", "nope"),
			wantStatus: 401, wantBody: bad, wantHeaders: bearerChallenge},
		{name: "ErrUnknownUser", method: "POST", path: path, body: form("username", "nobody", "password", "password123"),
			wantStatus: 401, wantBody: bad, wantHeaders: bearerChallenge},
		{name: "ErrUsernameCaseMatters", method: "POST", path: path, body: form("username", "ALICE", "password", "password123"),
			wantStatus: 401, wantBody: bad, wantHeaders: bearerChallenge},
		{name: "ErrEmptyPassword", method: "POST", path: path, body: form("username", "alice", "password", ""),
			wantStatus: 401, wantBody: bad, wantHeaders: bearerChallenge},
		{name: "ErrMissingUsername", method: "POST", path: path, body: form("password", "password123"),
			wantStatus: 422, wantBody: invalidAt{loc: []any{"body", "username"}, typ: "missing"}},
		{name: "ErrMissingPassword", method: "POST", path: path, body: form("username", "alice"),
			wantStatus: 422, wantBody: invalidAt{loc: []any{"body", "password"}, typ: "missing"}},
		{name: "ErrEmptyForm", method: "POST", path: path, body: "", headers: []string{"Content-Type", "application/x-www-form-urlencoded"},
			wantStatus: 422, wantBody: invalidAt{loc: []any{"body", "username"}, typ: "missing"}},
		{name: "ErrGrantType", method: "POST", path: path, body: form("grant_type", "client_credentials", "username", "alice", "password", "password123"),
			wantStatus: 422, wantBody: invalidAt{loc: []any{"body", "grant_type"}}},
		// FastAPI reads a body that is not a form as an empty form: one
		// entry per missing field.
		{name: "ErrJSONInsteadOfForm", method: "POST", path: path, body: map[string]string{"username": "alice", "password": "password123"},
			wantStatus: 422, wantBody: jsonIs(`{"detail": [
				{"loc": ["body", "username"], "msg": "Field required", "type": "missing"},
				{"loc": ["body", "password"], "msg": "Field required", "type": "missing"}]}`)},
		{name: "ErrEmptyFormBothMissing", method: "POST", path: path, body: "", headers: []string{"Content-Type", "application/x-www-form-urlencoded"},
			wantStatus: 422, wantBody: jsonIs(`{"detail": [
				{"loc": ["body", "username"], "msg": "Field required", "type": "missing"},
				{"loc": ["body", "password"], "msg": "Field required", "type": "missing"}]}`)},
		{name: "ErrTextPlainBody", method: "POST", path: path, body: "username=alice&password=password123", headers: []string{"Content-Type", "text/plain"},
			wantStatus: 422, wantBody: jsonIs(`{"detail": [
				{"loc": ["body", "username"], "msg": "Field required", "type": "missing"},
				{"loc": ["body", "password"], "msg": "Field required", "type": "missing"}]}`)},
		{name: "ErrBodyTooLarge", method: "POST", path: path, body: "username=alice&password=" + strings.Repeat("p", 1<<20+10),
			headers: []string{"Content-Type", "application/x-www-form-urlencoded"}, wantStatus: 413, wantBody: detailIs("<string>")},
		{name: "ErrBrokenMultipart", method: "POST", path: path, body: "--x\r\nnot a part",
			headers:    []string{"Content-Type", "multipart/form-data; boundary=x"},
			wantStatus: 422, wantBody: invalidAt{}},
	})
}

func TestRateLimit(t *testing.T) {
	lowRate := withEnv("RATE_LIMIT_AUTH", "2/minute")
	const msg = "Rate limit exceeded: 2 per 1 minute"
	limited := func(t *testing.T, r response) {
		t.Helper()
		if r.Status != http.StatusTooManyRequests {
			t.Fatalf("status %d, want 429: %s", r.Status, r.Body)
		}
		expectJSON(t, r.Body, map[string]any{"detail": msg, "error": msg})
		ra, err := strconv.Atoi(r.Header.Get("Retry-After"))
		if err != nil || ra < 1 || ra > 60 {
			t.Errorf("Retry-After %q, want 1..60 seconds", r.Header.Get("Retry-After"))
		}
	}
	signup := func(name string) map[string]string {
		return map[string]string{"email": name + "@example.com", "username": name, "password": "password123"}
	}
	login := func(name string) url.Values { return url.Values{"username": {name}, "password": {"password123"}} }

	t.Run("SignupThenLogin", func(t *testing.T) {
		e := newEnv(t, lowRate)
		runScenarios(t, e, []scenario{
			{name: "Signup1", method: "POST", path: "/api/v1/auth/signup", body: signup("a"), wantStatus: 201},
			{name: "Signup2Duplicate", method: "POST", path: "/api/v1/auth/signup", body: signup("a"), wantStatus: 400,
				wantBody: detailIs("Email already registered")},
			{name: "Signup3Limited", method: "POST", path: "/api/v1/auth/signup", body: signup("b"), wantStatus: 429, wantBody: limited},
			{name: "Signup4StillLimited", method: "POST", path: "/api/v1/auth/signup", body: signup("c"), wantStatus: 429, wantBody: limited},
			// Login has its own budget.
			{name: "Login1", method: "POST", path: "/api/v1/auth/login", body: login("a"), wantStatus: 200},
			{name: "Login2WrongPassword", method: "POST", path: "/api/v1/auth/login",
				body: url.Values{"username": {"a"}, "password": {"bad"}}, wantStatus: 401, wantHeaders: bearerChallenge},
			{name: "Login3Limited", method: "POST", path: "/api/v1/auth/login", body: login("a"), wantStatus: 429, wantBody: limited},
		})
		// Other routes are not limited.
		r := e.do("GET", "/", "", nil)
		if r.Status != 200 {
			t.Errorf("GET / after the auth limits: %d", r.Status)
		}
		// The user signed up before the limit exists.
		if r := e.do("GET", "/api/v1/users/lookup?username=b", mustToken(t, e, "a"), nil); r.Status != 404 {
			t.Errorf("a rate-limited signup created a user: %d %s", r.Status, r.Body)
		}
	})
	t.Run("LoginDoesNotSpendSignup", func(t *testing.T) {
		e := newEnv(t, lowRate)
		runScenarios(t, e, []scenario{
			{name: "Login1UnknownUser", method: "POST", path: "/api/v1/auth/login", body: login("x"), wantStatus: 401},
			{name: "Login2UnknownUser", method: "POST", path: "/api/v1/auth/login", body: login("x"), wantStatus: 401},
			{name: "Login3Limited", method: "POST", path: "/api/v1/auth/login", body: login("x"), wantStatus: 429, wantBody: limited},
			{name: "Signup1", method: "POST", path: "/api/v1/auth/signup", body: signup("a"), wantStatus: 201},
			{name: "Signup2", method: "POST", path: "/api/v1/auth/signup", body: signup("b"), wantStatus: 201},
			{name: "Signup3Limited", method: "POST", path: "/api/v1/auth/signup", body: signup("c"), wantStatus: 429, wantBody: limited},
		})
	})
	t.Run("ValidationErrorsDoNotCount", func(t *testing.T) {
		e := newEnv(t, lowRate)
		var rows []scenario
		for i := range 5 {
			rows = append(rows,
				scenario{name: "BadSignup" + strconv.Itoa(i), method: "POST", path: "/api/v1/auth/signup",
					body: map[string]string{"email": "nope", "username": "a", "password": "pw"}, wantStatus: 422, wantBody: invalidAt{}},
				scenario{name: "BadLogin" + strconv.Itoa(i), method: "POST", path: "/api/v1/auth/login",
					body: url.Values{"username": {"a"}}, wantStatus: 422, wantBody: invalidAt{}},
				scenario{name: "BadGrant" + strconv.Itoa(i), method: "POST", path: "/api/v1/auth/login",
					body: url.Values{"username": {"a"}, "password": {"pw"}, "grant_type": {"x"}}, wantStatus: 422, wantBody: invalidAt{}},
			)
		}
		rows = append(rows,
			scenario{name: "Signup1", method: "POST", path: "/api/v1/auth/signup", body: signup("a"), wantStatus: 201},
			scenario{name: "Signup2", method: "POST", path: "/api/v1/auth/signup", body: signup("b"), wantStatus: 201},
			scenario{name: "Signup3Limited", method: "POST", path: "/api/v1/auth/signup", body: signup("c"), wantStatus: 429, wantBody: limited},
			scenario{name: "Login1", method: "POST", path: "/api/v1/auth/login", body: login("a"), wantStatus: 200},
			scenario{name: "Login2", method: "POST", path: "/api/v1/auth/login", body: login("b"), wantStatus: 200},
			scenario{name: "Login3Limited", method: "POST", path: "/api/v1/auth/login", body: login("a"), wantStatus: 429, wantBody: limited},
		)
		runScenarios(t, e, rows)
	})
	t.Run("ProxyAddedAddressCounts", func(t *testing.T) {
		// Behind a trusted proxy the last X-Forwarded-For entry is the
		// client; what the client wrote before it cannot buy a new budget.
		e := newEnv(t, lowRate, withEnv("TRUST_PROXY", "true"))
		from := func(xff string) []string { return []string{"X-Forwarded-For", xff} }
		for i, h := range [][]string{from("1.1.1.1, 203.0.113.7"), from("2.2.2.2, 203.0.113.7"), from("3.3.3.3, 203.0.113.7")} {
			r := e.do("POST", "/api/v1/auth/signup", "", signup("p"+strconv.Itoa(i)), h...)
			if want := []int{201, 201, 429}[i]; r.Status != want {
				t.Fatalf("signup %d from %s: status %d, want %d: %s", i, h[1], r.Status, want, r.Body)
			}
		}
		if r := e.do("POST", "/api/v1/auth/signup", "", signup("other"), from("3.3.3.3, 198.51.100.1")...); r.Status != 201 {
			t.Fatalf("another client behind the proxy: status %d, want 201: %s", r.Status, r.Body)
		}
	})
}

// mustToken issues a token for an existing username (looked up through the
// service: a fresh login would spend the rate limit).
func mustToken(t *testing.T, e *env, username string) string {
	t.Helper()
	u, err := e.svc.LookupUser(t.Context(), taskwire.UserSelector{Username: &username})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := e.tokens.Issue(u.ID)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// signedToken returns an HS256 token with the given claims.
func signedToken(tb testing.TB, secret []byte, claims jwt.Claims) string {
	tb.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(secret)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// expiredClaims are the claims of a token for userID that expired an hour ago.
func expiredClaims(userID int64) jwt.Claims {
	now := time.Now()
	return jwt.RegisteredClaims{Subject: itoa(userID),
		IssuedAt: jwt.NewNumericDate(now.Add(-2 * time.Hour)), ExpiresAt: jwt.NewNumericDate(now.Add(-time.Hour))}
}

// protectedRoutes lists one request per route that needs a token; the
// requests are otherwise valid.
func protectedRoutes(pid, tid, uid int64) []scenario {
	p, ti, u := itoa(pid), itoa(tid), itoa(uid)
	return []scenario{
		{method: "GET", path: "/api/v1/users/me"},
		{method: "GET", path: "/api/v1/users/lookup?username=alice"},
		{method: "GET", path: "/api/v1/projects/"},
		{method: "GET", path: "/api/v1/projects"},
		{method: "POST", path: "/api/v1/projects/", body: map[string]string{"name": "P"}},
		{method: "POST", path: "/api/v1/projects", body: map[string]string{"name": "P"}},
		{method: "GET", path: "/api/v1/projects/" + p},
		{method: "PATCH", path: "/api/v1/projects/" + p, body: map[string]string{"name": "Q"}},
		{method: "DELETE", path: "/api/v1/projects/" + p},
		{method: "POST", path: "/api/v1/projects/" + p + "/members", body: map[string]any{"user_id": uid}},
		{method: "DELETE", path: "/api/v1/projects/" + p + "/members/" + u},
		{method: "GET", path: "/api/v1/projects/" + p + "/tasks"},
		{method: "POST", path: "/api/v1/projects/" + p + "/tasks", body: map[string]string{"title": "T"}},
		{method: "GET", path: "/api/v1/projects/" + p + "/events"},
		{method: "GET", path: "/api/v1/tasks/" + ti},
		{method: "PUT", path: "/api/v1/tasks/" + ti, body: map[string]string{"title": "U"}},
		{method: "PATCH", path: "/api/v1/tasks/" + ti + "/status", body: map[string]string{"status": "done"}},
		{method: "DELETE", path: "/api/v1/tasks/" + ti},
		{method: "GET", path: "/api/v1/tasks/" + ti + "/comments"},
		{method: "POST", path: "/api/v1/tasks/" + ti + "/comments", body: map[string]string{"body": "B"}},
		{method: "PATCH", path: "/api/v1/comments/1", body: map[string]string{"body": "C"}},
		{method: "DELETE", path: "/api/v1/comments/1"},
		// Authentication comes before body validation, as in FastAPI.
		{method: "POST", path: "/api/v1/projects/" + p + "/tasks", body: `{"title": nul`},
		{method: "PUT", path: "/api/v1/tasks/" + ti, body: map[string]any{"status": "bogus"}},
		{method: "GET", path: "/api/v1/projects/" + p + "/tasks?limit=0"},
		{method: "GET", path: "/api/v1/projects/abc"},
	}
}

func TestAuthRequired(t *testing.T) {
	e := newEnv(t)
	aliceID, aliceTok := e.user("alice")
	bobID, _ := e.user("bob")
	pid := e.project(aliceTok, bobID)
	task := e.task(aliceTok, pid, "keep me")

	other, err := auth.NewTokens([]byte(strings.Repeat("o", 32)), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	otherSecret, _ := other.Issue(aliceID)
	unknownUser, _ := e.tokens.Issue(999999)
	now := time.Now()
	expired := signedToken(t, testSecret, expiredClaims(aliceID))
	noExpiry := signedToken(t, testSecret, jwt.RegisteredClaims{Subject: itoa(aliceID), IssuedAt: jwt.NewNumericDate(now)})
	badSubject := signedToken(t, testSecret, jwt.RegisteredClaims{Subject: "alice", ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour))})
	algNone, err := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.RegisteredClaims{Subject: itoa(aliceID),
		ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour))}).SignedString(jwt.UnsafeAllowNoneSignatureType)
	if err != nil {
		t.Fatal(err)
	}
	valid, _ := e.tokens.Issue(aliceID)
	tampered := valid[:len(valid)-2] + "xx"

	notAuth := detailIs("Not authenticated")
	noCreds := detailIs("Could not validate credentials")
	kinds := []struct {
		name   string
		header string // Authorization; "" sends none
		want   detailIs
	}{
		{"NoHeader", "", notAuth},
		{"EmptyBearer", "Bearer ", notAuth},
		{"BasicScheme", "Basic YWxpY2U6cGFzc3dvcmQxMjM=", notAuth},
		{"TokenWithoutScheme", valid, notAuth},
		{"Garbage", "Bearer garbage", noCreds},
		{"OtherSecret", "Bearer " + otherSecret, noCreds},
		{"Expired", "Bearer " + expired, noCreds},
		{"NoExpiry", "Bearer " + noExpiry, noCreds},
		{"NonNumericSubject", "Bearer " + badSubject, noCreds},
		{"AlgNone", "Bearer " + algNone, noCreds},
		{"Tampered", "Bearer " + tampered, noCreds},
		{"UnknownUser", "Bearer " + unknownUser, noCreds},
	}
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			var rows []scenario
			for _, row := range protectedRoutes(pid, task.ID, bobID) {
				row.name = row.method + " " + row.path
				if k.header != "" {
					row.headers = []string{"Authorization", k.header}
				}
				row.wantStatus, row.wantBody, row.wantHeaders = 401, k.want, bearerChallenge
				rows = append(rows, row)
			}
			runScenarios(t, e, rows)
		})
	}
	// Nothing above changed anything.
	r := e.do("GET", "/api/v1/tasks/"+itoa(task.ID), aliceTok, nil)
	if r.Status != 200 || r.Header.Get("ETag") != `"1"` {
		t.Errorf("the task changed under unauthenticated requests: %d %s", r.Status, r.Body)
	}
	if r := e.do("GET", "/api/v1/projects/"+itoa(pid)+"/events", aliceTok, nil); r.Status != 200 {
		t.Errorf("events: %d", r.Status)
	} else {
		var evs []map[string]any
		r.JSON(t, &evs)
		if len(evs) != 2 { // member_added, task_created
			t.Errorf("unauthenticated requests wrote events: %s", r.Body)
		}
	}
	// The lowercase scheme works, as in FastAPI.
	runScenarios(t, e, []scenario{{name: "LowercaseBearer", method: "GET", path: "/api/v1/users/me",
		headers: []string{"Authorization", "bearer " + valid}, wantStatus: 200,
		wantBody: jsonIs(`{"id": ` + itoa(aliceID) + `, "email": "alice@example.com", "username": "alice"}`)}})
}

func TestUsers(t *testing.T) {
	e := newEnv(t)
	aliceID, aliceTok := e.user("alice")
	bobID, bobTok := e.user("bob")
	bob := `{"id": ` + itoa(bobID) + `, "username": "bob"}`
	runScenarios(t, e, []scenario{
		{name: "MeAlice", method: "GET", path: "/api/v1/users/me", token: aliceTok, wantStatus: 200,
			wantBody: jsonIs(`{"id": ` + itoa(aliceID) + `, "email": "alice@example.com", "username": "alice"}`)},
		{name: "MeBob", method: "GET", path: "/api/v1/users/me", token: bobTok, wantStatus: 200,
			wantBody: jsonIs(`{"id": ` + itoa(bobID) + `, "email": "bob@example.com", "username": "bob"}`)},
		{name: "LookupByUsername", method: "GET", path: "/api/v1/users/lookup?username=bob", token: aliceTok, wantStatus: 200, wantBody: jsonIs(bob)},
		{name: "LookupByEmail", method: "GET", path: "/api/v1/users/lookup?email=bob%40example.com", token: aliceTok, wantStatus: 200, wantBody: jsonIs(bob)},
		{name: "LookupSelf", method: "GET", path: "/api/v1/users/lookup?username=bob", token: bobTok, wantStatus: 200, wantBody: jsonIs(bob)},
		{name: "ErrLookupUnknownUsername", method: "GET", path: "/api/v1/users/lookup?username=carol", token: aliceTok,
			wantStatus: 404, wantBody: detailIs("User not found")},
		{name: "ErrLookupUnknownEmail", method: "GET", path: "/api/v1/users/lookup?email=carol%40example.com", token: aliceTok,
			wantStatus: 404, wantBody: detailIs("User not found")},
		{name: "ErrLookupNotExactUsername", method: "GET", path: "/api/v1/users/lookup?username=bo", token: aliceTok,
			wantStatus: 404, wantBody: detailIs("User not found")},
		{name: "ErrLookupWildcard", method: "GET", path: "/api/v1/users/lookup?username=%25", token: aliceTok,
			wantStatus: 404, wantBody: detailIs("User not found")},
		{name: "ErrLookupNeither", method: "GET", path: "/api/v1/users/lookup", token: aliceTok,
			wantStatus: 422, wantBody: invalidAt{}},
		{name: "ErrLookupBothEmpty", method: "GET", path: "/api/v1/users/lookup?username=&email=", token: aliceTok,
			wantStatus: 422, wantBody: invalidAt{}},
		{name: "ErrLookupBoth", method: "GET", path: "/api/v1/users/lookup?username=bob&email=bob%40example.com", token: aliceTok,
			wantStatus: 422, wantBody: invalidAt{}},
	})
}
