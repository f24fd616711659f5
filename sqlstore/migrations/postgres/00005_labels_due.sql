-- +goose Up
-- Tasks gain a due date and labels. The task row keeps its labels as a JSON
-- array in the order written, so every read of a task is one row; the
-- labels table holds one row per label and task, keyed case-insensitively,
-- for the ?label= filter and the project's label counts, and is written only
-- when a task's labels change.
ALTER TABLE tasks ADD COLUMN due_at TIMESTAMPTZ;
ALTER TABLE tasks ADD COLUMN labels TEXT NOT NULL DEFAULT '[]';
CREATE TABLE task_labels (
    task_id    BIGINT NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    project_id BIGINT NOT NULL,
    position   INTEGER NOT NULL,
    name       TEXT NOT NULL,
    key        TEXT NOT NULL,
    PRIMARY KEY (task_id, key)
);
CREATE INDEX ix_task_labels_project_key ON task_labels (project_id, key);
CREATE INDEX ix_tasks_project_due ON tasks (project_id, due_at);

-- +goose Down
DROP INDEX ix_tasks_project_due;
DROP TABLE task_labels;
ALTER TABLE tasks DROP COLUMN labels;
ALTER TABLE tasks DROP COLUMN due_at;
