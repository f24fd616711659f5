-- +goose Up
-- Task status is stored as the seed service stored it: SQLAlchemy writes an
-- enum's names (TODO, IN_PROGRESS, DONE), so SQL written against the seed's
-- database keeps working. The API still speaks the lowercase values.
-- SQLite cannot change a CHECK constraint in place: the table is rebuilt,
-- keeping every id and the AUTOINCREMENT counter (ids of deleted tasks are
-- never given out again).
CREATE TABLE tasks_new (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    title        TEXT NOT NULL,
    description  TEXT,
    status       VARCHAR(11) NOT NULL DEFAULT 'TODO' CHECK (status IN ('TODO', 'IN_PROGRESS', 'DONE')),
    project_id   INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    assignee_id  INTEGER REFERENCES users (id) ON DELETE SET NULL,
    version      INTEGER NOT NULL DEFAULT 1,
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL,
    assigned_seq INTEGER NOT NULL DEFAULT 0
);
INSERT INTO tasks_new (id, title, description, status, project_id, assignee_id, version, created_at, updated_at, assigned_seq)
    SELECT id, title, description, upper(status), project_id, assignee_id, version, created_at, updated_at, assigned_seq FROM tasks;
INSERT INTO sqlite_sequence (name, seq) SELECT 'tasks_new', seq FROM sqlite_sequence WHERE name = 'tasks'
    AND NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'tasks_new');
UPDATE sqlite_sequence SET seq = max(seq, (SELECT seq FROM sqlite_sequence WHERE name = 'tasks'))
    WHERE name = 'tasks_new' AND EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'tasks');
DROP TABLE tasks;
ALTER TABLE tasks_new RENAME TO tasks;
CREATE INDEX ix_tasks_project_id ON tasks (project_id, id);
CREATE INDEX ix_tasks_assignee_id ON tasks (assignee_id);

-- +goose Down
CREATE TABLE tasks_old (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    title        TEXT NOT NULL,
    description  TEXT,
    status       TEXT NOT NULL DEFAULT 'todo' CHECK (status IN ('todo', 'in_progress', 'done')),
    project_id   INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    assignee_id  INTEGER REFERENCES users (id) ON DELETE SET NULL,
    version      INTEGER NOT NULL DEFAULT 1,
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL,
    assigned_seq INTEGER NOT NULL DEFAULT 0
);
INSERT INTO tasks_old (id, title, description, status, project_id, assignee_id, version, created_at, updated_at, assigned_seq)
    SELECT id, title, description, lower(status), project_id, assignee_id, version, created_at, updated_at, assigned_seq FROM tasks;
INSERT INTO sqlite_sequence (name, seq) SELECT 'tasks_old', seq FROM sqlite_sequence WHERE name = 'tasks'
    AND NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'tasks_old');
UPDATE sqlite_sequence SET seq = max(seq, (SELECT seq FROM sqlite_sequence WHERE name = 'tasks'))
    WHERE name = 'tasks_old' AND EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'tasks');
DROP TABLE tasks;
ALTER TABLE tasks_old RENAME TO tasks;
CREATE INDEX ix_tasks_project_id ON tasks (project_id, id);
CREATE INDEX ix_tasks_assignee_id ON tasks (assignee_id);
