package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/taskwire/taskwire"
)

const webhookColumns = "id, project_id, url, events, description, active, secret, previous_secret, previous_secret_expires_at, failing_since, created_at"

// scanWebhook scans webhookColumns.
func scanWebhook(r interface{ Scan(...any) error }) (taskwire.Webhook, error) {
	var w taskwire.Webhook
	var events string
	var expires, failing time.Time
	err := r.Scan(&w.ID, &w.ProjectID, &w.URL, &events, &w.Description, &w.Active, &w.Secret, &w.PreviousSecret,
		nullTime{&expires}, nullTime{&failing}, nullTime{&w.CreatedAt})
	if err != nil {
		return taskwire.Webhook{}, err
	}
	if !expires.IsZero() {
		w.PreviousSecretExpiresAt = &expires
	}
	if !failing.IsZero() {
		w.FailingSince = &failing
	}
	w.Events = []taskwire.EventType{}
	if err := json.Unmarshal([]byte(events), &w.Events); err != nil {
		return taskwire.Webhook{}, fmt.Errorf("sqlstore: events of webhook %d: %w", w.ID, err)
	}
	return w, nil
}

// Webhook implements taskwire.Reader.
func (s reads) Webhook(ctx context.Context, id int64) (taskwire.Webhook, error) {
	w, err := scanWebhook(s.row(ctx, "SELECT "+webhookColumns+" FROM webhooks WHERE id = ?", id))
	return w, notFound(err, taskwire.MsgWebhookNotFound)
}

// Webhooks implements taskwire.Reader.
func (s reads) Webhooks(ctx context.Context, projectID int64, page taskwire.Page) ([]taskwire.Webhook, error) {
	rows, err := s.query(ctx, "SELECT "+webhookColumns+" FROM webhooks WHERE project_id = ? AND id > ? ORDER BY id"+limit(page.Limit),
		projectID, page.After)
	return list(rows, err, func(r *sql.Rows) (taskwire.Webhook, error) { return scanWebhook(r) })
}

// ActiveWebhooks implements taskwire.Reader, on ix_webhooks_project_id.
func (s reads) ActiveWebhooks(ctx context.Context, projectID int64) ([]taskwire.Webhook, error) {
	rows, err := s.query(ctx, "SELECT "+webhookColumns+" FROM webhooks WHERE project_id = ? AND active = TRUE ORDER BY id", projectID)
	return list(rows, err, func(r *sql.Rows) (taskwire.Webhook, error) { return scanWebhook(r) })
}

