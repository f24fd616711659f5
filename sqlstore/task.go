package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/taskwire/taskwire"
)

const taskColumns = "id, title, description, status, project_id, assignee_id, version, created_at, updated_at, assigned_seq"

// taskColumnsT are taskColumns qualified by the alias t, for joins.
const taskColumnsT = "t.id, t.title, t.description, t.status, t.project_id, t.assignee_id, t.version, t.created_at, t.updated_at, t.assigned_seq"

// scanTask scans taskColumns followed by the columns of more.
func scanTask(r interface{ Scan(...any) error }, more ...any) (taskwire.Task, error) {
	var t taskwire.Task
	var desc sql.NullString
	var assignee sql.NullInt64
	err := r.Scan(append([]any{&t.ID, &t.Title, &desc, statusCol{&t.Status}, &t.ProjectID, &assignee, &t.Version,
		nullTime{&t.CreatedAt}, nullTime{&t.UpdatedAt}, &t.AssignedSeq}, more...)...)
	t.Description, t.AssigneeID = strPtr(desc), int64Ptr(assignee)
	return t, err
}

// storedStatus is a status as the database stores it: by the name of the
// seed's enum member (TODO, IN_PROGRESS, DONE), which is what SQLAlchemy
// wrote, so SQL written against the seed's database keeps working.
func storedStatus(s taskwire.Status) string {
	switch s {
	case taskwire.StatusTodo:
		return "TODO"
	case taskwire.StatusInProgress:
		return "IN_PROGRESS"
	case taskwire.StatusDone:
		return "DONE"
	}
	return string(s) // refused by the column's CHECK
}

// statusCol scans a stored status into the API's value.
type statusCol struct{ s *taskwire.Status }

func (c statusCol) Scan(v any) error {
	var raw string
	switch v := v.(type) {
	case string:
		raw = v
	case []byte:
		raw = string(v)
	default:
		return fmt.Errorf("sqlstore: cannot scan %T into a task status", v)
	}
	switch raw {
	case "TODO":
		*c.s = taskwire.StatusTodo
	case "IN_PROGRESS":
		*c.s = taskwire.StatusInProgress
	case "DONE":
		*c.s = taskwire.StatusDone
	default:
		return fmt.Errorf("sqlstore: unknown task status %q", raw)
	}
	return nil
}

// Task implements taskwire.Reader.
func (s reads) Task(ctx context.Context, id int64) (taskwire.Task, error) {
	t, err := scanTask(s.row(ctx, "SELECT "+taskColumns+" FROM tasks WHERE id = ?", id))
	return t, notFound(err, taskwire.MsgTaskNotFound)
}

// Tasks implements taskwire.Reader.
func (s reads) Tasks(ctx context.Context, projectID int64, f taskwire.TaskFilter, page taskwire.Page) ([]taskwire.Task, error) {
	var q strings.Builder
	q.WriteString("SELECT " + taskColumns + " FROM tasks WHERE project_id = ? AND id > ?")
	args := []any{projectID, page.After}
	if f.Status != nil {
		q.WriteString(" AND status = ?")
		args = append(args, storedStatus(*f.Status))
	}
	if f.AssigneeID != nil {
		q.WriteString(" AND assignee_id = ?")
		args = append(args, *f.AssigneeID)
	}
	q.WriteString(" ORDER BY id" + limit(page.Limit))
	rows, err := s.query(ctx, q.String(), args...)
	return list(rows, err, func(r *sql.Rows) (taskwire.Task, error) { return scanTask(r) })
}

// CreateTask implements taskwire.Tx.
func (s writes) CreateTask(ctx context.Context, t taskwire.Task) (taskwire.Task, error) {
	err := s.row(ctx, `INSERT INTO tasks (title, description, status, project_id, assignee_id, version, created_at, updated_at, assigned_seq)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		t.Title, t.Description, storedStatus(t.Status), t.ProjectID, t.AssigneeID, t.Version,
		s.d.time(t.CreatedAt), s.d.time(t.UpdatedAt), t.AssignedSeq).Scan(&t.ID)
	return t, dbErr(err)
}

// UpdateTask implements taskwire.Tx. On PostgreSQL the write is held back
// to be sent with the unit's next statement — usually its event, which
// then carries it (see unit) — so a failure may be reported by that
// statement instead.
func (s writes) UpdateTask(ctx context.Context, t taskwire.Task) error {
	const q = `UPDATE tasks SET title = ?, description = ?, status = ?, assignee_id = ?,
		version = ?, updated_at = ?, assigned_seq = ? WHERE id = ?`
	args := []any{t.Title, t.Description, storedStatus(t.Status), t.AssigneeID, t.Version, s.d.time(t.UpdatedAt), t.AssignedSeq, t.ID}
	if s.unit != nil && s.d.remote {
		return s.unit.hold(q, args)
	}
	_, err := s.exec(ctx, q, args...)
	return dbErr(err)
}

// DeleteTask implements taskwire.Tx.
func (s writes) DeleteTask(ctx context.Context, id int64) error {
	_, err := s.exec(ctx, "DELETE FROM tasks WHERE id = ?", id)
	return dbErr(err)
}

// UnassignTasks implements taskwire.Tx.
func (s writes) UnassignTasks(ctx context.Context, projectID, userID int64, now time.Time) ([]taskwire.Task, error) {
	rows, err := s.query(ctx, `UPDATE tasks SET assignee_id = NULL, version = version + 1, updated_at = ?
		WHERE project_id = ? AND assignee_id = ? RETURNING `+taskColumns,
		s.d.time(now), projectID, userID)
	return list(rows, err, func(r *sql.Rows) (taskwire.Task, error) { return scanTask(r) })
}
