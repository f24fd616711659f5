package taskwire

import (
	"context"
	"slices"
)

// Messages of the comment use-cases; they are part of the API contract.
const (
	MsgNotCommentAuthor  = "Only the author can edit this comment"
	MsgNotCommentDeleter = "Not authorized to delete this comment"
)

// Comments lists a task's comments, oldest first, with the seq of the
// project's newest event as of the same read. Returns NotFound "Task not
// found"; Forbidden.
func (s *Service) Comments(ctx context.Context, actor User, taskID int64, page Page) ([]Comment, int64, error) {
	var cs []Comment
	var seq int64
	err := s.store.View(ctx, func(r Reader) error {
		t, err := r.Task(ctx, taskID)
		if err != nil {
			return err
		}
		p, err := member(ctx, r, t.ProjectID, actor.ID)
		if err != nil {
			return err
		}
		seq = p.LastSeq
		cs, err = r.Comments(ctx, taskID, page)
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	return cs, seq, nil
}

// CreateComment adds a comment to a task and emits comment_added. Members
// it mentions (see Mentions) are notified and emailed; the task's assignee,
// unless mentioned, is notified. Returns NotFound "Task not found";
// Forbidden; Invalid.
func (s *Service) CreateComment(ctx context.Context, actor User, taskID int64, body string, idem IdempotencyKey) (Comment, error) {
	if err := validateCommentBody(body); err != nil {
		return Comment{}, err
	}
	var c Comment
	err := s.updateTask(ctx, taskID, func(tx Tx) (err error) {
		now := s.now()
		var t Task
		var p Project
		check := func() error {
			var ok bool
			if t, p, ok, err = tx.LockTask(ctx, taskID, actor.ID); err != nil {
				return err
			}
			if !ok {
				return Errorf(Forbidden, MsgNotMember)
			}
			return nil
		}
		c, err = idempotent(ctx, tx, idem, now, check, func() (Comment, error) {
			mentions, err := s.mentions(ctx, tx, p.ID, body)
			if err != nil {
				return Comment{}, err
			}
			c, err := tx.CreateComment(ctx, Comment{
				TaskID: t.ID, ProjectID: p.ID, AuthorID: actor.ID, Body: body, Mentions: mentions,
				CreatedAt: now, UpdatedAt: now,
			})
			if err != nil {
				return Comment{}, err
			}
			e, err := s.emit(ctx, tx, p.ID, actor.ID, EventCommentAdded, c)
			if err != nil {
				return Comment{}, err
			}
			if err := s.notifyMentions(ctx, tx, actor, p, t, c, nil, e); err != nil {
				return Comment{}, err
			}
			if t.AssigneeID == nil || slices.Contains(c.Mentions, *t.AssigneeID) {
				return c, nil
			}
			return c, s.notify(ctx, tx, actor, p, &t.ID, *t.AssigneeID, NotifyTaskCommented, commentData(t, c))
		})
		return err
	})
	return c, err
}

// UpdateComment replaces a comment's body and emits comment_updated; only
// its author may. Members the new body mentions and the old one did not are
// notified and emailed. A body that changes nothing emits nothing.
// Returns NotFound "Comment not found"; Forbidden; Invalid.
func (s *Service) UpdateComment(ctx context.Context, actor User, id int64, body string) (Comment, error) {
	if err := validateCommentBody(body); err != nil {
		return Comment{}, err
	}
	var c Comment
	err := s.updateComment(ctx, id, func(tx Tx) error {
		cur, p, ok, err := tx.LockComment(ctx, id, actor.ID)
		if err != nil {
			return err
		}
		if !ok {
			return Errorf(Forbidden, MsgNotMember)
		}
		if cur.AuthorID != actor.ID {
			return Errorf(Forbidden, MsgNotCommentAuthor)
		}
		c = cur
		if body == cur.Body {
			return nil
		}
		next := cur
		next.Body, next.UpdatedAt = body, s.now()
		if next.Mentions, err = s.mentions(ctx, tx, p.ID, body); err != nil {
			return err
		}
		if err := tx.UpdateComment(ctx, next); err != nil {
			return err
		}
		e, err := s.emit(ctx, tx, p.ID, actor.ID, EventCommentUpdated, next)
		if err != nil {
			return err
		}
		c = next
		newcomer := func(m int64) bool { return m != actor.ID && !slices.Contains(cur.Mentions, m) }
		if !slices.ContainsFunc(next.Mentions, newcomer) {
			return nil // nobody to notify: the task need not be read
		}
		t, err := tx.Task(ctx, next.TaskID)
		if err != nil {
			return err
		}
		return s.notifyMentions(ctx, tx, actor, p, t, next, cur.Mentions, e)
	})
	return c, err
}

// DeleteComment deletes a comment and emits comment_deleted; its author
// or the project's owner may. Returns NotFound "Comment not found";
// Forbidden.
func (s *Service) DeleteComment(ctx context.Context, actor User, id int64) error {
	return s.updateComment(ctx, id, func(tx Tx) error {
		c, p, ok, err := tx.LockComment(ctx, id, actor.ID)
		if err != nil {
			return err
		}
		if !ok {
			return Errorf(Forbidden, MsgNotMember)
		}
		if c.AuthorID != actor.ID && p.OwnerID != actor.ID {
			return Errorf(Forbidden, MsgNotCommentDeleter)
		}
		if err := tx.DeleteComment(ctx, id); err != nil {
			return err
		}
		_, err = s.emit(ctx, tx, p.ID, actor.ID, EventCommentDeleted, commentDeletedData{ID: c.ID, TaskID: c.TaskID, ProjectID: c.ProjectID})
		return err
	})
}

// mentions returns the members of the project that body mentions, each
// held against removal until the unit of work ends (see LockMember), so a
// member removed meanwhile is neither listed nor notified.
func (s *Service) mentions(ctx context.Context, tx Tx, projectID int64, body string) ([]int64, error) {
	members, err := tx.Members(ctx, projectID)
	if err != nil {
		return nil, err
	}
	refs := make([]UserRef, len(members))
	for i, m := range members {
		refs[i] = UserRef{ID: m.UserID, Username: m.User.Username}
	}
	out := []int64{}
	for _, id := range Mentions(body, refs) {
		ok, err := tx.LockMember(ctx, projectID, id)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, id)
		}
	}
	return out, nil
}

