package taskwire

import (
	"context"
	"time"
)

// Page asks for one page of a list: at most Limit items after the cursor
// After (an id or seq, exclusive). Limit 0 means "everything", as the seed
// answered.
type Page struct {
	Limit int
	After int64
}

// Reader is the read side of the store. Methods return NotFound errors with
// the API's messages when a single row is missing.
type Reader interface {
	UserByID(ctx context.Context, id int64) (User, error)
	UserByUsername(ctx context.Context, username string) (User, error)
	UserByEmail(ctx context.Context, email string) (User, error)

	Project(ctx context.Context, id int64) (Project, error)
	ProjectsOf(ctx context.Context, userID int64, page Page) ([]Project, error)
	// LastSeqs returns the last_seq of each existing project among ids.
	LastSeqs(ctx context.Context, ids []int64) (map[int64]int64, error)
	Members(ctx context.Context, projectID int64) ([]Member, error)
	IsMember(ctx context.Context, projectID, userID int64) (bool, error)
	// ProjectMembership returns a project and whether the user is one of its
	// members, in one read. Returns NotFound for the project.
	ProjectMembership(ctx context.Context, projectID, userID int64) (Project, bool, error)

	Task(ctx context.Context, id int64) (Task, error)
	Tasks(ctx context.Context, projectID int64, filter TaskFilter, page Page) ([]Task, error)

	// Comment returns one comment. Returns NotFound "Comment not found".
	Comment(ctx context.Context, id int64) (Comment, error)
	// Comments lists a task's comments oldest first (by id), after the
	// cursor page.After (an id; 0: from the first).
	Comments(ctx context.Context, taskID int64, page Page) ([]Comment, error)
	// Labels counts the labels on a project's tasks, most used first, then
	// by name; a label is named as it was first written in the project.
	Labels(ctx context.Context, projectID int64) ([]LabelCount, error)
	// SearchTasks finds the tasks of the projects userID is a member of
	// that match q (see SearchQuery), best match first, at most limit.
	SearchTasks(ctx context.Context, userID int64, q SearchQuery, limit int) ([]SearchResult, error)

	// Events returns the events of a project with seq > since, oldest first.
	Events(ctx context.Context, projectID, since int64, limit int) ([]Event, error)
	// FirstEventSince returns the smallest seq of the project's events with
	// TS at or after t, or 0 if there is none.
	FirstEventSince(ctx context.Context, projectID int64, t time.Time) (int64, error)

	// Idempotency returns the stored response for a key, or NotFound.
	Idempotency(ctx context.Context, userID int64, scope, key string) (IdempotencyRecord, error)

	// Notifications lists a user's notifications, newest first, before the
	// cursor page.After (an id; 0: from the newest).
	Notifications(ctx context.Context, userID int64, filter NotificationFilter, page Page) ([]Notification, error)
	// UnreadCount counts a user's unread notifications.
	UnreadCount(ctx context.Context, userID int64) (int64, error)
	// NotificationsAfter returns a user's notifications with seq > since,
	// oldest first, at most limit (0: all).
	NotificationsAfter(ctx context.Context, userID, since int64, limit int) ([]Notification, error)
	// NotificationSeqs returns the last notification seq of each existing
	// user among ids.
	NotificationSeqs(ctx context.Context, ids []int64) (map[int64]int64, error)
	// NotificationSettings returns a user's settings (all on when unset).
	NotificationSettings(ctx context.Context, userID int64) (NotificationSettings, error)

	// APITokens lists a user's API tokens, newest first.
	APITokens(ctx context.Context, userID int64) ([]APIToken, error)
	// APITokenByHash returns the API token stored under hash and its user,
	// in one read. Returns NotFound "Token not found".
	APITokenByHash(ctx context.Context, hash string) (APIToken, User, error)
	// APITokenOwners returns the user of each existing API token among
	// ids.
	APITokenOwners(ctx context.Context, ids []int64) (map[int64]int64, error)
	// Invitation returns one invitation. Returns NotFound "Invitation not
	// found".
	Invitation(ctx context.Context, id int64) (Invitation, error)
	// InvitationByToken returns the invitation whose token has the hash
	// (see InvitationTokenHash). Returns NotFound "Invitation not found".
	InvitationByToken(ctx context.Context, tokenHash string) (Invitation, error)
	// Invitations lists a project's invitations, oldest first (by id).
	Invitations(ctx context.Context, projectID int64) ([]Invitation, error)
	// Webhook returns one webhook with its secrets. Returns NotFound
	// "Webhook not found".
	Webhook(ctx context.Context, id int64) (Webhook, error)
	// Webhooks lists a project's webhooks oldest first (by id), after the
	// cursor page.After.
	Webhooks(ctx context.Context, projectID int64, page Page) ([]Webhook, error)
	// ActiveWebhooks lists a project's active webhooks, for every event
	// the project emits: it must stay cheap (an indexed read).
	ActiveWebhooks(ctx context.Context, projectID int64) ([]Webhook, error)
	// WebhookDelivery returns one delivery attempt. Returns NotFound
	// "Delivery not found".
	WebhookDelivery(ctx context.Context, id int64) (WebhookDelivery, error)
	// WebhookDeliveries lists a webhook's delivery attempts newest first,
	// before the cursor page.After (an id; 0: from the newest).
	WebhookDeliveries(ctx context.Context, webhookID int64, page Page) ([]WebhookDelivery, error)
}

