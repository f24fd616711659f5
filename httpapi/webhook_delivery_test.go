package httpapi_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/taskwire/taskwire"
)

// delivery is one request a receiver got.
type delivery struct {
	ID, Timestamp, Signature, ContentType string
	Body                                  []byte
}

// receiver is a webhook endpoint on 127.0.0.1. answer decides the status
// of its n-th request (0-based); it may block (a slow receiver) until the
// request's context ends.
type receiver struct {
	t      *testing.T
	URL    string
	answer func(n int, r *http.Request) int

	mu  sync.Mutex
	got []delivery
	arr chan struct{} // signalled after each request
}

func newReceiver(t *testing.T, answer func(n int, r *http.Request) int) *receiver {
	rc := &receiver{t: t, answer: answer, arr: make(chan struct{}, 1000)}
	if rc.answer == nil {
		rc.answer = func(int, *http.Request) int { return http.StatusNoContent }
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		d := delivery{
			ID: r.Header.Get("webhook-id"), Timestamp: r.Header.Get("webhook-timestamp"),
			Signature: r.Header.Get("webhook-signature"), ContentType: r.Header.Get("Content-Type"), Body: body,
		}
		rc.mu.Lock()
		n := len(rc.got)
		rc.got = append(rc.got, d)
		rc.mu.Unlock()
		status := rc.answer(n, r)
		rc.arr <- struct{}{}
		if r.Context().Err() == nil {
			w.WriteHeader(status)
		}
	}))
	t.Cleanup(srv.Close)
	rc.URL = srv.URL + "/hook"
	return rc
}

// wait blocks until the receiver has had n requests and returns them.
func (rc *receiver) wait(n int) []delivery {
	rc.t.Helper()
	timeout := time.After(60 * time.Second) // a hang, not a timed assertion
	for {
		rc.mu.Lock()
		if len(rc.got) >= n {
			out := append([]delivery(nil), rc.got...)
			rc.mu.Unlock()
			return out
		}
		rc.mu.Unlock()
		select {
		case <-rc.arr:
		case <-time.After(100 * time.Millisecond):
		case <-timeout:
			rc.t.Fatalf("receiver: %d requests, want %d", len(rc.got), n)
		}
	}
}

func (rc *receiver) count() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.got)
}

// verifiedBy returns how many of the delivery's signatures verify with
// secret. It is the Standard Webhooks 1.0 algorithm written again from the
// spec, not Taskwire's: HMAC-SHA256 keyed with the base64-decoded secret
// after "whsec_", over "<webhook-id>.<webhook-timestamp>.<body>", sent as
// "v1,<base64>" and space-separated.
func verifiedBy(t *testing.T, secret string, d delivery) int {
	t.Helper()
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil || !strings.HasPrefix(secret, "whsec_") || len(key) != 32 {
		t.Fatalf("secret %q is not whsec_ + base64 of 32 bytes", secret)
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(d.ID + "." + d.Timestamp + "." + string(d.Body)))
	want := mac.Sum(nil)
	n := 0
	for _, s := range strings.Split(d.Signature, " ") {
		version, sig, ok := strings.Cut(s, ",")
		if !ok || version != "v1" {
			t.Errorf("signature %q is not v1,<base64>", s)
			continue
		}
		raw, err := base64.StdEncoding.DecodeString(sig)
		if err == nil && hmac.Equal(raw, want) {
			n++
		}
	}
	return n
}

