package taskwire

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"time"
)

// notify writes a notification for userID in tx and pushes it after
// commit. It never notifies the actor of their own action.
func (s *Service) notify(ctx context.Context, tx Tx, actor User, p Project, taskID *int64, userID int64, typ NotificationType, data NotificationData) error {
	if userID == actor.ID {
		return nil
	}
	data.ProjectName, data.ActorUsername = p.Name, actor.Username
	raw, err := json.Marshal(data)
	if err != nil {
		return err
	}
	n, err := tx.CreateNotification(ctx, Notification{
		UserID: userID, Type: typ, ProjectID: p.ID, TaskID: taskID, ActorID: actor.ID,
		CreatedAt: s.now(), Data: raw,
	})
	if err != nil {
		return err
	}
	tx.AfterCommit(func() { s.pub.PublishNotification(*n) })
	return nil
}

// notifyTask applies the task rules to one change (before is the zero Task
// for a creation), creating at most one notification: the assignee hears
// of a new assignment, or else of a change of status or title to their
// task.
func (s *Service) notifyTask(ctx context.Context, tx Tx, actor User, p Project, before, after Task, e Event) error {
	if after.AssigneeID == nil || *after.AssigneeID == actor.ID {
		return nil
	}
	assignee, taskID := *after.AssigneeID, after.ID
	data := NotificationData{Title: after.Title, Status: after.Status}
	if !equalPtr(before.AssigneeID, after.AssigneeID) {
		if err := s.notify(ctx, tx, actor, p, &taskID, assignee, NotifyTaskAssigned, data); err != nil {
			return err
		}
		return s.email(ctx, tx, EmailJob{Kind: NotifyTaskAssigned, UserID: assignee, ProjectID: p.ID, TaskID: after.ID, Seq: e.Seq, ActorID: actor.ID})
	}
	if before.Status != after.Status {
		data.Changes = append(data.Changes, "status")
	}
	if before.Title != after.Title {
		data.Changes = append(data.Changes, "title")
	}
	switch {
	case slices.Contains(data.Changes, "status"):
		return s.notify(ctx, tx, actor, p, &taskID, assignee, NotifyTaskStatusChanged, data)
	case len(data.Changes) > 0:
		return s.notify(ctx, tx, actor, p, &taskID, assignee, NotifyTaskUpdated, data)
	}
	return nil
}

// email enqueues an email job in tx; nobody is emailed about their own
// action.
func (s *Service) email(ctx context.Context, tx Tx, job EmailJob) error {
	if job.UserID == job.ActorID {
		return nil
	}
	return tx.EnqueueEmail(ctx, job)
}

// Inbox is one read of a user's notifications.
type Inbox struct {
	Notifications []Notification // newest first
	Unread        int64          // how many of the user's notifications are unread
	// Seq is the user's newest notification seq as of the same read: the
	// inbox reflects exactly the notifications up to it.
	Seq int64
}

// Notifications lists the caller's notifications, newest first, with the
// number of unread ones, as of one read.
func (s *Service) Notifications(ctx context.Context, actor User, filter NotificationFilter, page Page) (Inbox, error) {
	var in Inbox
	err := s.store.View(ctx, func(r Reader) (err error) {
		seqs, err := r.NotificationSeqs(ctx, []int64{actor.ID})
		if err != nil {
			return err
		}
		in.Seq = seqs[actor.ID]
		if in.Notifications, err = r.Notifications(ctx, actor.ID, filter, page); err != nil {
			return err
		}
		in.Unread, err = r.UnreadCount(ctx, actor.ID)
		return err
	})
	if err != nil {
		return Inbox{}, err
	}
	return in, nil
}

// MarkRead marks one of the caller's notifications read. Returns NotFound
// "Notification not found" for any notification that is not the caller's.
func (s *Service) MarkRead(ctx context.Context, actor User, id int64) (Notification, error) {
	var n Notification
	err := s.update(ctx, func(tx Tx) (err error) {
		n, err = tx.MarkRead(ctx, actor.ID, id)
		return err
	})
	return n, err
}

// MarkAllRead marks every unread notification of the caller read and
// returns how many changed.
func (s *Service) MarkAllRead(ctx context.Context, actor User) (int64, error) {
	var n int64
	err := s.update(ctx, func(tx Tx) (err error) {
		n, err = tx.MarkAllRead(ctx, actor.ID)
		return err
	})
	return n, err
}

// NotificationSettings returns the caller's email settings.
func (s *Service) NotificationSettings(ctx context.Context, actor User) (NotificationSettings, error) {
	return s.store.NotificationSettings(ctx, actor.ID)
}

// UpdateNotificationSettings stores the kinds set in set and returns the
// caller's settings. Returns Invalid for an unknown kind.
func (s *Service) UpdateNotificationSettings(ctx context.Context, actor User, set NotificationSettings) (NotificationSettings, error) {
	for k := range set.Email {
		if !slices.Contains(EmailKinds, k) {
			kinds := make([]string, len(EmailKinds))
			for i, k := range EmailKinds {
				kinds[i] = string(k)
			}
			return NotificationSettings{}, InvalidField("email", "Unknown email kind "+string(k)+"; kinds are "+strings.Join(kinds, ", "))
		}
	}
	err := s.update(ctx, func(tx Tx) error { return tx.PutNotificationSettings(ctx, actor.ID, set) })
	if err != nil {
		return NotificationSettings{}, err
	}
	return s.store.NotificationSettings(ctx, actor.ID)
}

