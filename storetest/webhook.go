package storetest

import (
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/taskwire/taskwire"
)

func testWebhooks(t *testing.T, newStore func(t *testing.T) taskwire.Store) {
	s := newStore(t)
	ctx := t.Context()
	alice := createUser(t, s, "alice")
	p := createProject(t, s, alice, "p")
	other := createProject(t, s, alice, "other")
	create := func(w taskwire.Webhook) taskwire.Webhook {
		t.Helper()
		update(t, s, func(tx taskwire.Tx) (err error) {
			w, err = tx.CreateWebhook(ctx, w)
			return err
		})
		return w
	}
	expires := at(24 * time.Hour)
	a := create(taskwire.Webhook{ProjectID: p.ID, URL: "https://a.example/hook", Events: []taskwire.EventType{taskwire.EventTaskCreated, taskwire.EventCommentAdded},
		Description: "CI", Active: true, Secret: "whsec_a", CreatedAt: at(0)})
	b := create(taskwire.Webhook{ProjectID: p.ID, URL: "https://b.example/hook", Events: taskwire.EventTypes,
		Active: false, Secret: "whsec_b", PreviousSecret: "whsec_old", PreviousSecretExpiresAt: &expires, CreatedAt: at(time.Second)})
	c := create(taskwire.Webhook{ProjectID: other.ID, URL: "https://c.example/hook", Events: taskwire.EventTypes, Active: true, Secret: "whsec_c", CreatedAt: at(0)})
	if a.ID == 0 || b.ID <= a.ID {
		t.Fatalf("ids %d, %d", a.ID, b.ID)
	}

	same := func(got, want taskwire.Webhook) {
		t.Helper()
		if got.ID != want.ID || got.ProjectID != want.ProjectID || got.URL != want.URL || !reflect.DeepEqual(got.Events, want.Events) ||
			got.Description != want.Description || got.Active != want.Active || got.Secret != want.Secret ||
			got.PreviousSecret != want.PreviousSecret || !sameTime(got.CreatedAt, want.CreatedAt) ||
			!sameTimePtr(got.PreviousSecretExpiresAt, want.PreviousSecretExpiresAt) || !sameTimePtr(got.FailingSince, want.FailingSince) {
			t.Errorf("webhook %+v, want %+v", got, want)
		}
	}
	got, err := s.Webhook(ctx, b.ID)
	if err != nil {
		t.Fatal(err)
	}
	same(got, b)
	if _, err := s.Webhook(ctx, 9999); taskwire.ErrorKind(err) != taskwire.NotFound || err.Error() != taskwire.MsgWebhookNotFound {
		t.Errorf("Webhook(missing) = %v", err)
	}
	list, err := s.Webhooks(ctx, p.ID, taskwire.Page{})
	if err != nil || len(list) != 2 || list[0].ID != a.ID || list[1].ID != b.ID {
		t.Fatalf("Webhooks = %+v, %v", list, err)
	}
	same(list[0], a)
	if page, _ := s.Webhooks(ctx, p.ID, taskwire.Page{Limit: 1, After: a.ID}); len(page) != 1 || page[0].ID != b.ID {
		t.Errorf("page after %d: %+v", a.ID, page)
	}
	active, err := s.ActiveWebhooks(ctx, p.ID)
	if err != nil || len(active) != 1 || active[0].ID != a.ID {
		t.Errorf("ActiveWebhooks = %+v, %v", active, err)
	}

	// Update writes every field it names.
	failing := at(time.Hour)
	b.URL, b.Events, b.Description, b.Active, b.Secret = "https://b2.example/", []taskwire.EventType{taskwire.EventTaskDeleted}, "ops", true, "whsec_b2"
	b.PreviousSecret, b.PreviousSecretExpiresAt, b.FailingSince = "whsec_b", &failing, &failing
	update(t, s, func(tx taskwire.Tx) error { return tx.UpdateWebhook(ctx, b) })
	got, _ = s.Webhook(ctx, b.ID)
	same(got, b)

	// Health: the first failure sets failing_since, later ones keep it, a
	// success clears it.
	attempted := func(id int64, ok bool, when time.Time) *time.Time {
		t.Helper()
		var since *time.Time
		update(t, s, func(tx taskwire.Tx) (err error) {
			since, err = tx.WebhookAttempted(ctx, id, ok, when)
			return err
		})
		return since
	}
	if since := attempted(a.ID, false, at(time.Minute)); since == nil || !sameTime(*since, at(time.Minute)) {
		t.Errorf("after a first failure: %v", since)
	}
	if since := attempted(a.ID, false, at(time.Hour)); since == nil || !sameTime(*since, at(time.Minute)) {
		t.Errorf("after a second failure: %v, want the first's time", since)
	}
	if since := attempted(a.ID, true, at(2*time.Hour)); since != nil {
		t.Errorf("after a success: %v", since)
	}
	if got, _ := s.Webhook(ctx, a.ID); got.FailingSince != nil {
		t.Errorf("failing_since %v after a success", got.FailingSince)
	}
	disable := func(id int64) bool {
		t.Helper()
		var changed bool
		update(t, s, func(tx taskwire.Tx) (err error) {
			changed, err = tx.DisableWebhook(ctx, id)
			return err
		})
		return changed
	}
	if !disable(a.ID) || disable(a.ID) {
		t.Error("DisableWebhook must report a change once")
	}

	// Deliveries: newest first, paged before a cursor.
	record := func(d taskwire.WebhookDelivery) taskwire.WebhookDelivery {
		t.Helper()
		update(t, s, func(tx taskwire.Tx) (err error) {
			d, err = tx.RecordWebhookDelivery(ctx, d)
			return err
		})
		return d
	}
	code, msg, next := 500, "The receiver answered 500", at(time.Minute)
	d1 := record(taskwire.WebhookDelivery{WebhookID: a.ID, EventSeq: 7, EventType: taskwire.EventTaskCreated, Attempt: 1,
		StatusCode: &code, Error: &msg, DurationMS: 12, CreatedAt: at(0), NextAttemptAt: &next})
	ok := 204
	d2 := record(taskwire.WebhookDelivery{WebhookID: a.ID, EventSeq: 7, EventType: taskwire.EventTaskCreated, Attempt: 2,
		StatusCode: &ok, DurationMS: 3, CreatedAt: at(time.Minute)})
	d3 := record(taskwire.WebhookDelivery{WebhookID: a.ID, EventSeq: 8, EventType: taskwire.EventCommentAdded, Attempt: 1,
		Error: &msg, CreatedAt: at(2 * time.Minute)})
	record(taskwire.WebhookDelivery{WebhookID: c.ID, EventSeq: 1, EventType: taskwire.EventTaskCreated, Attempt: 1, CreatedAt: at(0)})
	ds, err := s.WebhookDeliveries(ctx, a.ID, taskwire.Page{})
	if err != nil || len(ds) != 3 || ds[0].ID != d3.ID || ds[1].ID != d2.ID || ds[2].ID != d1.ID {
		t.Fatalf("WebhookDeliveries = %+v, %v", ds, err)
	}
	if g := ds[2]; g.WebhookID != a.ID || g.EventSeq != 7 || g.EventType != taskwire.EventTaskCreated || g.Attempt != 1 ||
		g.StatusCode == nil || *g.StatusCode != 500 || g.Error == nil || *g.Error != msg || g.DurationMS != 12 ||
		!sameTime(g.CreatedAt, at(0)) || !sameTimePtr(g.NextAttemptAt, &next) {
		t.Errorf("delivery %+v", g)
	}
	if g := ds[0]; g.StatusCode != nil || g.NextAttemptAt != nil {
		t.Errorf("delivery without an answer: %+v", g)
	}
	if page, _ := s.WebhookDeliveries(ctx, a.ID, taskwire.Page{After: d3.ID, Limit: 1}); len(page) != 1 || page[0].ID != d2.ID {
		t.Errorf("page before %d: %+v", d3.ID, page)
	}
	if got, err := s.WebhookDelivery(ctx, d2.ID); err != nil || got.ID != d2.ID || got.WebhookID != a.ID {
		t.Errorf("WebhookDelivery = %+v, %v", got, err)
	}
	if _, err := s.WebhookDelivery(ctx, 9999); taskwire.ErrorKind(err) != taskwire.NotFound || err.Error() != taskwire.MsgDeliveryNotFound {
		t.Errorf("WebhookDelivery(missing) = %v", err)
	}

	// A webhook goes with its deliveries; a project with its webhooks.
	update(t, s, func(tx taskwire.Tx) error { return tx.DeleteWebhook(ctx, a.ID) })
	if _, err := s.WebhookDelivery(ctx, d1.ID); taskwire.ErrorKind(err) != taskwire.NotFound {
		t.Errorf("a deleted webhook's delivery: %v", err)
	}
	update(t, s, func(tx taskwire.Tx) error { return tx.DeleteProject(ctx, other.ID) })
	if _, err := s.Webhook(ctx, c.ID); taskwire.ErrorKind(err) != taskwire.NotFound {
		t.Errorf("a deleted project's webhook: %v", err)
	}
	// Without a job queue, EnqueueWebhooks commits nothing and fails nothing.
	update(t, s, func(tx taskwire.Tx) error {
		return tx.EnqueueWebhooks(ctx, []taskwire.WebhookJob{{WebhookID: b.ID, Event: taskwire.Event{ProjectID: p.ID, Seq: 1}}})
	})
}

