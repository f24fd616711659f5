package main

import (
	"strings"
	"testing"
	"time"

	"github.com/taskwire/taskwire/internal/smtptest"
)

// Reminder tests run the program with REMINDER_LEAD of an hour and give
// tasks due dates a few seconds past it, so each reminder falls due a few
// seconds into the test; River's scheduler adds up to ~5 s.

const reminderLead = time.Hour

// isReminder tells a due-date reminder from the other emails.
func isReminder(m smtptest.Message) bool { return strings.Contains(m.Subject, " is due ") }

// remindersTo returns the reminders among msgs whose envelope goes to addr.
func remindersTo(msgs []smtptest.Message, addr string) []smtptest.Message {
	var out []smtptest.Message
	for _, m := range msgs {
		if isReminder(m) && slicesContain(m.Rcpt, addr) {
			out = append(out, m)
		}
	}
	return out
}

// dueIn is a due date whose reminder falls due d from now.
func dueIn(d time.Duration) string {
	return time.Now().Add(reminderLead + d).UTC().Truncate(time.Second).Format(time.RFC3339)
}

// dueSoon counts tok's user's task_due_soon notifications per task id.
func (w *mailWorld) dueSoon(tok string) map[string]int {
	w.t.Helper()
	out := map[string]int{}
	for _, n := range w.c.list("/api/v1/notifications", tok) {
		if n["type"] == "task_due_soon" {
			out[itoa(n["task_id"])]++
		}
	}
	return out
}

func newReminderWorld(t *testing.T) (w *mailWorld, ownerTok, pid string, bobID float64, bobTok string) {
	w = newMailWorld(t, map[string]string{"REMINDER_LEAD": reminderLead.String()})
	_, ownerTok = w.user("olga")
	bobID, bobTok = w.user("bob")
	w.emailSettings(bobTok, map[string]bool{"member_added": false, "task_assigned": false})
	pid = w.project(ownerTok, "Apollo", bobID)
	return w, ownerTok, pid, bobID, bobTok
}

// TestReminderOncePerDueDate: the assignee of a task gets one task_due_soon
// notification and one email, naming the task, project, due time (UTC)
// and link, at due − REMINDER_LEAD, or at once when that has passed; a
// later edit, or done and back, with the same due date and assignee, sends
// no second one.
func TestReminderOncePerDueDate(t *testing.T) {
	t.Parallel()
	w, ownerTok, pid, bobID, bobTok := newReminderWorld(t)
	due := dueIn(3 * time.Second)
	soon := w.task(ownerTok, pid, map[string]any{"title": "Launch", "assignee_id": bobID, "due_at": due})
	late := w.task(ownerTok, pid, map[string]any{"title": "Overdue", "assignee_id": bobID,
		"due_at": time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)})
	w.task(ownerTok, pid, map[string]any{"title": "Unassigned", "due_at": due})
	w.task(ownerTok, pid, map[string]any{"title": "Done already", "assignee_id": bobID, "due_at": due, "status": "done"})

	w.waitMail("two reminders", 30*time.Second, func(ms []smtptest.Message) bool { return len(remindersTo(ms, "bob@example.com")) >= 2 })
	w.c.call("PUT", "/api/v1/tasks/"+soon, ownerTok, map[string]any{"title": "Launch!"}, 200)
	w.c.call("PATCH", "/api/v1/tasks/"+late+"/status", ownerTok, map[string]any{"status": "done"}, 200)
	w.c.call("PATCH", "/api/v1/tasks/"+late+"/status", ownerTok, map[string]any{"status": "todo"}, 200)
	// Jobs: bob added; an assignment and a reminder for Launch and for
	// Overdue; an assignment for Done already; the reopening's reminder,
	// which finds Overdue reminded.
	w.waitSettled(7, 20*time.Second)
	msgs := remindersTo(w.smtp.Messages(), "bob@example.com")
	if len(msgs) != 2 {
		t.Fatalf("%d reminders, want 2:%s", len(msgs), describe(msgs))
	}
	if got := w.dueSoon(bobTok); got[soon] != 1 || got[late] != 1 || len(got) != 2 {
		t.Errorf("task_due_soon notifications per task = %v, want one for %s and one for %s", got, soon, late)
	}
	for _, m := range msgs {
		if !strings.Contains(m.Subject, "Launch") {
			continue
		}
		dueAt, _ := time.Parse(time.RFC3339, due)
		for _, want := range []string{"Launch", "Apollo", dueAt.Format("15:04") + " UTC", baseURL + "/projects/" + pid + "/tasks/" + soon} {
			if !strings.Contains(m.Subject+m.Text, want) {
				t.Errorf("the reminder does not say %q:\n%s\n%s", want, m.Subject, m.Text)
			}
		}
		return
	}
	t.Errorf("no reminder names Launch:%s", describe(msgs))
}