// CreateWebhook implements taskwire.Tx.
func (s writes) CreateWebhook(ctx context.Context, w taskwire.Webhook) (taskwire.Webhook, error) {
	if w.Events == nil {
		w.Events = []taskwire.EventType{}
	}
	err := s.row(ctx, `INSERT INTO webhooks (project_id, url, events, description, active, secret, previous_secret,
		previous_secret_expires_at, failing_since, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		w.ProjectID, w.URL, jsonArray(w.Events), w.Description, w.Active, w.Secret, w.PreviousSecret,
		s.d.timeOrNull(w.PreviousSecretExpiresAt), s.d.timeOrNull(w.FailingSince), s.d.time(w.CreatedAt)).Scan(&w.ID)
	return w, dbErr(err)
}

// UpdateWebhook implements taskwire.Tx.
func (s writes) UpdateWebhook(ctx context.Context, w taskwire.Webhook) error {
	_, err := s.exec(ctx, `UPDATE webhooks SET url = ?, events = ?, description = ?, active = ?, secret = ?,
		previous_secret = ?, previous_secret_expires_at = ?, failing_since = ? WHERE id = ?`,
		w.URL, jsonArray(w.Events), w.Description, w.Active, w.Secret, w.PreviousSecret,
		s.d.timeOrNull(w.PreviousSecretExpiresAt), s.d.timeOrNull(w.FailingSince), w.ID)
	return dbErr(err)
}

// DeleteWebhook implements taskwire.Tx.
func (s writes) DeleteWebhook(ctx context.Context, id int64) error {
	_, err := s.exec(ctx, "DELETE FROM webhooks WHERE id = ?", id)
	return dbErr(err)
}

// WebhookAttempted implements taskwire.Tx in one statement, so that a
// concurrent attempt or edit cannot lose it.
func (s writes) WebhookAttempted(ctx context.Context, id int64, ok bool, at time.Time) (*time.Time, error) {
	var since time.Time
	var err error
	if ok {
		_, err = s.exec(ctx, "UPDATE webhooks SET failing_since = NULL WHERE id = ? AND failing_since IS NOT NULL", id)
	} else {
		err = s.row(ctx, "UPDATE webhooks SET failing_since = COALESCE(failing_since, ?) WHERE id = ? RETURNING failing_since",
			s.d.time(at), id).Scan(nullTime{&since})
	}
	if err != nil {
		return nil, notFound(err, taskwire.MsgWebhookNotFound)
	}
	if since.IsZero() {
		return nil, nil
	}
	return &since, nil
}

// DisableWebhook implements taskwire.Tx.
func (s writes) DisableWebhook(ctx context.Context, id int64) (bool, error) {
	res, err := s.exec(ctx, "UPDATE webhooks SET active = FALSE WHERE id = ? AND active = TRUE", id)
	if err != nil {
		return false, dbErr(err)
	}
	n, err := res.RowsAffected()
	return n > 0, dbErr(err)
}

const deliveryColumns = "id, webhook_id, event_seq, event_type, attempt, status_code, error, duration_ms, created_at, next_attempt_at"

// scanDelivery scans deliveryColumns.
func scanDelivery(r interface{ Scan(...any) error }) (taskwire.WebhookDelivery, error) {
	var d taskwire.WebhookDelivery
	var code sql.NullInt64
	var msg sql.NullString
	var next time.Time
	err := r.Scan(&d.ID, &d.WebhookID, &d.EventSeq, &d.EventType, &d.Attempt, &code, &msg, &d.DurationMS,
		nullTime{&d.CreatedAt}, nullTime{&next})
	if err != nil {
		return taskwire.WebhookDelivery{}, err
	}
	if code.Valid {
		c := int(code.Int64)
		d.StatusCode = &c
	}
	d.Error = strPtr(msg)
	if !next.IsZero() {
		d.NextAttemptAt = &next
	}
	return d, nil
}

// WebhookDelivery implements taskwire.Reader.
func (s reads) WebhookDelivery(ctx context.Context, id int64) (taskwire.WebhookDelivery, error) {
	d, err := scanDelivery(s.row(ctx, "SELECT "+deliveryColumns+" FROM webhook_deliveries WHERE id = ?", id))
	return d, notFound(err, taskwire.MsgDeliveryNotFound)
}

// WebhookDeliveries implements taskwire.Reader.
func (s reads) WebhookDeliveries(ctx context.Context, webhookID int64, page taskwire.Page) ([]taskwire.WebhookDelivery, error) {
	q := "SELECT " + deliveryColumns + " FROM webhook_deliveries WHERE webhook_id = ?"
	args := []any{webhookID}
	if page.After > 0 {
		q += " AND id < ?"
		args = append(args, page.After)
	}
	rows, err := s.query(ctx, q+" ORDER BY id DESC"+limit(page.Limit), args...)
	return list(rows, err, func(r *sql.Rows) (taskwire.WebhookDelivery, error) { return scanDelivery(r) })
}

// RecordWebhookDelivery implements taskwire.Tx.
func (s writes) RecordWebhookDelivery(ctx context.Context, d taskwire.WebhookDelivery) (taskwire.WebhookDelivery, error) {
	err := s.row(ctx, `INSERT INTO webhook_deliveries (webhook_id, event_seq, event_type, attempt, status_code, error,
		duration_ms, created_at, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		d.WebhookID, d.EventSeq, d.EventType, d.Attempt, d.StatusCode, d.Error, d.DurationMS, s.d.time(d.CreatedAt),
		s.d.timeOrNull(d.NextAttemptAt)).Scan(&d.ID)
	return d, dbErr(err)
}

// QueueWebhookEvent implements taskwire.Tx.
func (s writes) QueueWebhookEvent(ctx context.Context, projectID, seq int64) error {
	_, err := s.exec(ctx, "INSERT INTO webhook_outbox (project_id, seq) VALUES (?, ?)", projectID, seq)
	return dbErr(err)
}

// TakeWebhookEvents implements taskwire.Tx. The rows are deleted first, so
// that on PostgreSQL a concurrent unit skips them (SKIP LOCKED) instead of
// waiting for this one, then their events are read, in the order the notes
// were written.
func (s writes) TakeWebhookEvents(ctx context.Context, limit int) ([]taskwire.Event, error) {
	lock := ""
	if s.d.remote {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	rows, err := s.query(ctx, `DELETE FROM webhook_outbox WHERE id IN
		(SELECT id FROM webhook_outbox ORDER BY id LIMIT ?`+lock+`) RETURNING id, project_id, seq`, limit)
	type note struct{ id, project, seq int64 }
	notes, err := list(rows, err, func(r *sql.Rows) (note, error) {
		var n note
		return n, r.Scan(&n.id, &n.project, &n.seq)
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(notes, func(a, b note) int { return cmp.Compare(a.id, b.id) })
	events := make([]taskwire.Event, 0, len(notes))
	for _, n := range notes {
		e, err := s.event(ctx, n.project, n.seq)
		if taskwire.ErrorKind(err) == taskwire.NotFound {
			continue
		}
		if err != nil {
			return nil, err
		}
		events = append(events, e)
	}
	return events, nil
}
