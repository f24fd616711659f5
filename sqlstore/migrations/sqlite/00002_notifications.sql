-- +goose Up
-- Per-user notification sequence, like projects.last_seq for events.
ALTER TABLE users ADD COLUMN notification_seq INTEGER NOT NULL DEFAULT 0;
-- The seq of the event that last changed the task's assignee: an email job
-- for an older assignment finds it moved on and sends nothing.
ALTER TABLE tasks ADD COLUMN assigned_seq INTEGER NOT NULL DEFAULT 0;

CREATE TABLE notifications (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    seq        INTEGER NOT NULL,
    type       TEXT NOT NULL,
    project_id INTEGER NOT NULL,
    task_id    INTEGER,
    actor_id   INTEGER NOT NULL,
    read       INTEGER NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    data       TEXT NOT NULL,
    UNIQUE (user_id, seq)
);
CREATE INDEX ix_notifications_user_id ON notifications (user_id, id);
CREATE INDEX ix_notifications_unread ON notifications (user_id, read, id);

CREATE TABLE notification_settings (
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind    TEXT NOT NULL,
    email   INTEGER NOT NULL,
    PRIMARY KEY (user_id, kind)
) WITHOUT ROWID;

-- +goose Down
DROP TABLE notification_settings;
DROP TABLE notifications;
ALTER TABLE tasks DROP COLUMN assigned_seq;
ALTER TABLE users DROP COLUMN notification_seq;
