-- +goose Up
-- The seed's tables and core columns, plus Taskwire's own.
CREATE TABLE users (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    email           TEXT NOT NULL,
    username        TEXT NOT NULL,
    hashed_password TEXT NOT NULL,
    created_at      TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX ix_users_email ON users (email);
CREATE UNIQUE INDEX ix_users_username ON users (username);

CREATE TABLE projects (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT NOT NULL,
    description TEXT,
    owner_id    INTEGER NOT NULL REFERENCES users (id),
    last_seq    INTEGER NOT NULL DEFAULT 0,
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL
);
CREATE INDEX ix_projects_owner_id ON projects (owner_id);

CREATE TABLE project_members (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (project_id, user_id)
);
CREATE INDEX ix_project_members_user_id ON project_members (user_id);

CREATE TABLE tasks (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    title       TEXT NOT NULL,
    description TEXT,
    status      TEXT NOT NULL DEFAULT 'todo' CHECK (status IN ('todo', 'in_progress', 'done')),
    project_id  INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    assignee_id INTEGER REFERENCES users (id) ON DELETE SET NULL,
    version     INTEGER NOT NULL DEFAULT 1,
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL
);
CREATE INDEX ix_tasks_project_id ON tasks (project_id, id);
CREATE INDEX ix_tasks_assignee_id ON tasks (assignee_id);

-- The durable event log. It has no foreign key to projects: a deleted
-- project's last event (project_deleted) must stay readable until pruned.
CREATE TABLE events (
    project_id INTEGER NOT NULL,
    seq        INTEGER NOT NULL,
    type       TEXT NOT NULL,
    actor_id   INTEGER NOT NULL,
    ts         TIMESTAMP NOT NULL,
    data       TEXT NOT NULL,
    PRIMARY KEY (project_id, seq)
) WITHOUT ROWID;

CREATE TABLE idempotency_keys (
    user_id      INTEGER NOT NULL,
    scope        TEXT NOT NULL,
    key          TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    body         TEXT NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, scope, key)
) WITHOUT ROWID;
CREATE INDEX ix_idempotency_keys_created_at ON idempotency_keys (created_at);

-- +goose Down
DROP TABLE idempotency_keys;
DROP TABLE events;
DROP TABLE tasks;
DROP TABLE project_members;
DROP TABLE projects;
DROP TABLE users;