// TestReminderRescheduledAndCancelled: a new due date or assignee makes a
// new reminder and leaves the old one silent; done or deleted cancels it.
func TestReminderRescheduledAndCancelled(t *testing.T) {
	t.Parallel()
	w, ownerTok, pid, bobID, bobTok := newReminderWorld(t)
	carolID, carolTok := w.user("carol")
	w.emailSettings(carolTok, map[string]bool{"member_added": false, "task_assigned": false})
	w.c.call("POST", "/api/v1/projects/"+pid+"/members", ownerTok, map[string]any{"user_id": carolID}, 201)

	moved := w.task(ownerTok, pid, map[string]any{"title": "Moved", "assignee_id": bobID, "due_at": dueIn(3 * time.Second)})
	newDue := dueIn(time.Hour) // its reminder is an hour away: not in this test
	w.c.call("PUT", "/api/v1/tasks/"+moved, ownerTok, map[string]any{"due_at": newDue}, 200)
	handed := w.task(ownerTok, pid, map[string]any{"title": "Handed over", "assignee_id": bobID, "due_at": dueIn(3 * time.Second)})
	w.c.call("PUT", "/api/v1/tasks/"+handed, ownerTok, map[string]any{"assignee_id": carolID}, 200)
	done := w.task(ownerTok, pid, map[string]any{"title": "Finished", "assignee_id": bobID, "due_at": dueIn(3 * time.Second)})
	w.c.call("PATCH", "/api/v1/tasks/"+done+"/status", ownerTok, map[string]any{"status": "done"}, 200)
	gone := w.task(ownerTok, pid, map[string]any{"title": "Deleted", "assignee_id": bobID, "due_at": dueIn(3 * time.Second)})
	w.c.call("DELETE", "/api/v1/tasks/"+gone, ownerTok, nil, 204)

	w.waitMail("carol's reminder", 30*time.Second, func(ms []smtptest.Message) bool { return len(remindersTo(ms, "carol@example.com")) == 1 })
	// Jobs: bob and carol added; Moved's assignment and two reminders (the
	// second an hour away); an assignment and a reminder for Handed over,
	// for each assignee; an assignment and a reminder for Finished and for
	// Deleted.
	deadline := time.Now().Add(20 * time.Second)
	for {
		st := jobStates(w.metrics())
		if st["completed"] == 12 && st["scheduled"] == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("jobs %v, want 12 completed and 1 scheduled", st)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if msgs := remindersTo(w.smtp.Messages(), "bob@example.com"); len(msgs) != 0 {
		t.Errorf("bob got %d reminders, want none:%s", len(msgs), describe(msgs))
	}
	if got := w.dueSoon(bobTok); len(got) != 0 {
		t.Errorf("bob's task_due_soon notifications = %v, want none", got)
	}
	if got := w.dueSoon(carolTok); got[handed] != 1 || len(got) != 1 {
		t.Errorf("carol's task_due_soon notifications = %v, want one for %s", got, handed)
	}
}

// TestReminderSurvivesCrash: the program is killed (SIGKILL) after the due
// date is set and before its reminder is due; started again on the same
// database, it sends the reminder once, with one notification.
func TestReminderSurvivesCrash(t *testing.T) {
	t.Parallel()
	w := &mailWorld{t: t, smtp: smtptest.New(t), env: mailEnv(t)}
	w.env["SMTP_URL"] = "smtp://" + w.smtp.Addr() + "?starttls=none"
	w.env["REMINDER_LEAD"] = reminderLead.String()
	kill := w.startKillable()
	_, ownerTok := w.user("olga")
	bobID, bobTok := w.user("bob")
	w.emailSettings(bobTok, map[string]bool{"member_added": false, "task_assigned": false})
	pid := w.project(ownerTok, "Apollo", bobID)
	tid := w.task(ownerTok, pid, map[string]any{"title": "Crash-proof", "assignee_id": bobID, "due_at": dueIn(2 * time.Second)})
	kill()

	w.restart()
	w.waitMail("the reminder after the crash", 45*time.Second, func(ms []smtptest.Message) bool { return len(remindersTo(ms, "bob@example.com")) > 0 })
	w.waitSettled(3, 20*time.Second) // bob added, the assignment (both turned off) and the reminder
	if msgs := remindersTo(w.smtp.Messages(), "bob@example.com"); len(msgs) != 1 {
		t.Fatalf("%d reminders after the restart, want 1:%s", len(msgs), describe(msgs))
	}
	if got := w.dueSoon(bobTok); got[tid] != 1 || len(got) != 1 {
		t.Errorf("task_due_soon notifications = %v, want one for %s", got, tid)
	}
}