// checkDelivery checks what every delivery must be: JSON, with the id,
// a current timestamp and a signature by secret.
func checkDelivery(t *testing.T, secret string, d delivery) {
	t.Helper()
	if d.ContentType != "application/json" {
		t.Errorf("content-type %q", d.ContentType)
	}
	if !strings.HasPrefix(d.ID, "msg_") {
		t.Errorf("webhook-id %q", d.ID)
	}
	ts, err := strconv.ParseInt(d.Timestamp, 10, 64)
	if err != nil || time.Since(time.Unix(ts, 0)).Abs() > 5*time.Minute {
		t.Errorf("webhook-timestamp %q is not the time of the attempt", d.Timestamp)
	}
	if verifiedBy(t, secret, d) != 1 {
		t.Errorf("no signature of %q verifies with the secret", d.Signature)
	}
	var b struct {
		Type      string          `json:"type"`
		Timestamp string          `json:"timestamp"`
		Data      json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(d.Body, &b); err != nil || b.Type == "" || len(b.Data) == 0 {
		t.Errorf("body %s: %v", d.Body, err)
	}
	if _, err := time.Parse(time.RFC3339, b.Timestamp); err != nil {
		t.Errorf("timestamp %q is not RFC 3339", b.Timestamp)
	}
}

// hookEnv is a server that may post to 127.0.0.1, with short retries.
func hookEnv(t *testing.T, kv ...string) *env {
	return newEnv(t, withEnv(append([]string{"WEBHOOK_ALLOW_PRIVATE", "true", "WEBHOOK_RETRY_BASE", "10ms", "WEBHOOK_MAX_ATTEMPTS", "3"}, kv...)...))
}

// createdHook is a create's answer.
type createdHook struct {
	ID     int64    `json:"id"`
	Secret string   `json:"secret"`
	Active bool     `json:"active"`
	Events []string `json:"events"`
}

// hook creates a webhook and returns it with its secret.
func (e *env) hook(token string, projectID int64, body map[string]any) createdHook {
	e.t.Helper()
	r := e.do("POST", "/api/v1/projects/"+itoa(projectID)+"/webhooks", token, body)
	if r.Status != http.StatusCreated {
		e.t.Fatalf("create webhook: %d %s", r.Status, r.Body)
	}
	var h createdHook
	r.JSON(e.t, &h)
	return h
}

// deliveries lists a webhook's delivery log, newest first.
func (e *env) deliveries(token string, id int64) []taskwire.WebhookDelivery {
	e.t.Helper()
	r := e.do("GET", "/api/v1/webhooks/"+itoa(id)+"/deliveries", token, nil)
	if r.Status != http.StatusOK {
		e.t.Fatalf("deliveries: %d %s", r.Status, r.Body)
	}
	var ds []taskwire.WebhookDelivery
	r.JSON(e.t, &ds)
	return ds
}

// waitDeliveries waits until the log has n rows and returns them.
func (e *env) waitDeliveries(token string, id int64, n int) []taskwire.WebhookDelivery {
	e.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		ds := e.deliveries(token, id)
		if len(ds) >= n {
			return ds
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("delivery log has %d rows, want %d", len(ds), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// hookJob is what the tests read of a webhook job in River's table.
type hookJob struct {
	State string
	Args  struct {
		WebhookID int64  `json:"webhook_id"`
		Seq       int64  `json:"seq"`
		Type      string `json:"type"`
	}
}

// hookJobs returns the webhook delivery jobs in the database, oldest
// first, as River keeps them.
// webhookOutbox counts the events noted for webhooks and not yet turned
// into jobs.
func (e *env) webhookOutbox() int {
	e.t.Helper()
	pool, err := e.db.NewPool(1)
	if err != nil {
		e.t.Fatal(err)
	}
	defer pool.Close()
	var n int
	if err := pool.QueryRow("SELECT count(*) FROM webhook_outbox").Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

func (e *env) hookJobs() []hookJob {
	e.t.Helper()
	pool, err := e.db.NewPool(1)
	if err != nil {
		e.t.Fatal(err)
	}
	defer pool.Close()
	args := "json(args)" // River's SQLite driver keeps JSONB
	if e.db.Postgres() {
		args = "args"
	}
	rows, err := pool.Query("SELECT state, " + args + " FROM river_job WHERE kind = 'webhook' ORDER BY id")
	if err != nil {
		e.t.Fatal(err)
	}
	defer rows.Close()
	var out []hookJob
	for rows.Next() {
		var j hookJob
		var args []byte
		if err := rows.Scan(&j.State, &args); err != nil {
			e.t.Fatal(err)
		}
		if err := json.Unmarshal(args, &j.Args); err != nil {
			e.t.Fatal(err)
		}
		out = append(out, j)
	}
	if err := rows.Err(); err != nil {
		e.t.Fatal(err)
	}
	return out
}

// waitJobsFinished waits until no webhook job is left to run.
func (e *env) waitJobsFinished() []hookJob {
	e.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		// An event noted for webhooks becomes its jobs just after its
		// commit (Service.DispatchWebhooks), in one transaction: wait for
		// that too. The notes are counted before the jobs are read, so a
		// dispatch in between cannot hide both.
		done := e.webhookOutbox() == 0
		jobs := e.hookJobs()
		for _, j := range jobs {
			if j.State != "completed" && j.State != "discarded" && j.State != "cancelled" {
				done = false
			}
		}
		if done {
			return jobs
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("webhook jobs still pending: %+v", jobs)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestWebhookDelivery(t *testing.T) {
	e := hookEnv(t)
	_, alice := e.user("alice")
	pid := e.project(alice)
	rc := newReceiver(t, nil)
	h := e.hook(alice, pid, map[string]any{"url": rc.URL, "description": "CI"})
	task := e.task(alice, pid, "ship it")

	d := rc.wait(1)[0]
	checkDelivery(t, h.Secret, d)
	if want := fmt.Sprintf("msg_%d_1_%d", pid, h.ID); d.ID != want {
		t.Errorf("webhook-id %q, want %q", d.ID, want)
	}
	// data is the event exactly as the log (and a protocol-2 socket)
	// gives it.
	r := e.do("GET", "/api/v1/projects/"+itoa(pid)+"/events?since=0", alice, nil)
	var events []json.RawMessage
	r.JSON(t, &events)
	if len(events) != 1 {
		t.Fatalf("events: %s", r.Body)
	}
	var body struct {
		Type      string          `json:"type"`
		Timestamp time.Time       `json:"timestamp"`
		Data      json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(d.Body, &body); err != nil {
		t.Fatal(err)
	}
	var ev taskwire.Event
	if err := json.Unmarshal(events[0], &ev); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(body.Data, ev.AppendJSON(nil)) || body.Type != "task_created" || !body.Timestamp.Equal(ev.TS) {
		t.Errorf("body %s, want type task_created, the event's time and data %s", d.Body, events[0])
	}
	var data struct {
		Event string `json:"event"`
		Seq   int64  `json:"seq"`
		Data  struct{ ID int64 }
	}
	json.Unmarshal(body.Data, &data)
	if data.Event != "task_created" || data.Seq != 1 || data.Data.ID != task.ID {
		t.Errorf("data %s", body.Data)
	}

	ds := e.waitDeliveries(alice, h.ID, 1)
	if got := ds[0]; got.EventSeq != 1 || got.EventType != "task_created" || got.Attempt != 1 ||
		got.StatusCode == nil || *got.StatusCode != 204 || got.Error != nil || got.NextAttemptAt != nil {
		t.Errorf("delivery log %+v", got)
	}
}

func TestWebhookRetriesKeepTheID(t *testing.T) {
	cases := []struct {
		name    string
		answer  func(n int, r *http.Request) int
		wantErr string
	}{
		{"After500", func(n int, r *http.Request) int {
			if n == 0 {
				return 500
			}
			return 200
		}, "The receiver answered 500"},
		{"AfterTimeout", func(n int, r *http.Request) int {
			if n == 0 {
				<-r.Context().Done() // never answers in time
			}
			return 200
		}, "No answer within 300ms"},
		{"AfterRedirect", func(n int, r *http.Request) int {
			if n == 0 {
				return http.StatusFound // not followed: a failure
			}
			return 200
		}, "The receiver answered 302"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := hookEnv(t, "WEBHOOK_TIMEOUT", "300ms")
			_, alice := e.user("alice")
			pid := e.project(alice)
			rc := newReceiver(t, tc.answer)
			h := e.hook(alice, pid, map[string]any{"url": rc.URL})
			e.task(alice, pid, "t")
			got := rc.wait(2)
			for _, d := range got {
				checkDelivery(t, h.Secret, d)
			}
			if got[0].ID != got[1].ID || !bytes.Equal(got[0].Body, got[1].Body) {
				t.Errorf("attempts differ: %q %s / %q %s", got[0].ID, got[0].Body, got[1].ID, got[1].Body)
			}
			ds := e.waitDeliveries(alice, h.ID, 2)
			last, first := ds[0], ds[1]
			if first.Attempt != 1 || first.Error == nil || *first.Error != tc.wantErr || first.NextAttemptAt == nil {
				t.Errorf("first attempt %+v", first)
			}
			if last.Attempt != 2 || last.StatusCode == nil || *last.StatusCode != 200 || last.Error != nil || last.NextAttemptAt != nil {
				t.Errorf("second attempt %+v", last)
			}
			if jobs := e.waitJobsFinished(); len(jobs) != 1 || jobs[0].State != "completed" {
				t.Errorf("jobs %+v", jobs)
			}
		})
	}
}

func TestWebhookGivesUpAfterMaxAttempts(t *testing.T) {
	e := hookEnv(t, "WEBHOOK_MAX_ATTEMPTS", "2")
	_, alice := e.user("alice")
	pid := e.project(alice)
	rc := newReceiver(t, func(int, *http.Request) int { return 503 })
	h := e.hook(alice, pid, map[string]any{"url": rc.URL})
	e.task(alice, pid, "t")
	jobs := e.waitJobsFinished()
	if len(jobs) != 1 || jobs[0].State != "discarded" || rc.count() != 2 {
		t.Errorf("jobs %+v after %d requests, want one discarded after 2", jobs, rc.count())
	}
	ds := e.deliveries(alice, h.ID)
	if len(ds) != 2 || ds[0].NextAttemptAt != nil || ds[1].NextAttemptAt == nil {
		t.Errorf("log %+v: the last attempt has no next", ds)
	}
}

func TestWebhook410Disables(t *testing.T) {
	e := hookEnv(t)
	_, alice := e.user("alice")
	pid := e.project(alice)
	gone := newReceiver(t, func(int, *http.Request) int { return http.StatusGone })
	witness := newReceiver(t, nil)
	h := e.hook(alice, pid, map[string]any{"url": gone.URL})
	e.hook(alice, pid, map[string]any{"url": witness.URL})
	e.task(alice, pid, "one")
	gone.wait(1)
	e.waitJobsFinished()
	r := e.do("GET", "/api/v1/projects/"+itoa(pid)+"/webhooks", alice, nil)
	var hooks []createdHook
	r.JSON(t, &hooks)
	if len(hooks) != 2 || hooks[0].ID != h.ID || hooks[0].Active || !hooks[1].Active {
		t.Fatalf("webhooks after a 410: %s", r.Body)
	}
	e.task(alice, pid, "two")
	witness.wait(2)
	jobs := e.waitJobsFinished()
	if gone.count() != 1 || len(jobs) != 3 {
		t.Errorf("disabled webhook: %d requests, jobs %+v", gone.count(), jobs)
	}
	if n := e.inbox(alice); len(n) != 1 || n[0].Type != "webhook_disabled" {
		t.Errorf("owner's inbox %+v, want webhook_disabled", n)
	}
	// Turned back on, it gets the next events.
	if r := e.do("PATCH", "/api/v1/webhooks/"+itoa(h.ID), alice, map[string]any{"active": true}); r.Status != 200 {
		t.Fatalf("reactivate: %d %s", r.Status, r.Body)
	}
	e.task(alice, pid, "three")
	gone.wait(2)
}

func TestWebhookRotationSignsWithBothSecrets(t *testing.T) {
	e := hookEnv(t)
	_, alice := e.user("alice")
	pid := e.project(alice)
	rc := newReceiver(t, nil)
	h := e.hook(alice, pid, map[string]any{"url": rc.URL})
	r := e.do("POST", "/api/v1/webhooks/"+itoa(h.ID)+"/rotate-secret", alice, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("rotate: %d %s", r.Status, r.Body)
	}
	var rot struct{ Secret string }
	r.JSON(t, &rot)
	if rot.Secret == h.Secret || !strings.HasPrefix(rot.Secret, "whsec_") {
		t.Fatalf("new secret %q", rot.Secret)
	}
	e.task(alice, pid, "t")
	d := rc.wait(1)[0]
	if sigs := strings.Split(d.Signature, " "); len(sigs) != 2 {
		t.Fatalf("signatures %q, want two", d.Signature)
	}
	if verifiedBy(t, rot.Secret, d) != 1 || verifiedBy(t, h.Secret, d) != 1 {
		t.Errorf("signatures %q: each secret must verify one", d.Signature)
	}
}

func TestWebhookRolledBackChangeSendsNothing(t *testing.T) {
	e := hookEnv(t)
	_, alice := e.user("alice")
	pid := e.project(alice)
	rc := newReceiver(t, nil)
	h := e.hook(alice, pid, map[string]any{"url": rc.URL})
	// A unit of work that appends an event and enqueues its delivery, as
	// every change does, then fails.
	failed := errors.New("the change fails")
	err := e.db.Update(t.Context(), func(tx taskwire.Tx) error {
		ev, err := tx.AppendEvent(t.Context(), taskwire.Event{ProjectID: pid, Type: taskwire.EventTaskCreated, Data: json.RawMessage(`{"id":999}`), TS: time.Now()})
		if err != nil {
			return err
		}
		if err := tx.EnqueueWebhooks(t.Context(), []taskwire.WebhookJob{{WebhookID: h.ID, Event: ev}}); err != nil {
			return err
		}
		return failed
	})
	if !errors.Is(err, failed) {
		t.Fatalf("update: %v", err)
	}
	task := e.task(alice, pid, "committed")
	d := rc.wait(1)[0]
	jobs := e.waitJobsFinished()
	if len(jobs) != 1 || rc.count() != 1 || !strings.Contains(string(d.Body), `"id":`+itoa(task.ID)+`,`) {
		t.Errorf("jobs %+v, %d requests, body %s: only the committed change is delivered", jobs, rc.count(), d.Body)
	}
}

func TestWebhookEventsFilter(t *testing.T) {
	e := hookEnv(t)
	_, alice := e.user("alice")
	pid := e.project(alice)
	comments := newReceiver(t, nil)
	all := newReceiver(t, nil)
	c := e.hook(alice, pid, map[string]any{"url": comments.URL, "events": []string{"comment_added"}})
	a := e.hook(alice, pid, map[string]any{"url": all.URL})
	if len(a.Events) != len(taskwire.EventTypes) || len(c.Events) != 1 {
		t.Errorf("events %v and %v", a.Events, c.Events)
	}
	task := e.task(alice, pid, "t")
	e.comment(alice, task.ID, "hi")
	all.wait(2)
	got := comments.wait(1)
	jobs := e.waitJobsFinished()
	if comments.count() != 1 || !strings.Contains(string(got[0].Body), `"type":"comment_added"`) {
		t.Errorf("filtered webhook got %d: %s", comments.count(), got[0].Body)
	}
	n := 0
	for _, j := range jobs {
		if j.Args.WebhookID == c.ID {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d jobs for the filtered webhook, want 1", n)
	}
}

func TestWebhookRedeliverKeepsTheID(t *testing.T) {
	e := hookEnv(t)
	_, alice := e.user("alice")
	pid := e.project(alice)
	rc := newReceiver(t, nil)
	h := e.hook(alice, pid, map[string]any{"url": rc.URL})
	e.task(alice, pid, "t")
	first := rc.wait(1)[0]
	ds := e.waitDeliveries(alice, h.ID, 1)
	r := e.do("POST", "/api/v1/webhooks/"+itoa(h.ID)+"/deliveries/"+itoa(ds[0].ID)+"/redeliver", alice, nil)
	if r.Status != http.StatusAccepted {
		t.Fatalf("redeliver: %d %s", r.Status, r.Body)
	}
	again := rc.wait(2)[1]
	checkDelivery(t, h.Secret, again)
	if again.ID != first.ID || !bytes.Equal(again.Body, first.Body) {
		t.Errorf("redelivery %q %s, want %q %s", again.ID, again.Body, first.ID, first.Body)
	}
	if ds := e.waitDeliveries(alice, h.ID, 2); ds[0].EventSeq != 1 || ds[0].Attempt != 1 {
		t.Errorf("log %+v", ds)
	}
}

func TestWebhookRemovedSendsNothing(t *testing.T) {
	for _, how := range []string{"Deleted", "Disabled"} {
		t.Run(how, func(t *testing.T) {
			e := hookEnv(t, "WEBHOOK_RETRY_BASE", "1s")
			_, alice := e.user("alice")
			pid := e.project(alice)
			rc := newReceiver(t, func(int, *http.Request) int { return 500 })
			h := e.hook(alice, pid, map[string]any{"url": rc.URL})
			e.task(alice, pid, "t")
			rc.wait(1)
			e.waitDeliveries(alice, h.ID, 1) // the retry is scheduled
			var r response
			if how == "Deleted" {
				r = e.do("DELETE", "/api/v1/webhooks/"+itoa(h.ID), alice, nil)
			} else {
				r = e.do("PATCH", "/api/v1/webhooks/"+itoa(h.ID), alice, map[string]any{"active": false})
			}
			if r.Status >= 300 {
				t.Fatalf("%s: %d %s", how, r.Status, r.Body)
			}
			jobs := e.waitJobsFinished()
			if len(jobs) != 1 || jobs[0].State != "completed" || rc.count() != 1 {
				t.Errorf("jobs %+v after %d requests: the pending retry must send nothing", jobs, rc.count())
			}
		})
	}
}

// TestWebhookSlowReceiverDoesNotStarveOthers: with 2 delivery workers, a
// receiver that does not answer holds at most one of them (half), so
// another webhook's deliveries all go through meanwhile.
func TestWebhookSlowReceiverDoesNotStarveOthers(t *testing.T) {
	e := hookEnv(t, "WEBHOOK_WORKERS", "2", "WEBHOOK_TIMEOUT", "30s")
	_, alice := e.user("alice")
	pid := e.project(alice)
	release := make(chan struct{})
	slow := newReceiver(t, func(_ int, r *http.Request) int {
		select {
		case <-release:
		case <-r.Context().Done():
		}
		return 200
	})
	fast := newReceiver(t, nil)
	e.hook(alice, pid, map[string]any{"url": slow.URL})
	e.hook(alice, pid, map[string]any{"url": fast.URL})
	for i := range 6 {
		e.task(alice, pid, "t"+itoa(int64(i)))
	}
	slow.wait(1)
	fast.wait(6)
	if n := slow.count(); n != 1 {
		t.Errorf("the slow receiver has %d requests in flight, want 1", n)
	}
	close(release)
	slow.wait(6)
}
