package taskwire

import (
	"encoding/json"
	"time"
)

// NotificationType names why a user is notified.
type NotificationType string

// Notification types. A user is notified when a task is assigned to them;
// when a task assigned to them changes status or title, is deleted or is
// commented on; when they are added to or removed from a project; when a
// comment mentions them — never for their own actions.
const (
	NotifyTaskAssigned      NotificationType = "task_assigned"
	NotifyTaskStatusChanged NotificationType = "task_status_changed"
	NotifyTaskUpdated       NotificationType = "task_updated"
	NotifyTaskDeleted       NotificationType = "task_deleted"
	NotifyMemberAdded       NotificationType = "member_added"
	NotifyMemberRemoved     NotificationType = "member_removed"
	NotifyMentioned         NotificationType = "mentioned"
	NotifyTaskCommented     NotificationType = "task_commented"
	NotifyTaskDueSoon       NotificationType = "task_due_soon"
	// NotifyInvitationAccepted tells a project's owner that someone joined
	// through an invitation (in the app only, no email).
	NotifyInvitationAccepted NotificationType = "invitation_accepted"
	// NotifyWebhookDisabled tells a project's owner that one of its
	// webhooks was turned off: its receiver answered 410, or its
	// deliveries kept failing for a day.
	NotifyWebhookDisabled NotificationType = "webhook_disabled"
)

// EmailInvitation is the kind of the email that carries an invitation to
// an address, which may have no account: it is not a notification type.
const EmailInvitation NotificationType = "invitation"

// NotificationTypes lists every type.
var NotificationTypes = []NotificationType{
	NotifyTaskAssigned, NotifyTaskStatusChanged, NotifyTaskUpdated,
	NotifyTaskDeleted, NotifyMemberAdded, NotifyMemberRemoved,
	NotifyMentioned, NotifyTaskCommented, NotifyInvitationAccepted, NotifyWebhookDisabled,
}

// EmailKinds are the notification types that also send an email; each
// user can turn each one off.
var EmailKinds = []NotificationType{NotifyTaskAssigned, NotifyMemberAdded, NotifyMentioned, NotifyTaskDueSoon}

// Notification is one entry of a user's inbox. Seq numbers a user's
// notifications 1, 2, 3, ... with no gaps, for the live push and resume.
type Notification struct {
	ID        int64            `json:"id"`
	UserID    int64            `json:"-"`
	Seq       int64            `json:"seq"`
	Type      NotificationType `json:"type"`
	ProjectID int64            `json:"project_id"`
	TaskID    *int64           `json:"task_id"`
	ActorID   int64            `json:"actor_id"`
	Read      bool             `json:"read"`
	CreatedAt time.Time        `json:"created_at"`
	Data      json.RawMessage  `json:"data"`
}

// NotificationData is what a notification's data says, for an inbox to show
// without more requests.
type NotificationData struct {
	ProjectName   string   `json:"project_name"`
	ActorUsername string   `json:"actor_username"`
	Title         string   `json:"title,omitempty"`
	Status        Status   `json:"status,omitempty"`
	Changes       []string `json:"changes,omitempty"`
	// CommentID, TaskID and ProjectID name the comment of a mentioned or
	// task_commented notification.
	CommentID int64 `json:"comment_id,omitempty"`
	// DueAt is the due date a task_due_soon notification reminds of.
	DueAt *time.Time `json:"due_at,omitempty"`
	// Email and InvitationID name the invitation an invitation_accepted
	// notification is about.
	Email        string `json:"email,omitempty"`
	InvitationID int64  `json:"invitation_id,omitempty"`
	TaskID       int64  `json:"task_id,omitempty"`
	ProjectID    int64  `json:"project_id,omitempty"`
	// WebhookID, URL and Reason ("gone" or "failing") describe a
	// webhook_disabled notification.
	WebhookID int64  `json:"webhook_id,omitempty"`
	URL       string `json:"url,omitempty"`
	Reason    string `json:"reason,omitempty"`
}

// NotificationFilter narrows an inbox listing.
type NotificationFilter struct {
	UnreadOnly bool
}

// NotificationSettings says, per email kind, whether the user wants email.
// Kinds not set default to on.
type NotificationSettings struct {
	Email map[NotificationType]bool `json:"email"`
}

// Wants reports whether the user wants email of kind k.
func (s NotificationSettings) Wants(k NotificationType) bool {
	on, ok := s.Email[k]
	return !ok || on
}

// EmailJob asks for one email, sent after the commit by a durable job.
// Seq is the seq of the event that caused it: one change, one job.
type EmailJob struct {
	Kind      NotificationType
	UserID    int64
	ProjectID int64
	TaskID    int64 // 0 for membership
	Seq       int64
	ActorID   int64
	CommentID int64 // for a mention; 0 otherwise
	// DueAt is the due date a reminder is for; At is when its job runs
	// (zero: after the queue's debounce; a past time: at once).
	DueAt time.Time
	At    time.Time
	// InvitationID and Token are an invitation email's (Kind
	// EmailInvitation; UserID is 0): the job reads the address from the
	// invitation, and carries the token itself because the store keeps
	// only its hash.
	InvitationID int64
	Token        string
}
