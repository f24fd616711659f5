package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/taskwire/taskwire/internal/smtptest"
)

// These tests run the real program against an in-process SMTP server.
// River's scheduler promotes scheduled jobs every ~5 s, so an email arrives
// up to ~5-6 s after its debounce: the tests poll with generous deadlines
// and run in parallel.

const baseURL = "http://app.example"

// isAssignment tells an assignment email from a "you were added" one.
func isAssignment(m smtptest.Message) bool { return strings.Contains(m.Subject, " assigned you ") }

// mailWorld is the program running with email through an smtptest.Server.
type mailWorld struct {
	t    *testing.T
	smtp *smtptest.Server
	env  map[string]string
	inst *instance
	c    client
}

// newMailWorld starts the program with email to a new smtptest.Server; extra
// overrides the environment.
func newMailWorld(t *testing.T, extra map[string]string) *mailWorld {
	t.Helper()
	w := &mailWorld{t: t, smtp: smtptest.New(t), env: mailEnv(t)}
	w.env["SMTP_URL"] = "smtp://" + w.smtp.Addr() + "?starttls=none"
	for k, v := range extra {
		w.env[k] = v
	}
	w.restart()
	return w
}

func mailEnv(t *testing.T) map[string]string {
	env := baseEnv(t)
	env["RATE_LIMIT_AUTH"] = "1000/minute"
	env["MAIL_FROM"] = "Taskwire <noreply@taskwire.test>"
	env["BASE_URL"] = baseURL
	env["EMAIL_DEBOUNCE"] = "300ms"
	env["EMAIL_RETRY_BASE"] = "200ms"
	return env
}

// restart starts the program (again) on the same database and SMTP server.
func (w *mailWorld) restart() {
	w.t.Helper()
	w.inst = start(w.t, w.env)
	w.c = client{t: w.t, base: w.inst.URL}
}

// user signs up name (email name@example.com) and returns its id and token.
func (w *mailWorld) user(name string) (float64, string) {
	w.t.Helper()
	return w.c.signupLogin(name)
}

// project creates a project owned by tok's user with the given members.
func (w *mailWorld) project(tok, name string, members ...float64) string {
	w.t.Helper()
	p := w.c.call("POST", "/api/v1/projects/", tok, map[string]string{"name": name}, 201)
	pid := itoa(p["id"])
	for _, m := range members {
		w.c.call("POST", "/api/v1/projects/"+pid+"/members", tok, map[string]any{"user_id": m}, 201)
	}
	return pid
}

func (w *mailWorld) task(tok, pid string, body map[string]any) string {
	w.t.Helper()
	return itoa(w.c.call("POST", "/api/v1/projects/"+pid+"/tasks", tok, body, 201)["id"])
}

func (w *mailWorld) assign(tok, tid string, userID float64) {
	w.t.Helper()
	w.c.call("PUT", "/api/v1/tasks/"+tid, tok, map[string]any{"assignee_id": userID}, 200)
}

// emailSettings PUTs email settings for tok's user.
func (w *mailWorld) emailSettings(tok string, set map[string]bool) {
	w.t.Helper()
	w.c.call("PUT", "/api/v1/users/me/notification-settings", tok, map[string]any{"email": set}, 200)
}

// metrics scrapes /metrics into series → value, such as
// `taskwire_jobs{state="completed"}` → 2.
func (w *mailWorld) metrics() map[string]float64 {
	w.t.Helper()
	return scrape(w.t, w.inst.URL)
}

func scrape(t *testing.T, base string) map[string]float64 {
	t.Helper()
	res, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err == nil {
			out[line[:i]] = v
		}
	}
	if res.StatusCode != 200 || sc.Err() != nil {
		t.Fatalf("GET /metrics: %d %v", res.StatusCode, sc.Err())
	}
	return out
}

// jobStates reads taskwire_jobs{state=...} from scraped metrics.
func jobStates(m map[string]float64) map[string]float64 {
	out := map[string]float64{}
	for k, v := range m {
		if s, ok := strings.CutPrefix(k, `taskwire_jobs{state="`); ok {
			out[strings.TrimSuffix(s, `"}`)] = v
		}
	}
	return out
}

