-- +goose Up
-- Invitations to a project by email address. Only the SHA-256 of each
-- token is kept (token_hash, hex); the token itself is in the email.
CREATE TABLE invitations (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id  INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    email       TEXT NOT NULL,
    invited_by  INTEGER REFERENCES users (id) ON DELETE SET NULL,
    token_hash  TEXT NOT NULL UNIQUE,
    created_at  TIMESTAMP NOT NULL,
    expires_at  TIMESTAMP NOT NULL,
    accepted_at TIMESTAMP,
    accepted_by INTEGER REFERENCES users (id) ON DELETE SET NULL
);
CREATE INDEX ix_invitations_project_id ON invitations (project_id, id);

-- +goose Down
DROP TABLE invitations;
