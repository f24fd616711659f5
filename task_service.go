package taskwire

import (
	"context"
	"slices"
	"strings"
)

// Tasks lists a project's tasks by id, with the seq of the project's
// newest event as of the same read: the list reflects exactly the events
// up to it. Returns NotFound; Forbidden; Invalid for a query without words.
func (s *Service) Tasks(ctx context.Context, actor User, projectID int64, filter TaskFilter, page Page) ([]Task, int64, error) {
	var ts []Task
	var seq int64
	if filter.Query != "" {
		if _, err := ParseSearchQuery(filter.Query); err != nil {
			return nil, 0, err
		}
	}
	if filter.Overdue != nil && filter.Now.IsZero() {
		filter.Now = s.now()
	}
	// A label no task can carry (one PostgreSQL could not even compare,
	// such as one with NUL) matches nothing.
	none := false
	keys := make([]string, len(filter.Labels)) // the caller's slice stays as it was
	for i, l := range filter.Labels {
		keys[i] = LabelKey(strings.TrimSpace(l))
		none = none || !storable(l)
	}
	filter.Labels = keys
	err := s.viewProject(ctx, actor, projectID, func(r Reader, p Project) (err error) {
		seq = p.LastSeq
		if none {
			ts = []Task{}
			return nil
		}
		ts, err = r.Tasks(ctx, projectID, filter, page)
		return err
	})
	return ts, seq, err
}

// Task returns one task, with the seq of its project's newest event as of
// the same read. Returns NotFound "Task not found"; Forbidden.
func (s *Service) Task(ctx context.Context, actor User, id int64) (Task, int64, error) {
	var t Task
	var seq int64
	err := s.store.View(ctx, func(r Reader) (err error) {
		if t, err = r.Task(ctx, id); err != nil {
			return err
		}
		p, err := member(ctx, r, t.ProjectID, actor.ID)
		seq = p.LastSeq
		return err
	})
	if err != nil {
		return Task{}, 0, err
	}
	return t, seq, nil
}

// CreateTask adds a task to a project and emits task_created. Returns
// NotFound; Forbidden; Invalid (including an assignee who is not a member).
func (s *Service) CreateTask(ctx context.Context, actor User, projectID int64, in NewTask, idem IdempotencyKey) (Task, error) {
	if in.Status == "" {
		in.Status = StatusTodo
	}
	if err := validateTitle(in.Title); err != nil {
		return Task{}, err
	}
	if err := validateDescription(in.Description); err != nil {
		return Task{}, err
	}
	if err := validateStatus(in.Status); err != nil {
		return Task{}, err
	}
	labels, err := NormalizeLabels(in.Labels)
	if err != nil {
		return Task{}, err
	}
	var t Task
	err = s.updateProject(ctx, projectID, func(tx Tx) (err error) {
		now := s.now()
		var p Project
		check := func() (err error) {
			if p, err = member(ctx, tx, projectID, actor.ID); err != nil {
				return err
			}
			return checkAssignee(ctx, tx, projectID, in.AssigneeID)
		}
		t, err = idempotent(ctx, tx, idem, now, check, func() (Task, error) {
			t, err := tx.CreateTask(ctx, Task{
				Title: in.Title, Description: in.Description, Status: in.Status,
				ProjectID: projectID, AssigneeID: in.AssigneeID, Version: 1,
				CreatedAt: now, UpdatedAt: now, DueAt: normalDue(in.DueAt), Labels: labels,
			})
			if err != nil {
				return Task{}, err
			}
			e, err := s.emit(ctx, tx, projectID, actor.ID, EventTaskCreated, t)
			if err != nil {
				return Task{}, err
			}
			if t.AssigneeID != nil {
				// Remember which event assigned it, for the email job.
				t.AssignedSeq = e.Seq
				if err := tx.UpdateTask(ctx, t); err != nil {
					return Task{}, err
				}
			}
			if err := s.scheduleReminder(ctx, tx, actor, Task{}, t, e.Seq); err != nil {
				return Task{}, err
			}
			return t, s.notifyTask(ctx, tx, actor, p, Task{}, t, e)
		})
		return err
	})
	if err == nil {
		s.rememberTask(t)
	}
	return t, err
}

// UpdateTask applies the fields set in patch and emits task_updated. An
// update that changes nothing keeps the version and emits nothing.
// Returns NotFound; Forbidden; Invalid; PreconditionFailed.
func (s *Service) UpdateTask(ctx context.Context, actor User, id int64, patch TaskPatch) (Task, error) {
	return s.changeTask(ctx, actor, id, patch, EventTaskUpdated)
}