// waitSettled waits until the queue has nothing left to run and exactly
// want jobs are finished (completed, discarded or cancelled): after that,
// no email can be sent any more. It returns the last scrape.
func (w *mailWorld) waitSettled(want float64, timeout time.Duration) map[string]float64 {
	w.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		m := w.metrics()
		st := jobStates(m)
		pending := st["available"] + st["scheduled"] + st["retryable"] + st["running"] + st["pending"]
		done := st["completed"] + st["discarded"] + st["cancelled"]
		if pending == 0 && done == want {
			return m
		}
		if time.Now().After(deadline) {
			w.t.Fatalf("jobs did not settle at %v finished within %v: %v\nSMTP got %d messages in %d transactions\nlogs:\n%s",
				want, timeout, st, len(w.smtp.Messages()), w.smtp.Transactions(), w.inst.stderr)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitMail waits until ok holds for the messages the SMTP server accepted.
func (w *mailWorld) waitMail(what string, timeout time.Duration, ok func([]smtptest.Message) bool) []smtptest.Message {
	w.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		msgs := w.smtp.Messages()
		if ok(msgs) {
			return msgs
		}
		if time.Now().After(deadline) {
			w.t.Fatalf("waiting %v for %s: got %d messages: %s\nlogs:\n%s", timeout, what, len(msgs), describe(msgs), w.inst.stderr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// to returns the messages whose envelope goes to addr; assignments only
// when assignments is true, the others otherwise.
func to(msgs []smtptest.Message, addr string, assignments bool) []smtptest.Message {
	var out []smtptest.Message
	for _, m := range msgs {
		if slicesContain(m.Rcpt, addr) && isAssignment(m) == assignments {
			out = append(out, m)
		}
	}
	return out
}

func slicesContain(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func describe(msgs []smtptest.Message) string {
	var b strings.Builder
	for _, m := range msgs {
		fmt.Fprintf(&b, "\n  to %v: %q", m.Rcpt, m.Subject)
	}
	return b.String()
}

// checkAssignmentMail checks one assignment email in full.
func checkAssignmentMail(t *testing.T, m smtptest.Message, toAddr, toName, actor, title, project, pid, tid string) {
	t.Helper()
	if m.ParseErr != nil {
		t.Fatalf("message does not parse: %v\n%s", m.ParseErr, m.Raw)
	}
	if len(m.Rcpt) != 1 || m.Rcpt[0] != toAddr {
		t.Errorf("envelope recipients %v, want [%s]", m.Rcpt, toAddr)
	}
	if m.From != "noreply@taskwire.test" {
		t.Errorf("envelope sender %q, want MAIL_FROM's address", m.From)
	}
	tos, err := mail.ParseAddressList(m.Header.Get("To"))
	if err != nil || len(tos) != 1 || tos[0].Address != toAddr || tos[0].Name != toName {
		t.Errorf("To: %q (%v), want %s <%s>", m.Header.Get("To"), err, toName, toAddr)
	}
	for _, want := range []string{title, project, actor} {
		if !strings.Contains(m.Subject, want) {
			t.Errorf("subject %q does not name %q", m.Subject, want)
		}
	}
	if strings.ContainsAny(m.Subject, "\r\n") {
		t.Errorf("subject %q spans lines", m.Subject)
	}
	if id := m.Header.Get("Message-ID"); !strings.HasPrefix(id, "<") || !strings.HasSuffix(id, ">") || !strings.Contains(id, "@") {
		t.Errorf("Message-ID %q, want <id@host>", id)
	}
	link := baseURL + "/projects/" + pid + "/tasks/" + tid
	if !strings.Contains(m.Text, link) {
		t.Errorf("text part lacks %s:\n%s", link, m.Text)
	}
	if !strings.Contains(m.HTML, `href="`+link+`"`) {
		t.Errorf("HTML part lacks a link to %s:\n%s", link, m.HTML)
	}
	if !strings.Contains(m.Header.Get("Content-Type"), "multipart/alternative") {
		t.Errorf("Content-Type %q, want multipart/alternative", m.Header.Get("Content-Type"))
	}
}

// TestEmailOnePerAssignment: each assignment sends exactly one email to the
// new assignee, naming the task, project and assigner, with a link to the
// task in plain text and HTML; a retried request sends no second one.
func TestEmailOnePerAssignment(t *testing.T) {
	t.Parallel()
	w := newMailWorld(t, nil)
	_, ownerTok := w.user("olga")
	bobID, _ := w.user("bob")
	pid := w.project(ownerTok, "Apollo", bobID)
	t1 := w.task(ownerTok, pid, map[string]any{"title": "Write the docs", "assignee_id": bobID}) // assigned at creation
	t2 := w.task(ownerTok, pid, map[string]any{"title": "Fix the build"})
	w.assign(ownerTok, t2, bobID) // assigned by an update
	// A retried request (same Idempotency-Key) is the same change: one email.
	body := map[string]any{"title": "Retried", "assignee_id": bobID}
	t3 := w.idempotentCreate(ownerTok, pid, "key-1", body)
	if again := w.idempotentCreate(ownerTok, pid, "key-1", body); again != t3 {
		t.Fatalf("the retry created task %s, the first %s", again, t3)
	}

	m := w.waitSettled(4, 20*time.Second) // member_added + three assignments
	msgs := w.smtp.Messages()
	got := to(msgs, "bob@example.com", true)
	if len(got) != 3 || len(msgs) != 4 {
		t.Fatalf("got %d assignment emails to bob, %d in all, want 3 and 4:%s", len(got), len(msgs), describe(msgs))
	}
	byTask := map[string]smtptest.Message{}
	for _, g := range got {
		for _, tid := range []string{t1, t2, t3} {
			if strings.Contains(g.Text, "/tasks/"+tid+"\n") {
				byTask[tid] = g
			}
		}
	}
	if len(byTask) != 3 {
		t.Fatalf("the three emails do not link one task each:%s", describe(got))
	}
	checkAssignmentMail(t, byTask[t1], "bob@example.com", "bob", "olga", "Write the docs", "Apollo", pid, t1)
	checkAssignmentMail(t, byTask[t2], "bob@example.com", "bob", "olga", "Fix the build", "Apollo", pid, t2)
	if a, b := byTask[t1].Header.Get("Message-ID"), byTask[t2].Header.Get("Message-ID"); a == b {
		t.Errorf("both emails have Message-ID %s", a)
	}
	added := to(msgs, "bob@example.com", false)
	if len(added) != 1 || !strings.Contains(added[0].Subject, "olga added you to Apollo") ||
		!strings.Contains(added[0].Text, baseURL+"/projects/"+pid+"\n") {
		t.Errorf("want one 'added you' email linking the project:%s", describe(added))
	}
	if m["taskwire_emails_sent_total"] != 4 {
		t.Errorf("taskwire_emails_sent_total %v, want 4", m["taskwire_emails_sent_total"])
	}
}

// idempotentCreate creates a task with an Idempotency-Key and returns its id.
func (w *mailWorld) idempotentCreate(tok, pid, key string, body map[string]any) string {
	w.t.Helper()
	raw, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", w.inst.URL+"/api/v1/projects/"+pid+"/tasks", bytes.NewReader(raw))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Idempotency-Key", key)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer res.Body.Close()
	var task map[string]any
	if err := json.NewDecoder(res.Body).Decode(&task); err != nil || res.StatusCode != 201 {
		w.t.Fatalf("create with Idempotency-Key: %d %v %v", res.StatusCode, task, err)
	}
	return itoa(task["id"])
}

// TestEmailNotForSelfAssignment: assigning a task to yourself sends no
// email (and no notification). Another assignment, made after, is the
// control: once it is delivered and the queue is idle, any email for the
// self-assignment would have been sent too.
func TestEmailNotForSelfAssignment(t *testing.T) {
	t.Parallel()
	w := newMailWorld(t, nil)
	ownerID, ownerTok := w.user("olga")
	bobID, bobTok := w.user("bob")
	pid := w.project(ownerTok, "Apollo", bobID)
	t1 := w.task(ownerTok, pid, map[string]any{"title": "Mine by update"})
	w.assign(ownerTok, t1, ownerID)
	w.task(ownerTok, pid, map[string]any{"title": "Mine at creation", "assignee_id": ownerID})
	w.task(bobTok, pid, map[string]any{"title": "Bob's own", "assignee_id": bobID})
	changed := time.Now()
	t4 := w.task(ownerTok, pid, map[string]any{"title": "Control"})
	w.assign(ownerTok, t4, bobID)

	w.waitMail("the control email", 20*time.Second, func(ms []smtptest.Message) bool { return len(to(ms, "bob@example.com", true)) > 0 })
	// Wait out the debounce and a scheduler period after the changes too.
	time.Sleep(time.Until(changed.Add(6 * time.Second)))
	m := w.waitSettled(2, 10*time.Second) // member_added for bob + the control
	msgs := w.smtp.Messages()
	if got := to(msgs, "bob@example.com", true); len(got) != 1 || !strings.Contains(got[0].Subject, "Control") {
		t.Errorf("bob's assignment emails:%s\nwant only the control", describe(got))
	}
	for _, msg := range msgs {
		if slicesContain(msg.Rcpt, "olga@example.com") {
			t.Errorf("olga got an email for her own assignment: %q", msg.Subject)
		}
	}
	if len(msgs) != 2 || m["taskwire_emails_sent_total"] != 2 {
		t.Errorf("%d emails, sent_total %v, want 2:%s", len(msgs), m["taskwire_emails_sent_total"], describe(msgs))
	}
	// No notification for one's own action either.
	if ns := w.inbox(ownerTok, ""); len(ns.rows) != 0 {
		t.Errorf("olga's inbox: %v, want empty", ns.rows)
	}
	var types []string
	for _, n := range w.inbox(bobTok, "").rows {
		types = append(types, n["type"].(string)+":"+itoa(n["task_id"]))
	}
	if want := []string{"task_assigned:" + t4, "member_added:null"}; !reflect.DeepEqual(types, want) {
		t.Errorf("bob's inbox %v, want %v", types, want)
	}
}

// TestEmailDebouncedReassignment: a task reassigned quickly emails only its
// last assignee: A → B → C emails C alone; B → C → B emails B once. An
// assignment whose task is deleted, or an addition the member undoes by
// leaving, before the job runs, emails nobody.
func TestEmailDebouncedReassignment(t *testing.T) {
	t.Parallel()
	const debounce = 2 * time.Second
	w := newMailWorld(t, map[string]string{"EMAIL_DEBOUNCE": debounce.String()})
	_, ownerTok := w.user("olga")
	aID, _ := w.user("amy")
	bID, _ := w.user("ben")
	cID, _ := w.user("cy")
	eveID, _ := w.user("eve")
	fayID, _ := w.user("fay")
	pid := w.project(ownerTok, "Apollo", aID, bID, cID, eveID)
	t1 := w.task(ownerTok, pid, map[string]any{"title": "First"})
	t2 := w.task(ownerTok, pid, map[string]any{"title": "Second"})

	began := time.Now()
	w.assign(ownerTok, t1, aID)
	w.assign(ownerTok, t1, bID)
	w.assign(ownerTok, t1, cID)
	w.assign(ownerTok, t2, bID)
	w.assign(ownerTok, t2, cID)
	w.assign(ownerTok, t2, bID)
	// Gone before the job runs: a deleted task, a member who left.
	t3 := w.task(ownerTok, pid, map[string]any{"title": "Deleted", "assignee_id": eveID})
	w.c.call("DELETE", "/api/v1/tasks/"+t3, ownerTok, nil, 204)
	w.c.call("POST", "/api/v1/projects/"+pid+"/members", ownerTok, map[string]any{"user_id": fayID}, 201)
	w.c.call("DELETE", "/api/v1/projects/"+pid+"/members/"+itoa(fayID), ownerTok, nil, 204)
	if took := time.Since(began); took >= debounce {
		t.Fatalf("the changes took %v, longer than the debounce %v: the test cannot tell", took, debounce)
	}

	m := w.waitSettled(12, 25*time.Second) // 5 member_added + 7 assignments
	msgs := w.smtp.Messages()
	if got := to(msgs, "eve@example.com", true); len(got) != 0 {
		t.Errorf("eve got an email for a deleted task:%s", describe(got))
	}
	for _, msg := range msgs {
		if slicesContain(msg.Rcpt, "fay@example.com") {
			t.Errorf("fay got %q after she left", msg.Subject)
		}
	}
	if got := to(msgs, "amy@example.com", true); len(got) != 0 {
		t.Errorf("amy got assignment emails:%s", describe(got))
	}
	if got := to(msgs, "cy@example.com", true); len(got) != 1 || !strings.Contains(got[0].Subject, "First") {
		t.Errorf("cy's assignment emails:%s\nwant one, for First", describe(got))
	} else {
		checkAssignmentMail(t, got[0], "cy@example.com", "cy", "olga", "First", "Apollo", pid, t1)
	}
	if got := to(msgs, "ben@example.com", true); len(got) != 1 || !strings.Contains(got[0].Subject, "Second") {
		t.Errorf("ben's assignment emails:%s\nwant one, for Second", describe(got))
	}
	if m["taskwire_emails_skipped_total"] != 6 || m["taskwire_emails_sent_total"] != 6 {
		t.Errorf("skipped_total %v, sent_total %v, want 6 and 6", m["taskwire_emails_skipped_total"], m["taskwire_emails_sent_total"])
	}
}

// TestEmailOptOut: a user who turned task_assigned email off gets none,
// whether they turned it off before the assignment or after it, before
// the job ran; their inbox still has the notification. Unknown kinds are
// refused.
func TestEmailOptOut(t *testing.T) {
	t.Parallel()
	w := newMailWorld(t, map[string]string{"EMAIL_DEBOUNCE": "1s"})
	_, ownerTok := w.user("olga")
	bobID, bobTok := w.user("bob")
	carlID, _ := w.user("carl")
	danID, danTok := w.user("dan")

	all := map[string]any{"email": map[string]any{"task_assigned": true, "member_added": true, "mentioned": true, "task_due_soon": true}}
	if got := w.c.call("GET", "/api/v1/users/me/notification-settings", bobTok, nil, 200); !reflect.DeepEqual(got, all) {
		t.Errorf("default settings %v, want %v", got, all)
	}
	off := map[string]any{"email": map[string]any{"task_assigned": false, "member_added": true, "mentioned": true, "task_due_soon": true}}
	got := w.c.call("PUT", "/api/v1/users/me/notification-settings", bobTok, map[string]any{"email": map[string]bool{"task_assigned": false}}, 200)
	if !reflect.DeepEqual(got, off) {
		t.Errorf("PUT answered %v, want %v", got, off)
	}
	if got := w.c.call("GET", "/api/v1/users/me/notification-settings", bobTok, nil, 200); !reflect.DeepEqual(got, off) {
		t.Errorf("GET after PUT: %v, want %v", got, off)
	}
	w.c.call("PUT", "/api/v1/users/me/notification-settings", bobTok, map[string]any{"email": map[string]bool{"task_created": false}}, 422)
	w.c.call("PUT", "/api/v1/users/me/notification-settings", bobTok, map[string]any{"email": map[string]bool{"bogus": true}}, 422)
	w.c.call("PUT", "/api/v1/users/me/notification-settings", "", map[string]any{"email": map[string]bool{"task_assigned": false}}, 401)
	if got := w.c.call("GET", "/api/v1/users/me/notification-settings", bobTok, nil, 200); !reflect.DeepEqual(got, off) {
		t.Errorf("a refused PUT changed the settings: %v", got)
	}

	pid := w.project(ownerTok, "Apollo", bobID, carlID, danID)
	w.task(ownerTok, pid, map[string]any{"title": "For bob", "assignee_id": bobID})
	// dan turns it off after being assigned, within the debounce.
	w.task(ownerTok, pid, map[string]any{"title": "For dan", "assignee_id": danID})
	w.emailSettings(danTok, map[string]bool{"task_assigned": false})
	w.task(ownerTok, pid, map[string]any{"title": "For carl", "assignee_id": carlID}) // the control

	m := w.waitSettled(6, 20*time.Second) // 3 member_added + 3 assignments
	msgs := w.smtp.Messages()
	for _, who := range []string{"bob", "dan"} {
		if got := to(msgs, who+"@example.com", true); len(got) != 0 {
			t.Errorf("%s opted out but got:%s", who, describe(got))
		}
		if got := to(msgs, who+"@example.com", false); len(got) != 1 {
			t.Errorf("%s should still get the 'added you' email (still on):%s", who, describe(got))
		}
	}
	if got := to(msgs, "carl@example.com", true); len(got) != 1 {
		t.Errorf("carl (the control) got:%s", describe(got))
	}
	if m["taskwire_emails_skipped_total"] != 2 {
		t.Errorf("skipped_total %v, want 2", m["taskwire_emails_skipped_total"])
	}
	// Email settings do not touch the inbox.
	if rows := w.inbox(bobTok, "").rows; len(rows) != 2 || rows[0]["type"] != "task_assigned" {
		t.Errorf("bob's inbox %v, want task_assigned and member_added", rows)
	}
}

// TestEmailRetriedAfterTemporaryFailure: the SMTP server answers 451 twice,
// then accepts: one message in the end, and the counters say so.
func TestEmailRetriedAfterTemporaryFailure(t *testing.T) {
	t.Parallel()
	w := newMailWorld(t, nil)
	_, ownerTok := w.user("olga")
	bobID, bobTok := w.user("bob")
	w.emailSettings(bobTok, map[string]bool{"member_added": false}) // only the assignment reaches SMTP
	pid := w.project(ownerTok, "Apollo", bobID)
	w.smtp.FailTemporarily(2)
	tid := w.task(ownerTok, pid, map[string]any{"title": "Retry me", "assignee_id": bobID})

	m := w.waitSettled(2, 25*time.Second)
	msgs := w.smtp.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d messages delivered, want 1:%s", len(msgs), describe(msgs))
	}
	checkAssignmentMail(t, msgs[0], "bob@example.com", "bob", "olga", "Retry me", "Apollo", pid, tid)
	if n := w.smtp.Transactions(); n != 3 {
		t.Errorf("%d SMTP transactions, want 3 (two refused, one accepted)", n)
	}
	for name, want := range map[string]float64{
		"taskwire_emails_failed_total":     2,
		"taskwire_emails_retried_total":    2,
		"taskwire_emails_sent_total":       1,
		`taskwire_jobs{state="completed"}`: 2,
	} {
		if m[name] != want {
			t.Errorf("%s = %v, want %v", name, m[name], want)
		}
	}
}

// TestEmailSurvivesGracefulRestart: the program stops before the job runs;
// started again on the same database, it sends the email, once.
func TestEmailSurvivesGracefulRestart(t *testing.T) {
	t.Parallel()
	w := newMailWorld(t, map[string]string{"EMAIL_DEBOUNCE": "3s"})
	_, ownerTok := w.user("olga")
	bobID, _ := w.user("bob")
	pid := w.project(ownerTok, "Apollo", bobID)
	tid := w.task(ownerTok, pid, map[string]any{"title": "Durable"})
	w.assign(ownerTok, tid, bobID)
	w.inst.shutdown(t)
	if msgs := w.smtp.Messages(); len(msgs) != 0 {
		t.Fatalf("sent before the debounce:%s", describe(msgs))
	}
	if out := jobsOutput(t, w.env); !strings.Contains(out, "pending: 2\n") {
		t.Errorf("taskwire jobs while stopped:\n%s\nwant 2 pending (member_added, assignment)", out)
	}

	w.restart()
	w.waitSettled(2, 25*time.Second)
	msgs := w.smtp.Messages()
	got := to(msgs, "bob@example.com", true)
	if len(got) != 1 || len(msgs) != 2 {
		t.Fatalf("after the restart: %d assignment emails, %d in all, want 1 and 2:%s", len(got), len(msgs), describe(msgs))
	}
	checkAssignmentMail(t, got[0], "bob@example.com", "bob", "olga", "Durable", "Apollo", pid, tid)
}

// startKillable builds the program and starts it as its own process on
// w's environment, so that it can be killed with SIGKILL; kill does that
// and checks it died of it.
func (w *mailWorld) startKillable() (kill func()) {
	t := w.t
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command in PATH to build the binary:", err)
	}
	bin := filepath.Join(t.TempDir(), "taskwire")
	build := exec.Command(goBin, "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "serve")
	for k, v := range w.env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	stderr := &lockedBuffer{}
	cmd.Stderr = stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var waitErr error
	exited := make(chan struct{})
	go func() { waitErr = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("the binary did not start: %v\n%s", err, stderr)
	}
	go io.Copy(io.Discard, stdout)
	w.inst = &instance{URL: strings.TrimSpace(strings.TrimPrefix(line, "taskwire listening on ")), stderr: stderr}
	w.c = client{t: t, base: w.inst.URL}
	return func() {
		t.Helper()
		if err := cmd.Process.Signal(os.Kill); err != nil {
			t.Fatal(err)
		}
		<-exited
		if waitErr == nil || !strings.Contains(waitErr.Error(), "killed") {
			t.Fatalf("the program exited with %v, want killed", waitErr)
		}
	}
}

// TestEmailSurvivesCrash: the program is killed (SIGKILL) right after the
// assignment commits; started again on the same database, it sends the
// email, once. After a crash River's leadership, which runs its scheduler,
// has to expire first (~15 s), so this test is slower.
func TestEmailSurvivesCrash(t *testing.T) {
	t.Parallel()
	w := &mailWorld{t: t, smtp: smtptest.New(t), env: mailEnv(t)}
	w.env["SMTP_URL"] = "smtp://" + w.smtp.Addr() + "?starttls=none"
	w.env["EMAIL_DEBOUNCE"] = "3s"
	kill := w.startKillable()

	_, ownerTok := w.user("olga")
	bobID, bobTok := w.user("bob")
	w.emailSettings(bobTok, map[string]bool{"member_added": false})
	pid := w.project(ownerTok, "Apollo", bobID)
	tid := w.task(ownerTok, pid, map[string]any{"title": "Crash-proof"})
	w.assign(ownerTok, tid, bobID) // committed: the response came back
	kill()
	if msgs := w.smtp.Messages(); len(msgs) != 0 {
		t.Fatalf("sent before the crash:%s", describe(msgs))
	}

	w.restart()
	w.waitMail("the assignment email after the crash", 45*time.Second, func(ms []smtptest.Message) bool { return len(ms) > 0 })
	w.waitSettled(2, 20*time.Second)
	msgs := w.smtp.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d messages after the restart, want 1:%s", len(msgs), describe(msgs))
	}
	checkAssignmentMail(t, msgs[0], "bob@example.com", "bob", "olga", "Crash-proof", "Apollo", pid, tid)
}

// jobsOutput runs `taskwire jobs` with env.
func jobsOutput(t *testing.T, env map[string]string) string {
	t.Helper()
	var out, stderr bytes.Buffer
	if err := run(context.Background(), []string{"taskwire", "jobs"}, func(k string) string { return env[k] }, &out, &stderr); err != nil {
		t.Fatalf("taskwire jobs: %v\n%s", err, stderr.String())
	}
	return out.String()
}

// TestEmailFailedJobsAreKept: with the SMTP server refusing for good, the
// job is attempted EMAIL_MAX_ATTEMPTS times, then kept as failed: listed by
// `taskwire jobs` and counted on /metrics.
func TestEmailFailedJobsAreKept(t *testing.T) {
	t.Parallel()
	w := newMailWorld(t, map[string]string{"EMAIL_MAX_ATTEMPTS": "2"})
	_, ownerTok := w.user("olga")
	bobID, bobTok := w.user("bob")
	w.emailSettings(bobTok, map[string]bool{"member_added": false})
	pid := w.project(ownerTok, "Apollo", bobID)
	w.smtp.FailPermanently()
	tid := w.task(ownerTok, pid, map[string]any{"title": "Undeliverable", "assignee_id": bobID})

	m := w.waitSettled(2, 25*time.Second)
	if got := jobStates(m); got["discarded"] != 1 || got["completed"] != 1 {
		t.Errorf("taskwire_jobs %v, want discarded 1 (the assignment) and completed 1 (member_added, skipped)", got)
	}
	if n := w.smtp.Transactions(); n != 2 {
		t.Errorf("%d SMTP transactions, want 2 (EMAIL_MAX_ATTEMPTS)", n)
	}
	if msgs := w.smtp.Messages(); len(msgs) != 0 {
		t.Errorf("delivered:%s", describe(msgs))
	}
	for name, want := range map[string]float64{
		"taskwire_emails_failed_total":  2,
		"taskwire_emails_retried_total": 1,
		"taskwire_emails_sent_total":    0,
	} {
		if m[name] != want {
			t.Errorf("%s = %v, want %v", name, m[name], want)
		}
	}

	// `taskwire jobs`, run beside the live server, lists it under failed.
	out := jobsOutput(t, w.env)
	lines := strings.Split(out, "\n")
	failed := -1
	for i, l := range lines {
		if strings.HasPrefix(l, "failed") {
			failed = i
		}
	}
	if !strings.HasPrefix(out, "pending: 0\n") || failed < 0 || !strings.HasSuffix(lines[failed], ": 1") || failed+1 >= len(lines) {
		t.Fatalf("taskwire jobs:\n%s\nwant pending: 0 and one failed job", out)
	}
	job := lines[failed+1]
	for _, want := range []string{" email discarded attempt 2/2 ", `"user_id":` + itoa(bobID), `"task_id":` + tid, "554"} {
		if !strings.Contains(job, want) {
			t.Errorf("the failed job's line %q lacks %q", job, want)
		}
	}
}

// TestEmailHeaderInjection: CR/LF in a task title or project name cannot
// add a header or a recipient, nor end the message early to smuggle
// another; an email address or username carrying CR/LF is refused at
// signup.
func TestEmailHeaderInjection(t *testing.T) {
	t.Parallel()
	w := newMailWorld(t, nil)
	_, ownerTok := w.user("olga")
	bobID, _ := w.user("bob")
	title := "Ship it\r\nBcc: evil@example.com"
	pid := w.project(ownerTok, "Apollo\nX-Injected: yes\n\nbody", bobID)
	tid := w.task(ownerTok, pid, map[string]any{"title": title, "assignee_id": bobID})
	if got := w.c.call("GET", "/api/v1/tasks/"+tid, ownerTok, nil, 200)["title"]; got != title {
		t.Fatalf("title stored as %q", got)
	}
	// SMTP smuggling: a line holding only "." must not end the DATA early.
	smuggle := "Two\r\n.\r\nMAIL FROM:<x@evil.example>\r\nRCPT TO:<evil@example.com>\r\nDATA\r\nSubject: smuggled\r\n\r\nhi\r\n.\r\n" +
		"\n.\nRCPT TO:<evil@example.com>\n"
	w.task(ownerTok, pid, map[string]any{"title": smuggle, "assignee_id": bobID})

	w.waitSettled(3, 20*time.Second)
	msgs := w.smtp.Messages()
	if len(msgs) != 3 || w.smtp.Transactions() != 3 {
		t.Fatalf("%d messages in %d transactions, want 3 (added, two assigned):%s", len(msgs), w.smtp.Transactions(), describe(msgs))
	}
	for _, m := range msgs {
		if m.ParseErr != nil {
			t.Fatalf("message does not parse: %v\n%s", m.ParseErr, m.Raw)
		}
		if len(m.Rcpt) != 1 || m.Rcpt[0] != "bob@example.com" {
			t.Errorf("envelope recipients %v, want only bob", m.Rcpt)
		}
		if tos, err := mail.ParseAddressList(m.Header.Get("To")); err != nil || len(tos) != 1 || tos[0].Address != "bob@example.com" {
			t.Errorf("To: %q", m.Header.Get("To"))
		}
		head, _, found := strings.Cut(strings.ReplaceAll(m.Raw, "\r\n", "\n"), "\n\n")
		if !found || strings.Contains(head, "\r") {
			t.Errorf("no header block, or a bare CR in it:\n%q", head)
		}
		for _, l := range strings.Split(head, "\n") {
			lower := strings.ToLower(l)
			if strings.HasPrefix(lower, "bcc:") || strings.HasPrefix(lower, "cc:") || strings.HasPrefix(lower, "x-injected:") {
				t.Errorf("injected header line %q in\n%s", l, head)
			}
		}
		if strings.ContainsAny(m.Subject, "\r\n") {
			t.Errorf("subject %q spans lines", m.Subject)
		}
	}
	got := to(msgs, "bob@example.com", true)
	if len(got) != 2 || !strings.Contains(got[0].Subject+got[1].Subject, "Ship it") || !strings.Contains(got[0].Subject, "Apollo") {
		t.Errorf("assignment emails:%s", describe(got))
	}
	for _, m := range got {
		if strings.Contains(m.Subject, "Two") && !strings.Contains(m.Text, "RCPT TO:<evil@example.com>") {
			t.Errorf("the smuggling title did not reach the body whole:\n%s", m.Text)
		}
	}

	for _, tc := range []struct{ name, email, username string }{
		{"CRLFInEmail", "eve@example.com\r\nBcc: evil@example.com", "eve1"},
		{"LFInEmail", "eve@example.com\nBcc: evil@example.com", "eve2"},
		{"CRInEmail", "eve\r@example.com", "eve3"},
		{"CRLFInUsername", "eve4@example.com", "eve\r\nBcc: evil@example.com"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := client{t: t, base: w.inst.URL}
			c.call("POST", "/api/v1/auth/signup", "", map[string]string{"email": tc.email, "username": tc.username, "password": "password123"}, 422)
		})
	}
}

// inboxPage is GET /api/v1/notifications: its rows and X-Unread-Count.
type inboxPage struct {
	rows   []map[string]any
	unread int
}

func (w *mailWorld) inbox(tok, query string) inboxPage {
	w.t.Helper()
	req, _ := http.NewRequest("GET", w.inst.URL+"/api/v1/notifications"+query, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		w.t.Fatalf("GET /api/v1/notifications%s: %d %s", query, res.StatusCode, raw)
	}
	var p inboxPage
	if err := json.Unmarshal(raw, &p.rows); err != nil {
		w.t.Fatalf("inbox %s: %v", raw, err)
	}
	p.unread, err = strconv.Atoi(res.Header.Get("X-Unread-Count"))
	if err != nil {
		w.t.Fatalf("X-Unread-Count %q", res.Header.Get("X-Unread-Count"))
	}
	return p
}

// bySeq indexes rows by their seq.
func bySeq(rows []map[string]any) map[float64]map[string]any {
	out := map[float64]map[string]any{}
	for _, r := range rows {
		out[r["seq"].(float64)] = r
	}
	return out
}

// notificationSocket reads a /ws/notifications socket into a channel, so a
// test can wait for a message, or for silence, without closing it.
type notificationSocket struct {
	conn *websocket.Conn
	msgs chan []byte
}

// pushed is one message of the socket.
type pushed struct {
	Event string         `json:"event"`
	Data  map[string]any `json:"data"`
	Seq   float64        `json:"seq"`
}

func dialNotifications(t *testing.T, base, query string) *notificationSocket {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+"/ws/notifications?"+query, nil)
	if err != nil {
		t.Fatalf("dial /ws/notifications?%s: %v", query, err)
	}
	s := &notificationSocket{conn: conn, msgs: make(chan []byte, 100)}
	go func() {
		defer close(s.msgs)
		for {
			_, msg, err := conn.Read(context.Background())
			if err != nil {
				return
			}
			var ev struct {
				Event string `json:"event"`
			}
			if json.Unmarshal(msg, &ev) == nil && control(ev.Event) {
				continue // caught_up, heartbeat: not notifications
			}
			s.msgs <- msg
		}
	}()
	t.Cleanup(func() { conn.CloseNow() })
	return s
}

// next returns the next message, failing after timeout.
func (s *notificationSocket) next(t *testing.T, timeout time.Duration) pushed {
	t.Helper()
	select {
	case raw, ok := <-s.msgs:
		if !ok {
			t.Fatal("the socket closed")
		}
		var p pushed
		if err := json.Unmarshal(raw, &p); err != nil {
			t.Fatalf("pushed %s: %v", raw, err)
		}
		return p
	case <-time.After(timeout):
		t.Fatalf("nothing pushed within %v", timeout)
	}
	return pushed{}
}

// quiet fails if anything is pushed within d.
func (s *notificationSocket) quiet(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case raw, ok := <-s.msgs:
		if ok {
			t.Errorf("unexpected push %s", raw)
		}
	case <-time.After(d):
	}
}

