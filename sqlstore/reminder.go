package sqlstore

import (
	"context"
	"database/sql"
	"errors"

	"github.com/taskwire/taskwire"
)

// Reminded implements taskwire.Tx.
func (s writes) Reminded(ctx context.Context, taskID int64) (taskwire.Reminder, bool, error) {
	r := taskwire.Reminder{TaskID: taskID}
	err := s.row(ctx, "SELECT user_id, due_at, seq FROM task_reminders WHERE task_id = ?", taskID).
		Scan(&r.UserID, nullTime{&r.DueAt}, &r.Seq)
	if errors.Is(err, sql.ErrNoRows) {
		return taskwire.Reminder{}, false, nil
	}
	if err != nil {
		return taskwire.Reminder{}, false, dbErr(err)
	}
	return r, true, nil
}

// RecordReminder implements taskwire.Tx.
func (s writes) RecordReminder(ctx context.Context, r taskwire.Reminder) error {
	_, err := s.exec(ctx, `INSERT INTO task_reminders (task_id, user_id, due_at, seq) VALUES (?, ?, ?, ?)
		ON CONFLICT (task_id) DO UPDATE SET user_id = excluded.user_id, due_at = excluded.due_at, seq = excluded.seq`,
		r.TaskID, r.UserID, s.d.time(r.DueAt), r.Seq)
	return dbErr(err)
}
