-- +goose Up
-- Task status is stored as the seed service stored it: SQLAlchemy writes an
-- enum's names (TODO, IN_PROGRESS, DONE), so SQL written against the seed's
-- database keeps working. The API still speaks the lowercase values.
ALTER TABLE tasks DROP CONSTRAINT tasks_status_check;
UPDATE tasks SET status = upper(status);
ALTER TABLE tasks ALTER COLUMN status SET DEFAULT 'TODO';
ALTER TABLE tasks ADD CONSTRAINT tasks_status_check CHECK (status IN ('TODO', 'IN_PROGRESS', 'DONE'));

-- +goose Down
ALTER TABLE tasks DROP CONSTRAINT tasks_status_check;
UPDATE tasks SET status = lower(status);
ALTER TABLE tasks ALTER COLUMN status SET DEFAULT 'todo';
ALTER TABLE tasks ADD CONSTRAINT tasks_status_check CHECK (status IN ('todo', 'in_progress', 'done'));