// sameTimePtr is sameTime for optional times.
func sameTimePtr(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return sameTime(*a, *b)
}

// testWebhookOutbox: events noted for webhooks are taken once, in the
// order they were noted, in batches; a note of a unit that rolled back is not
// there; a note whose event left the log is dropped.
func testWebhookOutbox(t *testing.T, newStore func(t *testing.T) taskwire.Store) {
	s := newStore(t)
	ctx := t.Context()
	alice := createUser(t, s, "alice")
	p := createProject(t, s, alice, "p")
	q := createProject(t, s, alice, "q")
	note := func(projectID int64, n int) taskwire.Event {
		t.Helper()
		var e taskwire.Event
		update(t, s, func(tx taskwire.Tx) (err error) {
			if e, err = tx.AppendEvent(ctx, newEvent(projectID, alice.ID, at(time.Second), n)); err != nil {
				return err
			}
			return tx.QueueWebhookEvent(ctx, projectID, e.Seq)
		})
		return e
	}
	take := func(limit int) []taskwire.Event {
		t.Helper()
		var es []taskwire.Event
		update(t, s, func(tx taskwire.Tx) (err error) {
			es, err = tx.TakeWebhookEvents(ctx, limit)
			return err
		})
		return es
	}
	key := func(es []taskwire.Event) [][2]int64 {
		out := [][2]int64{}
		for _, e := range es {
			out = append(out, [2]int64{e.ProjectID, e.Seq})
		}
		return out
	}

	q1, p1, p2, p3 := note(q.ID, 0), note(p.ID, 1), note(p.ID, 2), note(p.ID, 3)
	rolledBack := errors.New("roll back")
	if err := s.Update(ctx, func(tx taskwire.Tx) error {
		e, err := tx.AppendEvent(ctx, newEvent(p.ID, alice.ID, at(time.Second), 4))
		if err == nil {
			err = tx.QueueWebhookEvent(ctx, p.ID, e.Seq)
		}
		return errors.Join(err, rolledBack)
	}); !errors.Is(err, rolledBack) {
		t.Fatalf("rolled back unit: %v", err)
	}

	first := take(2)
	rest := take(10)
	want := [][2]int64{{q.ID, q1.Seq}, {p.ID, p1.Seq}, {p.ID, p2.Seq}, {p.ID, p3.Seq}} // as noted
	if got := append(key(first), key(rest)...); !reflect.DeepEqual(got, want) {
		t.Errorf("taken %v, want %v", got, want)
	}
	if len(first) == 2 && (first[0].Type == "" || first[0].TS.IsZero() || len(first[0].Data) == 0) {
		t.Errorf("taken event without its fields: %+v", first[0])
	}
	if got := take(10); len(got) != 0 {
		t.Errorf("taken again: %v", key(got))
	}

	// A project deleted with its log: its note goes too.
	note(q.ID, 5)
	update(t, s, func(tx taskwire.Tx) error { return tx.DeleteProject(ctx, q.ID) })
	if got := take(10); len(got) != 0 {
		t.Errorf("taken after the project was deleted: %v", key(got))
	}
}