// Tx is one unit of work. Everything written through it commits together
// or not at all.
type Tx interface {
	Reader

	// LockTask reads a task and holds it against concurrent writers until
	// the unit of work ends; in the same read it returns the task's project
	// and whether userID is one of its members.
	LockTask(ctx context.Context, id, userID int64) (Task, Project, bool, error)

	// CreateUser returns Conflict with Field "email" or "username" when
	// either is taken.
	CreateUser(ctx context.Context, u User) (User, error)

	CreateProject(ctx context.Context, p Project) (Project, error)
	UpdateProject(ctx context.Context, p Project) error
	DeleteProject(ctx context.Context, id int64) error
	AddMember(ctx context.Context, projectID, userID int64) error
	// RemoveMember returns NotFound if the user was not a member (by the
	// time the unit of work got to it).
	RemoveMember(ctx context.Context, projectID, userID int64) error
	// LockMember is IsMember that also holds a membership it finds against
	// removal until the unit of work ends, so a task is never assigned to
	// someone whose removal (which unassigns their tasks) commits first.
	LockMember(ctx context.Context, projectID, userID int64) (bool, error)

	// CreateTask also stores t's labels for filtering and counting.
	CreateTask(ctx context.Context, t Task) (Task, error)
	// UpdateTask writes t's fields and version; when its labels change, the
	// unit also calls SetTaskLabels.
	UpdateTask(ctx context.Context, t Task) error
	// SetTaskLabels replaces what the label filter and counts know of t's
	// labels with t.Labels.
	SetTaskLabels(ctx context.Context, t Task) error
	DeleteTask(ctx context.Context, id int64) error
	// UnassignTasks clears the assignee of the user's tasks in the project
	// and returns the tasks it changed, with their new versions.
	UnassignTasks(ctx context.Context, projectID, userID int64, now time.Time) ([]Task, error)

	// LockComment reads a comment and holds it against concurrent writers
	// until the unit of work ends; in the same read it returns the
	// comment's project and whether userID is one of its members. Returns
	// NotFound "Comment not found".
	LockComment(ctx context.Context, id, userID int64) (Comment, Project, bool, error)
	// CreateComment stores c (its task must exist) and returns it with its
	// ID.
	CreateComment(ctx context.Context, c Comment) (Comment, error)
	// UpdateComment writes c's body, mentions and UpdatedAt.
	UpdateComment(ctx context.Context, c Comment) error
	// DeleteComment deletes a comment. A task's comments are deleted with
	// it (DeleteTask, DeleteProject) without a call.
	DeleteComment(ctx context.Context, id int64) error

	// AppendEvent assigns the project's next seq and the timestamp, stores
	// the event and returns it.
	AppendEvent(ctx context.Context, e Event) (Event, error)

	// PutIdempotency stores a response under a key; Conflict if the key
	// exists (on PostgreSQL it first waits for a concurrent unit of work
	// that holds the same key to end).
	PutIdempotency(ctx context.Context, r IdempotencyRecord) error
	// FinishIdempotency replaces the body stored under a key.
	FinishIdempotency(ctx context.Context, k IdempotencyKey, body []byte) error

	// CreateNotification assigns the user's next seq and stores n. The
	// returned notification's ID and Seq may be set only as the unit of
	// work commits (PostgreSQL numbers a batch's notifications together,
	// just before its commit): read them in an AfterCommit hook.
	CreateNotification(ctx context.Context, n Notification) (*Notification, error)
	// MarkRead marks one of the user's notifications read and returns it.
	// Returns NotFound "Notification not found" if it is not the user's.
	MarkRead(ctx context.Context, userID, id int64) (Notification, error)
	// MarkAllRead marks every unread notification of the user read and
	// returns how many it changed.
	MarkAllRead(ctx context.Context, userID int64) (int64, error)
	// PutNotificationSettings stores the kinds set in s.
	PutNotificationSettings(ctx context.Context, userID int64, s NotificationSettings) error

	// EnqueueEmail schedules a durable email job: it commits with the unit
	// of work, or not at all.
	EnqueueEmail(ctx context.Context, job EmailJob) error

	// CreateWebhook stores w (its project must exist) and returns it with
	// its ID.
	CreateWebhook(ctx context.Context, w Webhook) (Webhook, error)
	// UpdateWebhook writes w's URL, events, description, active flag,
	// secrets and failing_since.
	UpdateWebhook(ctx context.Context, w Webhook) error
	// DeleteWebhook deletes a webhook and its deliveries. A project's
	// webhooks are deleted with it (DeleteProject) without a call.
	DeleteWebhook(ctx context.Context, id int64) error
	// RecordWebhookDelivery stores one delivery attempt (its webhook must
	// exist) and returns it with its ID.
	RecordWebhookDelivery(ctx context.Context, d WebhookDelivery) (WebhookDelivery, error)
	// WebhookAttempted keeps a webhook's failing_since: cleared after a
	// success, set to at by the first failure after one. It returns the
	// value it leaves (nil after a success).
	WebhookAttempted(ctx context.Context, id int64, ok bool, at time.Time) (*time.Time, error)
	// DisableWebhook turns a webhook off and reports whether it was on.
	DisableWebhook(ctx context.Context, id int64) (bool, error)
	// EnqueueWebhooks schedules durable delivery jobs, in one insert: they
	// commit with the unit of work, or not at all.
	EnqueueWebhooks(ctx context.Context, jobs []WebhookJob) error
	// QueueWebhookEvent notes that the project's event seq is for its
	// webhooks: it commits with the unit of work, and TakeWebhookEvents
	// finds it after the commit.
	QueueWebhookEvent(ctx context.Context, projectID, seq int64) error
	// TakeWebhookEvents removes up to limit of the events QueueWebhookEvent
	// noted, in the order they were noted, and returns them; on PostgreSQL it skips those
	// another unit of work has taken and not committed yet. An event no
	// longer in the log (its project deleted) is removed and not returned.
	TakeWebhookEvents(ctx context.Context, limit int) ([]Event, error)

	// Reminded returns the reminder the task has had, if any.
	Reminded(ctx context.Context, taskID int64) (Reminder, bool, error)
	// RecordReminder stores r as its task's reminder, replacing any other.
	RecordReminder(ctx context.Context, r Reminder) error

	// CreateAPIToken stores t and returns it with its ID.
	CreateAPIToken(ctx context.Context, t APIToken) (APIToken, error)
	// DeleteAPIToken deletes the user's token id. Returns NotFound "Token
	// not found" if the user has no such token.
	DeleteAPIToken(ctx context.Context, userID, id int64) error
	// TouchAPIToken sets the token's last_used_at to at, unless it is
	// already at or after at; a deleted token is no error.
	TouchAPIToken(ctx context.Context, id int64, at time.Time) error
	// CreateInvitation stores inv (its project must exist; its TokenHash
	// must be unique) and returns it with its ID.
	CreateInvitation(ctx context.Context, inv Invitation) (Invitation, error)
	// DeleteInvitation deletes an invitation. Returns NotFound "Invitation
	// not found". A project's invitations are deleted with it.
	DeleteInvitation(ctx context.Context, id int64) error
	// LockInvitation is InvitationByToken that also holds the invitation
	// against concurrent writers until the unit of work ends, so that two
	// units accepting it run one after the other.
	LockInvitation(ctx context.Context, tokenHash string) (Invitation, error)
	// AcceptInvitation marks a pending invitation accepted by userID at
	// at. Returns Gone "Invitation is no longer valid" if it has been
	// accepted already, NotFound if it does not exist.
	AcceptInvitation(ctx context.Context, id, userID int64, at time.Time) error

	// AfterCommit registers f to run once the unit of work has committed.
	// Hooks run in commit order across the units of work of one store that
	// have the same write key (see WithWriteKey).
	AfterCommit(f func())
}