// NotificationSeq returns a user's newest notification seq. Returns NotFound.
func (s *Service) NotificationSeq(ctx context.Context, userID int64) (int64, error) {
	seqs, err := s.store.NotificationSeqs(ctx, []int64{userID})
	if err != nil {
		return 0, err
	}
	seq, ok := seqs[userID]
	if !ok {
		return 0, Errorf(NotFound, MsgUserNotFound)
	}
	return seq, nil
}

// NotificationSeqs returns the newest notification seq of each existing
// user among ids, for the realtime reconciler.
func (s *Service) NotificationSeqs(ctx context.Context, ids []int64) (map[int64]int64, error) {
	return s.store.NotificationSeqs(ctx, ids)
}

// ReplayNotifications returns up to limit of a user's notifications after
// since, oldest first, for the realtime layer (no caller check).
func (s *Service) ReplayNotifications(ctx context.Context, userID, since int64, limit int) ([]Notification, error) {
	return s.store.NotificationsAfter(ctx, userID, since, limit)
}

// Email is everything an email about a notification says.
type Email struct {
	Kind          NotificationType
	To            string
	ToName        string
	ActorUsername string
	ProjectID     int64
	ProjectName   string
	TaskID        int64
	TaskTitle     string
	TaskStatus    Status
	// CommentID and CommentExcerpt are a mention's comment and the start
	// of its body (see Excerpt).
	CommentID      int64
	CommentExcerpt string
	// DueAt is a reminder's due date.
	DueAt time.Time
	// Token and ExpiresAt are an invitation's (Kind EmailInvitation): the
	// link accepts it until then.
	Token     string
	ExpiresAt time.Time
}

// PrepareEmail decides, when a job runs, whether its email is still due
// and gathers what it says. It is not due when the user turned that kind
// off, when the task has been reassigned since (a quick A → B → C emails
// only C) or deleted, when the user has left the project since, or, for a
// mention, when the comment has been deleted or no longer mentions them;
// an invitation's, when it has been revoked, accepted or has expired.
func (s *Service) PrepareEmail(ctx context.Context, job EmailJob) (Email, bool, error) {
	switch job.Kind {
	case NotifyTaskDueSoon:
		return s.remind(ctx, job)
	case EmailInvitation:
		return s.prepareInvitation(ctx, job)
	}
	u, wants, err := s.recipient(ctx, job.UserID, job.Kind)
	if err != nil || !wants {
		return Email{}, false, err
	}
	p, isMember, err := s.store.ProjectMembership(ctx, job.ProjectID, u.ID)
	if ErrorKind(err) == NotFound {
		return Email{}, false, nil
	}
	if err != nil || !isMember {
		return Email{}, false, err
	}
	actor, err := s.store.UserByID(ctx, job.ActorID)
	if err != nil && ErrorKind(err) != NotFound {
		return Email{}, false, err
	}
	m := Email{Kind: job.Kind, To: u.Email, ToName: u.Username, ActorUsername: actor.Username, ProjectID: p.ID, ProjectName: p.Name}
	switch job.Kind {
	case NotifyTaskAssigned:
	case NotifyMentioned:
		return s.prepareMention(ctx, m, job)
	default:
		return m, true, nil
	}
	t, err := s.store.Task(ctx, job.TaskID)
	if ErrorKind(err) == NotFound {
		return Email{}, false, nil
	}
	if err != nil {
		return Email{}, false, err
	}
	if t.AssigneeID == nil || *t.AssigneeID != u.ID || t.AssignedSeq != job.Seq {
		return Email{}, false, nil // reassigned or unassigned since
	}
	m.TaskID, m.TaskTitle, m.TaskStatus = t.ID, t.Title, t.Status
	return m, true, nil
}

// prepareMention completes the email of a mention: it is due while the
// comment exists and still mentions the user.
func (s *Service) prepareMention(ctx context.Context, m Email, job EmailJob) (Email, bool, error) {
	var c Comment
	var t Task
	err := s.store.View(ctx, func(r Reader) (err error) {
		if c, err = r.Comment(ctx, job.CommentID); err != nil {
			return err
		}
		t, err = r.Task(ctx, c.TaskID)
		return err
	})
	if ErrorKind(err) == NotFound {
		return Email{}, false, nil // deleted since, with its task or alone
	}
	if err != nil {
		return Email{}, false, err
	}
	if !slices.Contains(c.Mentions, job.UserID) {
		return Email{}, false, nil // the mention was edited away
	}
	m.TaskID, m.TaskTitle, m.TaskStatus = t.ID, t.Title, t.Status
	m.CommentID, m.CommentExcerpt = c.ID, Excerpt(c.Body)
	return m, true, nil
}
