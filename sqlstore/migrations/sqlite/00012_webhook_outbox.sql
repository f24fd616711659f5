-- +goose Up
-- The events that a project's webhooks are to receive, written in the
-- transaction of the event and turned into delivery jobs after the commit
-- (Service.DispatchWebhooks), many events to one job insert. The event
-- itself is in events; a row here goes with its project.
CREATE TABLE webhook_outbox (
    id         INTEGER PRIMARY KEY, -- the order notes are taken in
    project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    seq        INTEGER NOT NULL,
    UNIQUE (project_id, seq)
);

-- +goose Down
DROP TABLE webhook_outbox;
