package taskwire

import (
	"context"
	"encoding/json"
	"slices"
	"time"
)

// enqueueWebhooks notes the event for delivery, in its unit of work, when
// one of the project's active webhooks wants it: the note commits with the
// event or not at all, and DispatchWebhooks turns it into delivery jobs
// after the commit. A job insert costs the write path far more than the
// note (River's insert statement is parsed anew each time: on SQLite it
// took PATCH .../status from ~5,100 to ~1,000 requests/s with 3 webhooks);
// the dispatcher makes one insert of many events' jobs.
func (s *Service) enqueueWebhooks(ctx context.Context, tx Tx, e Event) error {
	hooks, err := tx.ActiveWebhooks(ctx, e.ProjectID)
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(hooks, func(w Webhook) bool { return w.Subscribed(e.Type) }) {
		return nil
	}
	if err := tx.QueueWebhookEvent(ctx, e.ProjectID, e.Seq); err != nil {
		return err
	}
	tx.AfterCommit(s.webhooksDue)
	return nil
}

// webhooksDue wakes DispatchWebhooks without waiting.
func (s *Service) webhooksDue() {
	select {
	case s.hooksDue <- struct{}{}:
	default:
	}
}

// webhookDispatchBatch is how many noted events one unit of work of
// DispatchWebhooks turns into jobs.
const webhookDispatchBatch = 256

// webhookDispatchPoll is how often DispatchWebhooks looks for noted events
// without being woken: those of a unit that committed just before the
// process stopped, or on another instance that stopped.
const webhookDispatchPoll = time.Second

