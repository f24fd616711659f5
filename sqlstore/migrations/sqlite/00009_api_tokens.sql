-- +goose Up
-- API tokens: long-lived credentials for scripts and integrations. Only the
-- hex SHA-256 of a token is kept. Revoking a token deletes its row; deleting
-- a user deletes their tokens.
CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    hash         TEXT NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    expires_at   TIMESTAMP,
    last_used_at TIMESTAMP
);
CREATE UNIQUE INDEX ix_api_tokens_hash ON api_tokens (hash);
CREATE INDEX ix_api_tokens_user ON api_tokens (user_id, id);

-- +goose Down
DROP TABLE api_tokens;
