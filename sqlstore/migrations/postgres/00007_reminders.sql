-- +goose Up
-- The due-date reminder each task has had: for which assignee and due date,
-- and which job (by the seq of the event that scheduled it) sent it. A task
-- is reminded once per due date and assignee; a job run again after a crash
-- finds its own row and sends its email without a second notification.
CREATE TABLE task_reminders (
    task_id BIGINT PRIMARY KEY REFERENCES tasks (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL,
    due_at  TIMESTAMPTZ NOT NULL,
    seq     BIGINT NOT NULL
);

-- +goose Down
DROP TABLE task_reminders;
