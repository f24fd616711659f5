-- +goose Up
-- Comments on tasks. A task's comments go with it (ON DELETE CASCADE; every
-- connection turns foreign_keys on), and so with its project. project_id
-- repeats the task's, which never changes. mentions is the JSON array of the
-- mentioned members' ids, sorted.
-- A later migration that rebuilds tasks (create a copy, DROP TABLE tasks,
-- rename) would delete every comment: with foreign keys on, SQLite's DROP
-- TABLE deletes the rows first, cascades included. Rebuild comments along
-- with it, or add columns with ALTER TABLE instead.
CREATE TABLE comments (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id    INTEGER NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    project_id INTEGER NOT NULL,
    author_id  INTEGER NOT NULL REFERENCES users (id),
    body       TEXT NOT NULL,
    mentions   TEXT NOT NULL DEFAULT '[]',
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX ix_comments_task_id ON comments (task_id, id);

-- +goose Down
DROP TABLE comments;
