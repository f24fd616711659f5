-- +goose Up
-- Webhooks: endpoints a project's events are posted to, and the log of
-- their delivery attempts. Both go with their project (ON DELETE CASCADE).
-- events is the JSON array of the event types delivered. secret signs
-- deliveries; previous_secret also signs until previous_secret_expires_at
-- (a rotation). failing_since is the first failure since the last success.
CREATE TABLE webhooks (
    id                         INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id                 INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    url                        TEXT NOT NULL,
    events                     TEXT NOT NULL,
    description                TEXT NOT NULL DEFAULT '',
    active                     INTEGER NOT NULL DEFAULT 1,
    secret                     TEXT NOT NULL,
    previous_secret            TEXT NOT NULL DEFAULT '',
    previous_secret_expires_at TIMESTAMP,
    failing_since              TIMESTAMP,
    created_at                 TIMESTAMP NOT NULL
);
-- Every event reads its project's active webhooks.
CREATE INDEX ix_webhooks_project_id ON webhooks (project_id, active);

CREATE TABLE webhook_deliveries (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    webhook_id      INTEGER NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_seq       INTEGER NOT NULL,
    event_type      TEXT NOT NULL,
    attempt         INTEGER NOT NULL,
    status_code     INTEGER,
    error           TEXT,
    duration_ms     INTEGER NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    next_attempt_at TIMESTAMP
);
CREATE INDEX ix_webhook_deliveries_webhook_id ON webhook_deliveries (webhook_id, id);

-- +goose Down
DROP TABLE webhook_deliveries;
DROP TABLE webhooks;