// SetTaskStatus changes a task's status and emits status_changed.
// Returns NotFound; Forbidden; Invalid; PreconditionFailed.
func (s *Service) SetTaskStatus(ctx context.Context, actor User, id int64, status Status, ifMatch *int64) (Task, error) {
	return s.changeTask(ctx, actor, id, TaskPatch{Status: &status, IfMatch: ifMatch}, EventStatusChanged)
}

func (s *Service) changeTask(ctx context.Context, actor User, id int64, patch TaskPatch, typ EventType) (Task, error) {
	if err := patch.validate(); err != nil {
		return Task{}, err
	}
	var t Task
	err := s.updateTask(ctx, id, func(tx Tx) error {
		cur, p, ok, err := tx.LockTask(ctx, id, actor.ID)
		if err != nil {
			return err
		}
		if !ok {
			return Errorf(Forbidden, MsgNotMember)
		}
		t = cur
		if patch.IfMatch != nil && *patch.IfMatch != t.Version {
			return Errorf(PreconditionFailed, "Task was modified since the given ETag (If-Match); fetch it again")
		}
		next, changed := patch.apply(t)
		if !changed {
			return nil
		}
		reassigned := !equalPtr(t.AssigneeID, next.AssigneeID)
		if reassigned {
			if err := checkAssignee(ctx, tx, t.ProjectID, next.AssigneeID); err != nil {
				return err
			}
		}
		next.Version++
		next.UpdatedAt = s.now()
		// The project's seq is taken as late as possible: from then on its
		// row stays locked until the commit. An assignment records its seq
		// on the task, so it writes the task after the event.
		if !reassigned {
			if err := tx.UpdateTask(ctx, next); err != nil {
				return err
			}
		}
		if !slices.Equal(t.Labels, next.Labels) {
			if err := tx.SetTaskLabels(ctx, next); err != nil {
				return err
			}
		}
		e, err := s.emit(ctx, tx, t.ProjectID, actor.ID, typ, next)
		if err != nil {
			return err
		}
		if reassigned {
			next.AssignedSeq = e.Seq
			if err := tx.UpdateTask(ctx, next); err != nil {
				return err
			}
		}
		before := t
		t = next
		if err := s.scheduleReminder(ctx, tx, actor, before, next, e.Seq); err != nil {
			return err
		}
		return s.notifyTask(ctx, tx, actor, p, before, next, e)
	})
	return t, err
}

// Labels lists the labels on a project's tasks with how many tasks carry
// each, most used first. Returns NotFound; Forbidden.
func (s *Service) Labels(ctx context.Context, actor User, projectID int64) ([]LabelCount, error) {
	var ls []LabelCount
	err := s.viewProject(ctx, actor, projectID, func(r Reader, _ Project) (err error) {
		ls, err = r.Labels(ctx, projectID)
		return err
	})
	return ls, err
}

// DeleteTask deletes a task and emits task_deleted. Returns NotFound; Forbidden.
func (s *Service) DeleteTask(ctx context.Context, actor User, id int64) error {
	return s.updateTask(ctx, id, func(tx Tx) error {
		t, p, ok, err := tx.LockTask(ctx, id, actor.ID)
		if err != nil {
			return err
		}
		if !ok {
			return Errorf(Forbidden, MsgNotMember)
		}
		if err := tx.DeleteTask(ctx, id); err != nil {
			return err
		}
		if _, err := s.emit(ctx, tx, t.ProjectID, actor.ID, EventTaskDeleted, taskDeletedData{ID: t.ID, ProjectID: t.ProjectID}); err != nil {
			return err
		}
		if t.AssigneeID == nil {
			return nil
		}
		taskID := t.ID
		return s.notify(ctx, tx, actor, p, &taskID, *t.AssigneeID, NotifyTaskDeleted, NotificationData{Title: t.Title, Status: t.Status})
	})
}

// checkAssignee requires a non-nil assignee to be a member of the project,
// and keeps them one until the unit of work ends.
func checkAssignee(ctx context.Context, tx Tx, projectID int64, assignee *int64) error {
	if assignee == nil {
		return nil
	}
	ok, err := tx.LockMember(ctx, projectID, *assignee)
	if err != nil {
		return err
	}
	if !ok {
		return InvalidField("assignee_id", "Assignee must be a member of the project")
	}
	return nil
}