// testWebhooksAfterTaskLock: a unit that locked a task sees the project's
// active webhooks as they are, whatever LockTask found: none, then one the
// unit (or an earlier one) created or turned on.
func testWebhooksAfterTaskLock(t *testing.T, newStore func(t *testing.T) taskwire.Store) {
	s := newStore(t)
	ctx := t.Context()
	alice := createUser(t, s, "alice")
	p := createProject(t, s, alice, "p")
	task := createTask(t, s, p.ID, "t", nil)
	// check locks the task, changes what it will, then compares the
	// project's active webhooks (their URLs) with want. It reports instead
	// of stopping: it runs on the store's writer.
	check := func(tx taskwire.Tx, what string, change func() error, want ...string) error {
		if _, _, _, err := tx.LockTask(ctx, task.ID, alice.ID); err != nil {
			return err
		}
		if err := change(); err != nil {
			return err
		}
		hs, err := tx.ActiveWebhooks(ctx, p.ID)
		if err != nil {
			return err
		}
		var urls []string
		for _, h := range hs {
			urls = append(urls, h.URL)
		}
		if !slices.Equal(urls, want) {
			t.Errorf("active webhooks %s: %v, want %v", what, urls, want)
		}
		return nil
	}
	none := func() error { return nil }
	a := taskwire.Webhook{ProjectID: p.ID, URL: "https://a.example/hook", Events: taskwire.EventTypes, Secret: "whsec_a", CreatedAt: at(0)}
	b := taskwire.Webhook{ProjectID: p.ID, URL: "https://b.example/hook", Events: taskwire.EventTypes, Active: true, Secret: "whsec_b", CreatedAt: at(0)}

	update(t, s, func(tx taskwire.Tx) error {
		if err := check(tx, "of a project without any", none); err != nil {
			return err
		}
		return check(tx, "after creating an inactive one", func() (err error) {
			a, err = tx.CreateWebhook(ctx, a)
			return err
		})
	})
	update(t, s, func(tx taskwire.Tx) error {
		return check(tx, "after turning one on in the unit", func() error {
			a.Active = true
			return tx.UpdateWebhook(ctx, a)
		}, a.URL)
	})
	update(t, s, func(tx taskwire.Tx) error {
		if err := check(tx, "in the next unit", none, a.URL); err != nil {
			return err
		}
		a.Active = false
		if err := tx.UpdateWebhook(ctx, a); err != nil {
			return err
		}
		return check(tx, "after creating one in the unit", func() (err error) {
			_, err = tx.CreateWebhook(ctx, b)
			return err
		}, b.URL)
	})
}
