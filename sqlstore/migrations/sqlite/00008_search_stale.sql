-- +goose Up
-- The search index without application functions in triggers. Until now
-- the triggers of 00006 called taskwire_search_text, which only Taskwire
-- registers, so no other program (the sqlite3 shell, the seed service)
-- could write a task or a comment to the file. Now the triggers only note
-- which tasks' documents are stale, in plain SQL any program runs, and
-- Taskwire rewrites those documents (sqlstore/search_index.go): in the
-- transaction of its own writes, just before the commit, and at start-up
-- for what other programs wrote in between.
DROP TRIGGER task_search_comment_delete;
DROP TRIGGER task_search_comment_update;
DROP TRIGGER task_search_comment_insert;
DROP TRIGGER task_search_task_delete;
DROP TRIGGER task_search_task_update;
DROP TRIGGER task_search_task_insert;

CREATE TABLE task_search_stale (task_id INTEGER PRIMARY KEY);

-- +goose StatementBegin
CREATE TRIGGER task_search_task_insert AFTER INSERT ON tasks BEGIN
    INSERT OR IGNORE INTO task_search_stale (task_id) VALUES (new.id);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER task_search_task_update AFTER UPDATE OF title, description ON tasks
WHEN new.title IS NOT old.title OR new.description IS NOT old.description BEGIN
    INSERT OR IGNORE INTO task_search_stale (task_id) VALUES (new.id);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER task_search_task_delete AFTER DELETE ON tasks BEGIN
    INSERT OR IGNORE INTO task_search_stale (task_id) VALUES (old.id);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER task_search_comment_insert AFTER INSERT ON comments BEGIN
    INSERT OR IGNORE INTO task_search_stale (task_id) VALUES (new.task_id);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER task_search_comment_update AFTER UPDATE OF body, task_id ON comments
WHEN new.body IS NOT old.body OR new.task_id IS NOT old.task_id BEGIN
    INSERT OR IGNORE INTO task_search_stale (task_id) VALUES (new.task_id), (old.task_id);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER task_search_comment_delete AFTER DELETE ON comments BEGIN
    INSERT OR IGNORE INTO task_search_stale (task_id) VALUES (old.task_id);
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER task_search_comment_delete;
DROP TRIGGER task_search_comment_update;
DROP TRIGGER task_search_comment_insert;
DROP TRIGGER task_search_task_delete;
DROP TRIGGER task_search_task_update;
DROP TRIGGER task_search_task_insert;
DROP TABLE task_search_stale;
