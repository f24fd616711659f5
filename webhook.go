package taskwire

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Messages of the webhook use-cases; they are part of the API contract.
const (
	MsgWebhookNotFound   = "Webhook not found"
	MsgDeliveryNotFound  = "Delivery not found"
	MsgNotWebhookManager = "Only the project owner can manage its webhooks"
	MsgEventNotRetained  = "The event of this delivery is no longer retained"
)

// Webhook is an endpoint a project's events are posted to. Its secrets
// never leave the server except once, when they are made.
type Webhook struct {
	ID          int64       `json:"id"`
	ProjectID   int64       `json:"project_id"`
	URL         string      `json:"url"`
	Events      []EventType `json:"events" nullable:"false"`
	Description string      `json:"description"`
	// Active: events are delivered. A 410 answer, a day of failures or the
	// owner turns it off.
	Active    bool      `json:"active"`
	CreatedAt time.Time `json:"created_at"`

	// Secret signs every delivery; PreviousSecret also signs until
	// PreviousSecretExpiresAt, after a rotation.
	Secret                  string     `json:"-"`
	PreviousSecret          string     `json:"-"`
	PreviousSecretExpiresAt *time.Time `json:"-"`
	// FailingSince is the first failed attempt since the last success, or
	// nil.
	FailingSince *time.Time `json:"-"`
}

// Subscribed reports whether the webhook wants events of type t.
func (w Webhook) Subscribed(t EventType) bool { return slices.Contains(w.Events, t) }

// Secrets returns the secrets that sign a delivery made at now: the
// current one, then the previous one while it is still valid.
func (w Webhook) Secrets(now time.Time) []string {
	out := []string{w.Secret}
	if w.PreviousSecret != "" && w.PreviousSecretExpiresAt != nil && now.Before(*w.PreviousSecretExpiresAt) {
		out = append(out, w.PreviousSecret)
	}
	return out
}

// WebhookDelivery is one attempt to deliver one event to a webhook.
type WebhookDelivery struct {
	ID         int64     `json:"id"`
	WebhookID  int64     `json:"-"`
	EventSeq   int64     `json:"event_seq"`
	EventType  EventType `json:"event_type"`
	Attempt    int       `json:"attempt"`
	StatusCode *int      `json:"status_code" doc:"The receiver's HTTP status; null when no answer came."`
	Error      *string   `json:"error" doc:"Why the attempt failed; null when it succeeded."`
	DurationMS int64     `json:"duration_ms"`
	CreatedAt  time.Time `json:"created_at"`
	// NextAttemptAt is when the delivery is tried again; null when it will
	// not be.
	NextAttemptAt *time.Time `json:"next_attempt_at"`
}

// WebhookJob asks for one event to be delivered to one webhook, by a
// durable job (made by DispatchWebhooks from the event's note, or by a
// redelivery).
type WebhookJob struct {
	WebhookID int64
	Event     Event
	// Redelivery: asked for by the owner, not by the event.
	Redelivery bool
}

// NewWebhook is what a webhook is created from. Events nil means every
// event type.
type NewWebhook struct {
	URL         string
	Events      []EventType
	Description string
}

// WebhookPatch changes the fields that are set.
type WebhookPatch struct {
	URL         *string
	Events      []EventType // nil: unchanged
	Active      *bool
	Description *string
}

// WebhookAttempt is the outcome of one delivery attempt, as the worker
// reports it.
type WebhookAttempt struct {
	WebhookID  int64
	ProjectID  int64 // the webhook's project (0: read it)
	EventSeq   int64
	EventType  EventType
	Attempt    int
	StatusCode int // 0: no answer
	Err        string
	Duration   time.Duration
	// NextAttemptAt is when the job runs again, or zero when it will not.
	NextAttemptAt time.Time
}

// Succeeded reports whether the receiver accepted the delivery (any 2xx).
func (a WebhookAttempt) Succeeded() bool { return a.StatusCode >= 200 && a.StatusCode < 300 }

// WebhookTarget is what a delivery job sends to: the URL and the secrets
// that sign it.
type WebhookTarget struct {
	URL     string
	Secrets []string
}

// URLChecker refuses webhook URLs Taskwire must not post to (see
// Options.WebhookURLs). Its errors are shown to the owner.
type URLChecker interface {
	CheckURL(ctx context.Context, raw string) error
}

// WebhookFailureWindow is how long a webhook's deliveries may keep failing
// before it is disabled.
const WebhookFailureWindow = 24 * time.Hour

// WebhookSecretOverlap is how long the secret before a rotation still
// signs deliveries.
const WebhookSecretOverlap = 24 * time.Hour

// Limits of a webhook's fields.
const (
	MaxWebhookURLLen         = 2048
	MaxWebhookDescriptionLen = 500
)

// newWebhookSecret returns "whsec_" and the base64 of 32 random bytes.
func newWebhookSecret() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand)
	return "whsec_" + base64.StdEncoding.EncodeToString(b)
}

// validateWebhookURL accepts an absolute http or https URL with a host.
// Whether its address may be reached is the URLChecker's to say.
func validateWebhookURL(raw string) error {
	if raw == "" || len(raw) > MaxWebhookURLLen || !storable(raw) {
		return InvalidField("url", "URL must be 1 to 2048 characters")
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Hostname() == "" {
		return InvalidField("url", "URL must be an absolute http or https URL")
	}
	if u.User != nil {
		return InvalidField("url", "URL must not contain credentials")
	}
	return nil
}

// validateWebhookDescription accepts up to MaxWebhookDescriptionLen
// characters of storable text.
func validateWebhookDescription(d string) error {
	if utf8.RuneCountInString(d) > MaxWebhookDescriptionLen || !storable(d) {
		return InvalidField("description", "Description must be at most 500 characters of text")
	}
	return nil
}

// webhookEvents checks a list of event types and returns it without
// repeats, in EventTypes order; nil means every type.
func webhookEvents(in []EventType) ([]EventType, error) {
	if in == nil {
		return slices.Clone(EventTypes), nil
	}
	if len(in) == 0 {
		return nil, InvalidField("events", "Events must name at least one event type")
	}
	for _, t := range in {
		if !slices.Contains(EventTypes, t) {
			name := string(t)
			if len(name) > 64 || !utf8.ValidString(name) {
				name = strings.ToValidUTF8(name[:min(len(name), 64)], "") + "..."
			}
			return nil, InvalidField("events", "Unknown event type: "+name)
		}
	}
	out := make([]EventType, 0, len(in))
	for _, t := range EventTypes {
		if slices.Contains(in, t) {
			out = append(out, t)
		}
	}
	return out, nil
}