// collect reads n messages and checks they are the seqs from, from+1, ...
// each equal to the inbox row of the same seq.
func (s *notificationSocket) collect(t *testing.T, n int, from float64, rows map[float64]map[string]any) []pushed {
	t.Helper()
	var got []pushed
	for i := range n {
		p := s.next(t, 10*time.Second)
		want := from + float64(i)
		if p.Event != "notification" || p.Seq != want || p.Data["seq"] != want {
			t.Fatalf("push %d: event %q seq %v (data seq %v), want notification seq %v", i, p.Event, p.Seq, p.Data["seq"], want)
		}
		if row, ok := rows[want]; !ok || !reflect.DeepEqual(p.Data, row) {
			t.Errorf("pushed data %v\ndiffers from the inbox row %v", p.Data, row)
		}
		got = append(got, p)
	}
	return got
}

// TestNotificationInboxAndSocketAgree: every notification row is pushed on
// the user's socket exactly once, in seq order without gaps, equal to the
// row; the read routes work; a resumed socket replays then continues live.
func TestNotificationInboxAndSocketAgree(t *testing.T) {
	t.Parallel()
	w := newMailWorld(t, nil)
	ownerID, ownerTok := w.user("olga")
	umaID, umaTok := w.user("uma")
	ws := dialNotifications(t, w.inst.URL, "token="+umaTok)

	p1 := w.project(ownerTok, "Apollo", umaID)                                         // 1 member_added
	t1 := w.task(ownerTok, p1, map[string]any{"title": "Draft", "assignee_id": umaID}) // 2 task_assigned
	t2 := w.task(ownerTok, p1, map[string]any{"title": "Review"})
	w.assign(ownerTok, t2, umaID)                                                                               // 3 task_assigned
	w.c.call("PATCH", "/api/v1/tasks/"+t1+"/status", ownerTok, map[string]string{"status": "in_progress"}, 200) // 4 status
	w.c.call("PUT", "/api/v1/tasks/"+t1, ownerTok, map[string]any{"title": "Draft v2"}, 200)                    // 5 title
	w.c.call("PUT", "/api/v1/tasks/"+t2, ownerTok, map[string]any{"status": "done", "title": "Review v2"}, 200) // 6 both: one
	w.c.call("PUT", "/api/v1/tasks/"+t1, ownerTok, map[string]any{"description": "More words"}, 200)            // none
	w.c.call("PUT", "/api/v1/tasks/"+t1, ownerTok, map[string]any{"title": "Draft v2"}, 200)                    // no change: none
	// The user's own actions notify nobody.
	w.c.call("PATCH", "/api/v1/tasks/"+t1+"/status", umaTok, map[string]string{"status": "done"}, 200)
	w.c.call("PUT", "/api/v1/tasks/"+t2, umaTok, map[string]any{"title": "Mine now"}, 200)
	w.task(umaTok, p1, map[string]any{"title": "Self", "assignee_id": umaID})
	w.c.call("DELETE", "/api/v1/tasks/"+t2, ownerTok, nil, 204)                            // 7 task_deleted
	p2 := w.project(ownerTok, "Gemini", umaID)                                             // 8 member_added
	w.c.call("DELETE", "/api/v1/projects/"+p2+"/members/"+itoa(umaID), ownerTok, nil, 204) // 9 member_removed
	w.c.call("DELETE", "/api/v1/projects/"+p1+"/members/"+itoa(umaID), umaTok, nil, 204)   // leaving: none

	inbox := w.inbox(umaTok, "")
	want := []struct {
		typ, project, task string
		changes            any
	}{
		{"member_added", p1, "null", nil},
		{"task_assigned", p1, t1, nil},
		{"task_assigned", p1, t2, nil},
		{"task_status_changed", p1, t1, []any{"status"}},
		{"task_updated", p1, t1, []any{"title"}},
		{"task_status_changed", p1, t2, []any{"status", "title"}},
		{"task_deleted", p1, t2, nil},
		{"member_added", p2, "null", nil},
		{"member_removed", p2, "null", nil},
	}
	if len(inbox.rows) != len(want) || inbox.unread != len(want) {
		t.Fatalf("inbox has %d rows (X-Unread-Count %d), want %d: %v", len(inbox.rows), inbox.unread, len(want), inbox.rows)
	}
	for i, row := range inbox.rows { // newest first
		seq := float64(len(want) - i)
		wn := want[len(want)-1-i]
		data, _ := row["data"].(map[string]any)
		if row["seq"] != seq || row["type"] != wn.typ || itoa(row["project_id"]) != wn.project || itoa(row["task_id"]) != wn.task ||
			row["actor_id"] != ownerID || row["read"] != false || !reflect.DeepEqual(data["changes"], wn.changes) ||
			data["actor_username"] != "olga" {
			t.Errorf("row %d: %v, want seq %v %+v", i, row, seq, wn)
		}
		if i > 0 && row["id"].(float64) >= inbox.rows[i-1]["id"].(float64) {
			t.Errorf("rows are not newest first: %v", inbox.rows)
		}
		if _, err := time.Parse(time.RFC3339, row["created_at"].(string)); err != nil {
			t.Errorf("created_at: %v", err)
		}
	}
	if data := inbox.rows[3]["data"].(map[string]any); data["title"] != "Review v2" || data["status"] != "done" || data["project_name"] != "Apollo" {
		t.Errorf("the status+title notification's data: %v", data)
	}
	if rows := w.inbox(ownerTok, "").rows; len(rows) != 0 {
		t.Errorf("olga was notified of uma's actions: %v", rows)
	}

	rows := bySeq(inbox.rows)
	ws.collect(t, len(want), 1, rows)
	ws.quiet(t, 1500*time.Millisecond) // no duplicate, not even from the reconciler

	// Read one, then all.
	second := rows[2]
	read := w.c.call("POST", "/api/v1/notifications/"+itoa(second["id"])+"/read", umaTok, nil, 200)
	second["read"] = true
	if !reflect.DeepEqual(read, second) {
		t.Errorf("read answered %v, want %v", read, second)
	}
	unread := w.inbox(umaTok, "?unread=true")
	if len(unread.rows) != len(want)-1 || unread.unread != len(want)-1 {
		t.Errorf("after one read: %d unread rows, X-Unread-Count %d, want %d", len(unread.rows), unread.unread, len(want)-1)
	}
	for _, r := range unread.rows {
		if r["id"] == second["id"] || r["read"] != false {
			t.Errorf("unread listing holds %v", r)
		}
	}
	if got := w.c.call("POST", "/api/v1/notifications/read-all", umaTok, nil, 200); !reflect.DeepEqual(got, map[string]any{"updated": float64(len(want) - 1)}) {
		t.Errorf("read-all answered %v, want updated %d", got, len(want)-1)
	}
	if got := w.c.call("POST", "/api/v1/notifications/read-all", umaTok, nil, 200); !reflect.DeepEqual(got, map[string]any{"updated": 0.0}) {
		t.Errorf("second read-all answered %v", got)
	}
	after := w.inbox(umaTok, "")
	if after.unread != 0 || len(after.rows) != len(want) || len(w.inbox(umaTok, "?unread=true").rows) != 0 {
		t.Errorf("after read-all: X-Unread-Count %d, %d rows", after.unread, len(after.rows))
	}
	ws.quiet(t, 300*time.Millisecond) // reading pushes nothing

	// Resume after seq 3: 4..9 replayed (as they are now: read), then live.
	ws.conn.Close(websocket.StatusNormalClosure, "")
	resumed := dialNotifications(t, w.inst.URL, "token="+umaTok+"&since=3")
	resumed.collect(t, len(want)-3, 4, bySeq(after.rows))
	w.project(ownerTok, "Hermes", umaID) // 10 member_added, live
	live := resumed.next(t, 10*time.Second)
	newest := w.inbox(umaTok, "").rows[0]
	if live.Seq != 10 || !reflect.DeepEqual(live.Data, newest) || newest["type"] != "member_added" {
		t.Errorf("live push %+v\nwant the newest row %v", live, newest)
	}
	resumed.quiet(t, 1500*time.Millisecond)

	// since=0 replays everything; since=10 (the newest) nothing.
	all := dialNotifications(t, w.inst.URL, "token="+umaTok+"&since=0")
	all.collect(t, 10, 1, bySeq(w.inbox(umaTok, "").rows))
	current := dialNotifications(t, w.inst.URL, "token="+umaTok+"&since=10")
	current.quiet(t, 500*time.Millisecond)

	// Refused handshakes.
	for _, tc := range []struct {
		name, query string
		status      int
	}{
		{"SinceAhead", "token=" + umaTok + "&since=11", 422},
		{"SinceNegative", "token=" + umaTok + "&since=-1", 422},
		{"SinceNotANumber", "token=" + umaTok + "&since=x", 422},
		{"BadToken", "token=not-a-jwt", 403},
		{"NoToken", "", 403},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			conn, res, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(w.inst.URL, "http")+"/ws/notifications?"+tc.query, nil)
			if err == nil {
				conn.CloseNow()
			}
			if err == nil || res == nil || res.StatusCode != tc.status {
				t.Fatalf("err %v, response %v, want status %d", err, res, tc.status)
			}
		})
	}
}

