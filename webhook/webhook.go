// Package webhook delivers a project's events to its webhooks, per
// Standard Webhooks 1.0: the River job made for each (event, webhook) from
// the note its event left in webhook_outbox (Args, Inserter), the worker that posts it through the SSRF-safe egress client
// and retries it (Worker), and the signing (sign.go).
//
// Delivery is at least once: a job that was sending when the process died
// is sent again after the restart, with the same webhook-id.
package webhook

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/riverqueue/river"
	"github.com/taskwire/taskwire"
	"github.com/taskwire/taskwire/internal/egress"
	"github.com/taskwire/taskwire/notify"
)

// Queue is the River queue deliveries are worked on, apart from email so
// that neither holds up the other.
const Queue = "webhook"

// Args is the River job that delivers one event to one webhook. It carries
// the event itself, so every attempt posts the same body.
type Args struct {
	WebhookID int64              `json:"webhook_id"`
	ProjectID int64              `json:"project_id"`
	Seq       int64              `json:"seq"`
	Type      taskwire.EventType `json:"type"`
	TS        time.Time          `json:"ts"`
	// Event is the event as a protocol-2 socket receives it, as a string:
	// PostgreSQL's jsonb would reorder an object's keys.
	Event      string `json:"event"`
	Redelivery bool   `json:"redelivery,omitempty"`
}

// Kind implements river.JobArgs.
func (Args) Kind() string { return "webhook" }

// InsertOpts implements river.JobArgsWithInsertOpts.
func (Args) InsertOpts() river.InsertOpts { return river.InsertOpts{Queue: Queue} }

// Options tune deliveries. Zero fields take the defaults in brackets.
type Options struct {
	// Timeout bounds one attempt, from connecting to reading the answer
	// [10s].
	Timeout time.Duration
	// RetryBase is the delay before the first retry; each next one
	// doubles, up to an hour [5s].
	RetryBase time.Duration
	// MaxAttempts bounds the attempts of one delivery [8].
	MaxAttempts int
	// Workers is how many deliveries run at once on an instance [16]; one
	// webhook gets at most half of them (at least one).
	Workers int
	// Postgres selects River's database/sql driver for PostgreSQL instead
	// of its SQLite driver.
	Postgres bool
}

func (o *Options) defaults() {
	if o.Timeout <= 0 {
		o.Timeout = egress.DefaultTimeout
	}
	if o.RetryBase <= 0 {
		o.RetryBase = 5 * time.Second
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 8
	}
	if o.Workers <= 0 {
		o.Workers = 16
	}
}

// maxRetryDelay caps the growing delay between attempts.
const maxRetryDelay = time.Hour

// retryDelay is the delay after the given attempt: base, 2×base, 4×base, ...
func (o Options) retryDelay(attempt int) time.Duration {
	exp := math.Pow(2, float64(max(0, attempt-1)))
	return time.Duration(min(float64(maxRetryDelay), float64(o.RetryBase)*exp))
}

// FetchCooldown is the least time between two fetches of delivery jobs
// while the queue is busy. A fetch takes at most one job per free worker:
// River's default of 100 ms held deliveries to ~150/s with 16 workers.
const FetchCooldown = 5 * time.Millisecond

// Inserter puts delivery jobs in units of work: an insert-only River
// client, like notify.Inserter.
type Inserter struct {
	client      *river.Client[*sql.Tx]
	maxAttempts int
}

// NewInserter returns an Inserter for the database kind opts.Postgres
// names. A job's attempts are fixed when it is inserted.
func NewInserter(opts Options) (*Inserter, error) {
	opts.defaults()
	client, err := river.NewClient(notify.DriverFor(nil, opts.Postgres), &river.Config{})
	if err != nil {
		return nil, fmt.Errorf("webhook: %w", err)
	}
	return &Inserter{client: client, maxAttempts: opts.MaxAttempts}, nil
}

// InsertWebhooksTx inserts the delivery jobs in tx in one batch, due at
// once.
func (i *Inserter) InsertWebhooksTx(ctx context.Context, tx *sql.Tx, jobs []taskwire.WebhookJob) error {
	params := make([]river.InsertManyParams, len(jobs))
	opts := &river.InsertOpts{Queue: Queue, MaxAttempts: i.maxAttempts}
	var event string // the same event for every job of one emit
	for k, job := range jobs {
		e := job.Event
		if k == 0 || e.Seq != jobs[k-1].Event.Seq || e.ProjectID != jobs[k-1].Event.ProjectID {
			event = string(e.AppendJSON(make([]byte, 0, 128+len(e.Data))))
		}
		params[k] = river.InsertManyParams{Args: Args{
			WebhookID: job.WebhookID, ProjectID: e.ProjectID, Seq: e.Seq, Type: e.Type, TS: e.TS,
			Event: event, Redelivery: job.Redelivery,
		}, InsertOpts: opts}
	}
	_, err := i.client.InsertManyTx(ctx, tx, params)
	return err
}

// URLChecker is the service's taskwire.URLChecker over an egress client:
// its refusals are the sentences egress makes for users.
type URLChecker struct{ Client *egress.Client }

// CheckURL implements taskwire.URLChecker.
func (c URLChecker) CheckURL(ctx context.Context, raw string) error {
	err := c.Client.CheckURL(ctx, raw)
	if e := (*egress.Error)(nil); errors.As(err, &e) {
		return errors.New(e.Message)
	}
	return err
}
