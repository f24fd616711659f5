package taskwire

import (
	"context"
	"encoding/json"
	"time"
)

// Reminder is the due-date reminder a task has had: to whom, for which due
// date, and by the job of which event (its seq).
type Reminder struct {
	TaskID int64
	UserID int64
	DueAt  time.Time
	Seq    int64
}

// DefaultReminderLead is how long before a task is due its assignee is
// reminded, unless Options.ReminderLead says otherwise.
const DefaultReminderLead = 24 * time.Hour

// scheduleReminder enqueues, in the change's unit of work, the reminder
// the change calls for: one for the assignee of a task that is not done
// and has a due date, when the change gave it that due date, that
// assignee, or took it out of done (a creation counts). The job runs at
// due − ReminderLead, or at once when that has passed. A job made stale by
// a later change sends nothing (see remind), so nothing here cancels.
func (s *Service) scheduleReminder(ctx context.Context, tx Tx, actor User, before, after Task, seq int64) error {
	if after.DueAt == nil || after.AssigneeID == nil || after.Status == StatusDone {
		return nil
	}
	if before.ID != 0 && sameTime(before.DueAt, after.DueAt) && equalPtr(before.AssigneeID, after.AssigneeID) &&
		before.Status != StatusDone {
		return nil
	}
	return tx.EnqueueEmail(ctx, EmailJob{
		Kind: NotifyTaskDueSoon, UserID: *after.AssigneeID, ProjectID: after.ProjectID, TaskID: after.ID,
		Seq: seq, ActorID: actor.ID, DueAt: *after.DueAt, At: after.DueAt.Add(-s.opts.ReminderLead),
	})
}

// remind runs a reminder job: if the task is still due then, still
// assigned to the job's user (a member) and not done, and has not had its
// reminder for this due date and assignee from another job, it records
// the reminder and creates the task_due_soon notification in one unit of
// work, then answers the email to send (if the user wants it). A job run
// again after a crash finds its own record and sends its email without a
// second notification.
func (s *Service) remind(ctx context.Context, job EmailJob) (Email, bool, error) {
	var m Email
	due := false
	err := s.updateTask(ctx, job.TaskID, func(tx Tx) error {
		t, p, isMember, err := tx.LockTask(ctx, job.TaskID, job.UserID)
		if ErrorKind(err) == NotFound {
			return nil
		}
		if err != nil {
			return err
		}
		if !isMember || t.Status == StatusDone || t.AssigneeID == nil || *t.AssigneeID != job.UserID ||
			t.DueAt == nil || !t.DueAt.Equal(job.DueAt) {
			return nil
		}
		r, ok, err := tx.Reminded(ctx, t.ID)
		if err != nil {
			return err
		}
		mine := ok && r.UserID == job.UserID && r.DueAt.Equal(job.DueAt)
		if mine && r.Seq != job.Seq {
			return nil // reminded by another job for the same due date
		}
		if !mine {
			if err := s.recordReminder(ctx, tx, t, p, job); err != nil {
				return err
			}
		}
		due = true
		m = Email{Kind: NotifyTaskDueSoon, ProjectID: p.ID, ProjectName: p.Name, TaskID: t.ID,
			TaskTitle: t.Title, TaskStatus: t.Status, DueAt: *t.DueAt}
		return nil
	})
	if err != nil || !due {
		return Email{}, false, err
	}
	return s.addressEmail(ctx, m, job)
}

// recordReminder stores the task's reminder and its notification.
func (s *Service) recordReminder(ctx context.Context, tx Tx, t Task, p Project, job EmailJob) error {
	if err := tx.RecordReminder(ctx, Reminder{TaskID: t.ID, UserID: job.UserID, DueAt: job.DueAt, Seq: job.Seq}); err != nil {
		return err
	}
	due := *t.DueAt
	raw, err := json.Marshal(NotificationData{ProjectName: p.Name, Title: t.Title, Status: t.Status, DueAt: &due})
	if err != nil {
		return err
	}
	taskID := t.ID
	n, err := tx.CreateNotification(ctx, Notification{
		UserID: job.UserID, Type: NotifyTaskDueSoon, ProjectID: p.ID, TaskID: &taskID, ActorID: job.ActorID,
		CreatedAt: s.now(), Data: raw,
	})
	if err != nil {
		return err
	}
	tx.AfterCommit(func() { s.pub.PublishNotification(*n) })
	return nil
}

// addressEmail fills in the recipient of a reminder, or answers not due
// when the user has gone or turned the kind off.
func (s *Service) addressEmail(ctx context.Context, m Email, job EmailJob) (Email, bool, error) {
	u, wants, err := s.recipient(ctx, job.UserID, m.Kind)
	if err != nil || !wants {
		return Email{}, false, err
	}
	m.To, m.ToName = u.Email, u.Username
	return m, true, nil
}

// recipient returns the user an email of kind would go to, and whether
// they still want it: false when the user is gone or turned kind off.
func (s *Service) recipient(ctx context.Context, userID int64, kind NotificationType) (User, bool, error) {
	u, err := s.store.UserByID(ctx, userID)
	if ErrorKind(err) == NotFound {
		return User{}, false, nil
	}
	if err != nil {
		return User{}, false, err
	}
	set, err := s.store.NotificationSettings(ctx, u.ID)
	if err != nil || !set.Wants(kind) {
		return User{}, false, err
	}
	return u, true, nil
}
