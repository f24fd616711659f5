package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// hookRequest is one delivery the test's receiver got.
type hookRequest struct {
	id, timestamp, signature string
	body                     []byte
	status                   int
}

// TestWebhookSurvivesCrash: a change commits and the program is killed
// (SIGKILL) before its delivery has succeeded — with a retry pending after
// a failed first attempt, or in the middle of the first attempt (the
// receiver has the request but has not answered). Started again on the
// same database, the program delivers the event: at least once, and every
// copy with the same webhook-id and body, each signed. A job cut off
// mid-attempt is sent again once River finds it stuck (~45 s after it
// started, by the instance that leads River, after the dead one's lease
// has run out), so that case is slow.
func TestWebhookSurvivesCrash(t *testing.T) {
	cases := []struct {
		name string
		// first answers the first request; it may block until the
		// program dies.
		first func(r *http.Request) int
		// killable: the job state at which the program is killed.
		killable func(state string, attempt int) bool
	}{
		{"RetryPending", func(*http.Request) int { return http.StatusInternalServerError }, func(state string, attempt int) bool {
			// River's SQLite driver keeps a job to retry "available" at a
			// later time; on PostgreSQL it is "retryable".
			return (state == "available" || state == "retryable") && attempt == 1
		}},
		{"MidAttempt", func(r *http.Request) int {
			<-r.Context().Done() // answers nothing: the program dies first
			return http.StatusOK
		}, func(state string, attempt int) bool { return state == "running" }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			testWebhookCrash(t, tc.first, tc.killable)
		})
	}
}

func testWebhookCrash(t *testing.T, first func(*http.Request) int, killable func(string, int) bool) {
	var mu sync.Mutex
	var got []hookRequest
	arrived := make(chan struct{}, 100)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h := hookRequest{id: r.Header.Get("webhook-id"), timestamp: r.Header.Get("webhook-timestamp"),
			signature: r.Header.Get("webhook-signature"), body: body, status: http.StatusOK}
		mu.Lock()
		n := len(got)
		got = append(got, h)
		mu.Unlock()
		arrived <- struct{}{}
		if n == 0 {
			h.status = first(r)
		}
		mu.Lock()
		got[n].status = h.status
		mu.Unlock()
		w.WriteHeader(h.status)
	}))
	defer srv.Close()
	requests := func() []hookRequest {
		mu.Lock()
		defer mu.Unlock()
		return append([]hookRequest(nil), got...)
	}

	env := baseEnv(t)
	env["WEBHOOK_ALLOW_PRIVATE"] = "true"
	env["WEBHOOK_RETRY_BASE"] = "5s"
	env["JWT_SECRET"] = strings.Repeat("s", 40)
	bin := buildBinary(t)
	p := startProc(t, bin, env)
	c := client{t: t, base: p.URL}
	_, tok := c.signupLogin("olga")
	pid := c.call("POST", "/api/v1/projects/", tok, map[string]string{"name": "Apollo"}, 201)["id"].(float64)
	hook := c.call("POST", "/api/v1/projects/"+itoa(pid)+"/webhooks", tok, map[string]string{"url": srv.URL}, 201)
	secret := hook["secret"].(string)
	c.call("POST", "/api/v1/projects/"+itoa(pid)+"/tasks", tok, map[string]string{"title": "Durable"}, 201) // committed

	<-arrived
	path := strings.TrimPrefix(env["DATABASE_URL"], "sqlite:///")
	waitFor(t, "the job to reach the crash point", time.Minute, func() bool { return killable(webhookJob(t, path)) })
	p.kill()
	if n := len(requests()); n != 1 {
		t.Fatalf("%d requests before the crash, want 1", n)
	}

	startProc(t, bin, env)
	waitFor(t, "a delivery after the crash", 3*time.Minute, func() bool {
		rs := requests()
		return len(rs) > 1 && rs[len(rs)-1].status == http.StatusOK
	})
	rs := requests()
	for _, r := range rs {
		if r.id != rs[0].id || string(r.body) != string(rs[0].body) {
			t.Errorf("copies differ: %q %s / %q %s", r.id, r.body, rs[0].id, rs[0].body)
		}
		if !verifies(t, secret, r) {
			t.Errorf("signature %q does not verify", r.signature)
		}
	}
	if !strings.Contains(string(rs[0].body), `"title":"Durable"`) {
		t.Errorf("body %s", rs[0].body)
	}
}

// verifies checks a delivery's signature the way the Standard Webhooks
// spec says, written again here: HMAC-SHA256 with the base64-decoded
// secret after whsec_, over "id.timestamp.body".
func verifies(t *testing.T, secret string, r hookRequest) bool {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		t.Fatal(err)
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(r.id + "." + r.timestamp + "." + string(r.body)))
	want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
	for _, s := range strings.Split(r.signature, " ") {
		if hmac.Equal([]byte(s), []byte(want)) {
			return true
		}
	}
	return false
}

// webhookJob reads the state and attempts of the one webhook job in the
// SQLite file at path, on a connection of its own.
func webhookJob(t *testing.T, path string) (state string, attempt int) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.QueryRow("SELECT state, attempt FROM river_job WHERE kind = 'webhook'").Scan(&state, &attempt)
	if err != nil && err != sql.ErrNoRows {
		t.Fatal(err)
	}
	return state, attempt
}