// TestNotificationAuthorization: nobody reads, marks or receives another
// user's notifications.
func TestNotificationAuthorization(t *testing.T) {
	t.Parallel()
	w := newMailWorld(t, nil)
	ownerID, ownerTok := w.user("olga")
	umaID, umaTok := w.user("uma")
	vicID, vicTok := w.user("vic")
	ownerWS := dialNotifications(t, w.inst.URL, "token="+ownerTok)
	umaWS := dialNotifications(t, w.inst.URL, "token="+umaTok)
	vicWS := dialNotifications(t, w.inst.URL, "token="+vicTok)

	pid := w.project(ownerTok, "Apollo", umaID, vicID)                               // uma 1, vic 1
	w.task(umaTok, pid, map[string]any{"title": "For olga", "assignee_id": ownerID}) // olga 1
	w.task(ownerTok, pid, map[string]any{"title": "For uma", "assignee_id": umaID})  // uma 2

	owner, uma, vic := w.inbox(ownerTok, ""), w.inbox(umaTok, ""), w.inbox(vicTok, "")
	if len(owner.rows) != 1 || len(uma.rows) != 2 || len(vic.rows) != 1 {
		t.Fatalf("inboxes: olga %v, uma %v, vic %v", owner.rows, uma.rows, vic.rows)
	}
	ids := map[float64]string{}
	for who, p := range map[string]inboxPage{"olga": owner, "uma": uma, "vic": vic} {
		for _, r := range p.rows {
			if other, ok := ids[r["id"].(float64)]; ok {
				t.Errorf("notification %v is in both %s's and %s's inbox", r["id"], who, other)
			}
			ids[r["id"].(float64)] = who
		}
	}
	if owner.rows[0]["actor_id"] != umaID || owner.rows[0]["type"] != "task_assigned" {
		t.Errorf("olga's row %v", owner.rows[0])
	}

	// Each socket carries its user's notifications, and nothing else.
	ownerWS.collect(t, 1, 1, bySeq(owner.rows))
	umaWS.collect(t, 2, 1, bySeq(uma.rows))
	vicWS.collect(t, 1, 1, bySeq(vic.rows))
	for _, s := range []*notificationSocket{ownerWS, umaWS, vicWS} {
		s.quiet(t, 1200*time.Millisecond)
	}

	notFound := map[string]any{"detail": "Notification not found"}
	ownerRow := itoa(owner.rows[0]["id"])
	for _, path := range []string{"/api/v1/notifications/" + ownerRow + "/read", "/api/v1/notifications/999999/read"} {
		if got := w.c.call("POST", path, umaTok, nil, 404); !reflect.DeepEqual(got, notFound) {
			t.Errorf("POST %s by uma: %v, want %v", path, got, notFound)
		}
	}
	w.c.call("POST", "/api/v1/notifications/"+ownerRow+"/read", "", nil, 401)
	w.c.call("GET", "/api/v1/notifications", "", nil, 401)
	if got := w.c.call("POST", "/api/v1/notifications/read-all", umaTok, nil, 200); got["updated"] != 2.0 {
		t.Errorf("uma's read-all: %v, want updated 2", got)
	}
	if p := w.inbox(ownerTok, ""); p.unread != 1 || p.rows[0]["read"] != false {
		t.Errorf("uma's reads touched olga's inbox: %v, X-Unread-Count %d", p.rows, p.unread)
	}
	if p := w.inbox(vicTok, ""); p.unread != 1 {
		t.Errorf("uma's read-all touched vic's inbox: X-Unread-Count %d", p.unread)
	}
	// olga may read her own.
	if got := w.c.call("POST", "/api/v1/notifications/"+ownerRow+"/read", ownerTok, nil, 200); got["read"] != true {
		t.Errorf("olga's read: %v", got)
	}
}
