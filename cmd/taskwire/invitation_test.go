package main

import (
	"regexp"
	"testing"
	"time"

	"github.com/taskwire/taskwire/internal/smtptest"
)

var invitationLink = regexp.MustCompile(regexp.QuoteMeta(baseURL) + `/app/invite/([A-Za-z0-9_-]{43})`)

// TestInvitationEmailSurvivesCrash: an invitation's email is a durable job
// like the others. The SMTP server refuses it, and the program is killed
// (SIGKILL) while the job waits for its retry; started
// again on the same database, it sends the email once (after River's
// leadership expires, ~15 s), and the link's token accepts the invitation.
func TestInvitationEmailSurvivesCrash(t *testing.T) {
	t.Parallel()
	w := &mailWorld{t: t, smtp: smtptest.New(t), env: mailEnv(t)}
	w.env["SMTP_URL"] = "smtp://" + w.smtp.Addr() + "?starttls=none"
	w.env["EMAIL_RETRY_BASE"] = "3s"
	w.smtp.FailTemporarily(1 << 20) // until the crash
	kill := w.startKillable()

	_, ownerTok := w.user("olga")
	pid := w.project(ownerTok, "Apollo")
	w.c.call("POST", "/api/v1/projects/"+pid+"/invitations", ownerTok, map[string]string{"email": "dee@example.com"}, 201)
	// Killed once the refused attempt is recorded (the job waits for its
	// retry): a job killed while running would wait for River's rescue.
	deadline := time.Now().Add(30 * time.Second)
	for jobStates(w.metrics())["retryable"] != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("no refused attempt recorded within 30s (%d SMTP transactions); logs:\n%s", w.smtp.Transactions(), w.inst.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
	kill()
	w.smtp.FailTemporarily(0)
	if msgs := w.smtp.Messages(); len(msgs) != 0 {
		t.Fatalf("delivered before the crash although refused:%s", describe(msgs))
	}

	w.restart()
	w.waitMail("the invitation email after the crash", 45*time.Second, func(ms []smtptest.Message) bool { return len(ms) > 0 })
	w.waitSettled(1, 20*time.Second)
	msgs := w.smtp.Messages()
	if len(msgs) != 1 || len(msgs[0].Rcpt) != 1 || msgs[0].Rcpt[0] != "dee@example.com" {
		t.Fatalf("%d messages after the restart, want 1 to dee@example.com:%s", len(msgs), describe(msgs))
	}
	m := invitationLink.FindStringSubmatch(msgs[0].Text)
	if m == nil {
		t.Fatalf("no invitation link in:\n%s", msgs[0].Text)
	}
	_, deeTok := w.user("dee")
	p := w.c.call("POST", "/api/v1/invitations/accept", deeTok, map[string]string{"token": m[1]}, 200)
	if itoa(p["id"]) != pid {
		t.Errorf("accepted into %v, want project %s", p, pid)
	}
}