// DispatchWebhooks turns the events noted for webhooks into delivery jobs
// until ctx ends: woken after each commit that noted one, and every
// second. Each round is one unit of work that takes up to
// webhookDispatchBatch events and inserts their jobs, so an event becomes
// its jobs exactly once, on whichever instance takes it. report receives
// the errors of failed rounds, which are tried again.
func (s *Service) DispatchWebhooks(ctx context.Context, report func(error)) {
	poll := time.NewTicker(webhookDispatchPoll)
	defer poll.Stop()
	for {
		for {
			n, err := s.dispatchWebhooks(ctx)
			if err != nil && ctx.Err() == nil && report != nil {
				report(err)
			}
			if err != nil || n < webhookDispatchBatch {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-s.hooksDue:
		case <-poll.C:
		}
	}
}

// dispatchWebhooks is one round of DispatchWebhooks; it returns how many
// events it took. An event goes to the webhooks that are active and want
// it when the round runs and that existed when it happened.
func (s *Service) dispatchWebhooks(ctx context.Context) (int, error) {
	n := 0
	err := s.store.Update(ctx, func(tx Tx) error {
		events, err := tx.TakeWebhookEvents(ctx, webhookDispatchBatch)
		n = len(events)
		if err != nil || n == 0 {
			return err
		}
		var jobs []WebhookJob
		hooks := map[int64][]Webhook{}
		for _, e := range events {
			hs, ok := hooks[e.ProjectID]
			if !ok {
				if hs, err = tx.ActiveWebhooks(ctx, e.ProjectID); err != nil {
					return err
				}
				hooks[e.ProjectID] = hs
			}
			for _, w := range hs {
				if w.Subscribed(e.Type) && !w.CreatedAt.After(e.TS) {
					jobs = append(jobs, WebhookJob{WebhookID: w.ID, Event: e})
				}
			}
		}
		if len(jobs) == 0 {
			return nil
		}
		return tx.EnqueueWebhooks(ctx, jobs)
	})
	return n, err
}

// checkWebhookURL validates raw and asks the URL checker, if any, whether
// it may be posted to. Returns Invalid.
func (s *Service) checkWebhookURL(ctx context.Context, raw string) error {
	if err := validateWebhookURL(raw); err != nil {
		return err
	}
	if s.opts.WebhookURLs == nil {
		return nil
	}
	if err := s.opts.WebhookURLs.CheckURL(ctx, raw); err != nil {
		return InvalidField("url", err.Error())
	}
	return nil
}

// CreateWebhook adds a webhook to a project (its owner only) and returns it
// with its secret, which is never shown again. Returns NotFound "Project
// not found"; Forbidden; Invalid (a bad or refused URL, an unknown event
// type, a long description).
func (s *Service) CreateWebhook(ctx context.Context, actor User, projectID int64, in NewWebhook) (Webhook, error) {
	events, err := webhookEvents(in.Events)
	if err != nil {
		return Webhook{}, err
	}
	if err := validateWebhookDescription(in.Description); err != nil {
		return Webhook{}, err
	}
	// The checks of membership come first so that a stranger learns
	// nothing from the URL check.
	if _, err := owned(ctx, s.store, projectID, actor.ID, MsgNotWebhookManager); err != nil {
		return Webhook{}, err
	}
	if err := s.checkWebhookURL(ctx, in.URL); err != nil {
		return Webhook{}, err
	}
	var w Webhook
	err = s.updateProject(ctx, projectID, func(tx Tx) (err error) {
		if _, err := owned(ctx, tx, projectID, actor.ID, MsgNotWebhookManager); err != nil {
			return err
		}
		w, err = tx.CreateWebhook(ctx, Webhook{
			ProjectID: projectID, URL: in.URL, Events: events, Description: in.Description,
			Active: true, CreatedAt: s.now(), Secret: newWebhookSecret(),
		})
		return err
	})
	return w, err
}

// Webhooks lists a project's webhooks, oldest first, without their
// secrets. Returns NotFound "Project not found"; Forbidden.
func (s *Service) Webhooks(ctx context.Context, actor User, projectID int64, page Page) ([]Webhook, error) {
	var out []Webhook
	err := s.store.View(ctx, func(r Reader) (err error) {
		if _, err := owned(ctx, r, projectID, actor.ID, MsgNotWebhookManager); err != nil {
			return err
		}
		out, err = r.Webhooks(ctx, projectID, page)
		return err
	})
	return out, err
}

// ownedWebhook reads a webhook whose project actor owns. Returns NotFound
// "Webhook not found"; Forbidden.
func ownedWebhook(ctx context.Context, r Reader, actor User, id int64) (Webhook, error) {
	w, err := r.Webhook(ctx, id)
	if err != nil {
		return Webhook{}, err
	}
	if _, err := owned(ctx, r, w.ProjectID, actor.ID, MsgNotWebhookManager); err != nil {
		if ErrorKind(err) == NotFound {
			return Webhook{}, Errorf(NotFound, MsgWebhookNotFound)
		}
		return Webhook{}, err
	}
	return w, nil
}

// changeWebhook runs fn on a webhook of actor's in a unit of work and
// stores what it leaves in *w.
func (s *Service) changeWebhook(ctx context.Context, actor User, id int64, fn func(w *Webhook) error) (Webhook, error) {
	// A first read finds the project, whose write key orders the unit.
	w, err := ownedWebhook(ctx, s.store, actor, id)
	if err != nil {
		return Webhook{}, err
	}
	err = s.updateProject(ctx, w.ProjectID, func(tx Tx) (err error) {
		if w, err = ownedWebhook(ctx, tx, actor, id); err != nil {
			return err
		}
		if err := fn(&w); err != nil {
			return err
		}
		return tx.UpdateWebhook(ctx, w)
	})
	return w, err
}

// UpdateWebhook changes the fields patch sets (the project's owner only).
// Turning a webhook back on forgets its failures. Returns NotFound
// "Webhook not found"; Forbidden; Invalid.
func (s *Service) UpdateWebhook(ctx context.Context, actor User, id int64, patch WebhookPatch) (Webhook, error) {
	var events []EventType
	if patch.Events != nil {
		var err error
		if events, err = webhookEvents(patch.Events); err != nil {
			return Webhook{}, err
		}
	}
	if patch.Description != nil {
		if err := validateWebhookDescription(*patch.Description); err != nil {
			return Webhook{}, err
		}
	}
	if patch.URL != nil {
		if _, err := ownedWebhook(ctx, s.store, actor, id); err != nil {
			return Webhook{}, err
		}
		if err := s.checkWebhookURL(ctx, *patch.URL); err != nil {
			return Webhook{}, err
		}
	}
	return s.changeWebhook(ctx, actor, id, func(w *Webhook) error {
		if patch.URL != nil {
			w.URL = *patch.URL
		}
		if events != nil {
			w.Events = events
		}
		if patch.Description != nil {
			w.Description = *patch.Description
		}
		if patch.Active != nil {
			if *patch.Active && !w.Active {
				w.FailingSince = nil
			}
			w.Active = *patch.Active
		}
		return nil
	})
}

// RotateWebhookSecret gives a webhook a new secret and returns it; the old
// one also signs deliveries for WebhookSecretOverlap. Returns NotFound
// "Webhook not found"; Forbidden.
func (s *Service) RotateWebhookSecret(ctx context.Context, actor User, id int64) (string, error) {
	w, err := s.changeWebhook(ctx, actor, id, func(w *Webhook) error {
		until := s.now().Add(WebhookSecretOverlap)
		w.PreviousSecret, w.PreviousSecretExpiresAt = w.Secret, &until
		w.Secret = newWebhookSecret()
		return nil
	})
	return w.Secret, err
}

// DeleteWebhook deletes a webhook and its delivery log; its pending jobs
// send nothing. Returns NotFound "Webhook not found"; Forbidden.
func (s *Service) DeleteWebhook(ctx context.Context, actor User, id int64) error {
	w, err := ownedWebhook(ctx, s.store, actor, id)
	if err != nil {
		return err
	}
	return s.updateProject(ctx, w.ProjectID, func(tx Tx) error {
		if _, err := ownedWebhook(ctx, tx, actor, id); err != nil {
			return err
		}
		return tx.DeleteWebhook(ctx, id)
	})
}

// WebhookDeliveries lists a webhook's delivery attempts, newest first,
// before the cursor page.After. Returns NotFound "Webhook not found";
// Forbidden.
func (s *Service) WebhookDeliveries(ctx context.Context, actor User, id int64, page Page) ([]WebhookDelivery, error) {
	var out []WebhookDelivery
	err := s.store.View(ctx, func(r Reader) (err error) {
		if _, err := ownedWebhook(ctx, r, actor, id); err != nil {
			return err
		}
		out, err = r.WebhookDeliveries(ctx, id, page)
		return err
	})
	return out, err
}

// Redeliver delivers the event of one of a webhook's deliveries again, by
// a new job, with the same webhook-id. Returns NotFound "Webhook not
// found" or "Delivery not found"; Forbidden; Gone when the event has left
// the log.
func (s *Service) Redeliver(ctx context.Context, actor User, webhookID, deliveryID int64) error {
	w, err := ownedWebhook(ctx, s.store, actor, webhookID)
	if err != nil {
		return err
	}
	return s.updateProject(ctx, w.ProjectID, func(tx Tx) error {
		if _, err := ownedWebhook(ctx, tx, actor, webhookID); err != nil {
			return err
		}
		d, err := tx.WebhookDelivery(ctx, deliveryID)
		if err != nil {
			return err
		}
		if d.WebhookID != webhookID {
			return Errorf(NotFound, MsgDeliveryNotFound)
		}
		p, err := tx.Project(ctx, w.ProjectID)
		if err != nil {
			return err
		}
		oldest, err := s.oldestRetained(ctx, tx, p)
		if err != nil {
			return err
		}
		if d.EventSeq < oldest {
			return Errorf(Gone, MsgEventNotRetained)
		}
		events, err := tx.Events(ctx, w.ProjectID, d.EventSeq-1, 1)
		if err != nil {
			return err
		}
		if len(events) == 0 || events[0].Seq != d.EventSeq {
			return Errorf(Gone, MsgEventNotRetained)
		}
		return tx.EnqueueWebhooks(ctx, []WebhookJob{{WebhookID: webhookID, Event: events[0], Redelivery: true}})
	})
}

// WebhookTarget answers a delivery job: where to send and with which
// secrets, or false when the webhook is gone or disabled and nothing is to
// be sent.
func (s *Service) WebhookTarget(ctx context.Context, webhookID int64) (WebhookTarget, bool, error) {
	w, err := s.store.Webhook(ctx, webhookID)
	if ErrorKind(err) == NotFound {
		return WebhookTarget{}, false, nil
	}
	if err != nil || !w.Active {
		return WebhookTarget{}, false, err
	}
	return WebhookTarget{URL: w.URL, Secrets: w.Secrets(s.now())}, true, nil
}

// RecordWebhookAttempt logs one attempt of a delivery job and keeps the
// webhook's health: a success forgets its failures; a 410 disables it; a
// failure when the webhook has failed for WebhookFailureWindow without a
// success disables it too, and its project's owner is notified
// (webhook_disabled, as after a 410). It reports whether the webhook is still active.
func (s *Service) RecordWebhookAttempt(ctx context.Context, a WebhookAttempt) (bool, error) {
	if a.ProjectID == 0 {
		w, err := s.store.Webhook(ctx, a.WebhookID)
		if ErrorKind(err) == NotFound {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		a.ProjectID = w.ProjectID
	}
	active := true
	err := s.updateProject(ctx, a.ProjectID, func(tx Tx) error {
		now := s.now()
		d := WebhookDelivery{
			WebhookID: a.WebhookID, EventSeq: a.EventSeq, EventType: a.EventType, Attempt: a.Attempt,
			DurationMS: a.Duration.Milliseconds(), CreatedAt: now,
		}
		if a.StatusCode != 0 {
			code := a.StatusCode
			d.StatusCode = &code
		}
		if a.Err != "" {
			msg := a.Err
			d.Error = &msg
		}
		if !a.NextAttemptAt.IsZero() {
			next := a.NextAttemptAt.UTC().Truncate(time.Microsecond)
			d.NextAttemptAt = &next
		}
		w, err := tx.Webhook(ctx, a.WebhookID)
		if ErrorKind(err) == NotFound {
			active = false // deleted meanwhile
			return nil
		} else if err != nil {
			return err
		}
		if _, err := tx.RecordWebhookDelivery(ctx, d); err != nil {
			return err
		}
		since, err := tx.WebhookAttempted(ctx, a.WebhookID, a.Succeeded(), now)
		if err != nil {
			return err
		}
		reason := ""
		switch {
		case a.StatusCode == 410:
			reason = "gone"
		case since != nil && now.Sub(*since) >= WebhookFailureWindow:
			reason = "failing"
		default:
			return nil
		}
		active = false
		disabled, err := tx.DisableWebhook(ctx, a.WebhookID)
		if err != nil || !disabled {
			return err
		}
		return s.notifyWebhookDisabled(ctx, tx, w, reason, now)
	})
	return active, err
}

// notifyWebhookDisabled tells the project's owner that w was disabled, and
// why: "gone" (the receiver answered 410) or "failing" (for a day).
func (s *Service) notifyWebhookDisabled(ctx context.Context, tx Tx, w Webhook, reason string, now time.Time) error {
	p, err := tx.Project(ctx, w.ProjectID)
	if err != nil {
		return err
	}
	raw, err := json.Marshal(NotificationData{ProjectName: p.Name, ProjectID: p.ID, WebhookID: w.ID, URL: w.URL, Reason: reason})
	if err != nil {
		return err
	}
	n, err := tx.CreateNotification(ctx, Notification{
		UserID: p.OwnerID, Type: NotifyWebhookDisabled, ProjectID: p.ID, CreatedAt: now, Data: raw,
	})
	if err != nil {
		return err
	}
	tx.AfterCommit(func() { s.pub.PublishNotification(*n) })
	return nil
}