type writeKey struct{}

// WithWriteKey marks the unit of work about to run with ctx: a store that
// commits on several writers runs units with the same key on the same one,
// in order. Taskwire keys a unit by the project it changes, so batches on
// different writers never wait on each other's project rows.
func WithWriteKey(ctx context.Context, key int64) context.Context {
	return context.WithValue(ctx, writeKey{}, key)
}

// WriteKey returns the key WithWriteKey set, or 0.
func WriteKey(ctx context.Context) int64 {
	k, _ := ctx.Value(writeKey{}).(int64)
	return k
}

// Store is the persistence the Service needs.
type Store interface {
	Reader
	// View runs fn with a Reader that sees one consistent snapshot of the
	// database: nothing committed after its first read is visible to it.
	View(ctx context.Context, fn func(r Reader) error) error
	// Update runs fn in a unit of work and commits it if fn returns nil.
	Update(ctx context.Context, fn func(tx Tx) error) error
}

// Publisher hands committed events and notifications to the realtime
// layer. No method may block on slow consumers.
type Publisher interface {
	Publish(e Event)
	PublishNotification(n Notification)
	// PublishTokenRevoked says an API token was revoked: every instance
	// closes the sockets opened with it.
	PublishTokenRevoked(tokenID int64)
}

// PasswordHasher hashes and checks passwords.
type PasswordHasher interface {
	Hash(password string) (string, error)
	// Compare returns nil when password matches hash.
	Compare(hash, password string) error
}
