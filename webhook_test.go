package taskwire_test

import (
	"context"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/taskwire/taskwire"
	"github.com/taskwire/taskwire/internal/testenv"
	"github.com/taskwire/taskwire/sqlstore"
)

// TestWebhookDisabledAfterADayOfFailures walks a webhook's health on a
// clock of the test's: failures for less than WebhookFailureWindow keep it
// on; a success starts the window again; a failure when the first failure
// since the last success is a day old disables it and notifies the owner
// once; a disabled webhook's jobs are told to send nothing.
func TestWebhookDisabledAfterADayOfFailures(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2025, time.March, 14, 15, 9, 26, 0, time.UTC)
	db, err := sqlstore.Open(ctx, sqlstore.Target{Dialect: "sqlite", Path: filepath.Join(t.TempDir(), "taskwire.db")}, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	now := t0
	svc := taskwire.NewService(db, testenv.Discard{}, nil, taskwire.Options{Now: func() time.Time { return now }})
	var alice taskwire.User
	err = db.Update(ctx, func(tx taskwire.Tx) (err error) {
		alice, err = tx.CreateUser(ctx, taskwire.User{Email: "alice@example.com", Username: "alice", HashedPassword: "x", CreatedAt: t0})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	p, err := svc.CreateProject(ctx, alice, taskwire.NewProject{Name: "p"}, taskwire.IdempotencyKey{})
	if err != nil {
		t.Fatal(err)
	}
	w, err := svc.CreateWebhook(ctx, alice, p.ID, taskwire.NewWebhook{URL: "https://hooks.example/x"})
	if err != nil {
		t.Fatal(err)
	}
	attempt := func(after time.Duration, status int) bool {
		t.Helper()
		now = t0.Add(after)
		a := taskwire.WebhookAttempt{WebhookID: w.ID, EventSeq: 1, EventType: taskwire.EventTaskCreated, Attempt: 1, StatusCode: status}
		if status != 200 {
			a.Err = "failed"
		}
		active, err := svc.RecordWebhookAttempt(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		return active
	}
	notes := func() []taskwire.Notification {
		t.Helper()
		in, err := svc.Notifications(ctx, alice, taskwire.NotificationFilter{}, taskwire.Page{})
		if err != nil {
			t.Fatal(err)
		}
		return in.Notifications
	}

	if !attempt(0, 500) || !attempt(23*time.Hour, 0) {
		t.Fatal("disabled within a day of the first failure")
	}
	if !attempt(23*time.Hour+time.Minute, 200) {
		t.Fatal("disabled by a success")
	}
	// The window starts again at the next failure.
	if !attempt(30*time.Hour, 503) || !attempt(53*time.Hour, 503) {
		t.Fatal("disabled within a day of the first failure after a success")
	}
	if len(notes()) != 0 {
		t.Fatalf("notified early: %+v", notes())
	}
	if attempt(54*time.Hour, 503) {
		t.Fatal("still active after a day of failures")
	}
	if _, ok, err := svc.WebhookTarget(ctx, w.ID); ok || err != nil {
		t.Errorf("a disabled webhook is still a target (%v)", err)
	}
	ns := notes()
	if len(ns) != 1 || ns[0].Type != taskwire.NotifyWebhookDisabled || ns[0].ProjectID != p.ID ||
		string(ns[0].Data) != `{"project_name":"p","actor_username":"","project_id":`+itoa(p.ID)+`,"webhook_id":`+itoa(w.ID)+`,"url":"https://hooks.example/x","reason":"failing"}` {
		t.Fatalf("notifications %+v, data %s", ns, ns[0].Data)
	}
	// A job that was already running logs its attempt without a second
	// notification.
	attempt(55*time.Hour, 503)
	if len(notes()) != 1 {
		t.Errorf("notified twice: %+v", notes())
	}
	ds, err := svc.WebhookDeliveries(ctx, alice, w.ID, taskwire.Page{})
	if err != nil || len(ds) != 7 {
		t.Errorf("log %+v, %v: every attempt is logged", ds, err)
	}

	// Turned back on, it is a target again with its failures forgotten.
	on := true
	if w, err = svc.UpdateWebhook(ctx, alice, w.ID, taskwire.WebhookPatch{Active: &on}); err != nil || !w.Active {
		t.Fatalf("reactivate: %+v, %v", w, err)
	}
	if !attempt(56*time.Hour, 500) {
		t.Error("disabled at the first failure after being turned back on")
	}
	if tg, ok, err := svc.WebhookTarget(ctx, w.ID); !ok || err != nil || tg.URL != w.URL || len(tg.Secrets) != 1 {
		t.Errorf("target %+v, %v, %v", tg, ok, err)
	}

	// After a rotation both secrets sign, until the overlap ends.
	secret, err := svc.RotateWebhookSecret(ctx, alice, w.ID)
	if err != nil {
		t.Fatal(err)
	}
	rotated := now
	if tg, _, _ := svc.WebhookTarget(ctx, w.ID); len(tg.Secrets) != 2 || tg.Secrets[0] != secret || tg.Secrets[1] == secret {
		t.Errorf("secrets after a rotation: %v", tg.Secrets)
	}
	now = rotated.Add(taskwire.WebhookSecretOverlap)
	if tg, _, _ := svc.WebhookTarget(ctx, w.ID); len(tg.Secrets) != 1 || tg.Secrets[0] != secret {
		t.Errorf("secrets after the overlap: %v", tg.Secrets)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