// notifyMentions notifies, and emails, each member c mentions who is
// neither the actor nor among notified (those an earlier version of the
// comment mentioned). e is the event of the change.
func (s *Service) notifyMentions(ctx context.Context, tx Tx, actor User, p Project, t Task, c Comment, notified []int64, e Event) error {
	for _, id := range c.Mentions {
		if id == actor.ID || slices.Contains(notified, id) {
			continue
		}
		if err := s.notify(ctx, tx, actor, p, &t.ID, id, NotifyMentioned, commentData(t, c)); err != nil {
			return err
		}
		job := EmailJob{Kind: NotifyMentioned, UserID: id, ProjectID: p.ID, TaskID: t.ID, Seq: e.Seq, ActorID: actor.ID, CommentID: c.ID}
		if err := s.email(ctx, tx, job); err != nil {
			return err
		}
	}
	return nil
}

// commentData is the data of a notification about comment c on task t.
func commentData(t Task, c Comment) NotificationData {
	return NotificationData{Title: t.Title, CommentID: c.ID, TaskID: t.ID, ProjectID: c.ProjectID}
}

// updateComment runs fn as a unit of work keyed by the comment's project
// (see WithWriteKey); 0 when the comment is unknown (the unit reports it).
func (s *Service) updateComment(ctx context.Context, id int64, fn func(tx Tx) error) error {
	var projectID int64
	if c, err := s.store.Comment(ctx, id); err == nil {
		projectID = c.ProjectID
	}
	return s.updateProject(ctx, projectID, fn)
}
