-- +goose Up
-- Full-text search: one FTS5 document per task (rowid = the task's id) of
-- its title, its description and its comments' bodies, kept by the triggers
-- below in the transaction of every write, and filled here from the rows
-- there are (an upgraded database; an adopted seed database is filled by
-- the triggers as its rows are copied in).
--
-- Text goes in through taskwire_search_text, a function the application
-- registers on every connection (sqlstore/search_text.go): it folds case,
-- accents and compatibility forms and spaces out the characters of scripts
-- written without spaces (Chinese, Japanese, Korean), which the tokenizer
-- then takes one at a time. A program without the function (the sqlite3
-- shell) can read the database, not write a task or a comment.
--
-- The table is contentless (content=''): the text lives in tasks and
-- comments only. contentless_delete lets a document be replaced or deleted
-- by rowid; the comments column is rebuilt whole when one comment changes.
-- The triggers keep to SQL that SQLite 3.40 parses (no ORDER BY inside
-- group_concat, which came in 3.44): an older sqlite3 shell that cannot
-- parse a trigger refuses to read the whole database.
CREATE VIRTUAL TABLE task_search USING fts5(
    title, description, comments,
    content = '', contentless_delete = 1,
    tokenize = "unicode61 remove_diacritics 0 categories 'L* N* Co M*'"
);

INSERT INTO task_search (rowid, title, description, comments)
SELECT t.id, taskwire_search_text(t.title), taskwire_search_text(coalesce(t.description, '')),
       taskwire_search_text(coalesce((SELECT group_concat(c.body, char(10)) FROM comments c WHERE c.task_id = t.id), ''))
FROM tasks t;

-- +goose StatementBegin
CREATE TRIGGER task_search_task_insert AFTER INSERT ON tasks BEGIN
    INSERT INTO task_search (rowid, title, description, comments)
    VALUES (new.id, taskwire_search_text(new.title), taskwire_search_text(coalesce(new.description, '')), '');
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER task_search_task_update AFTER UPDATE OF title, description ON tasks
WHEN new.title IS NOT old.title OR new.description IS NOT old.description BEGIN
    INSERT OR REPLACE INTO task_search (rowid, title, description, comments)
    SELECT new.id, taskwire_search_text(new.title), taskwire_search_text(coalesce(new.description, '')),
           taskwire_search_text(coalesce((SELECT group_concat(c.body, char(10)) FROM comments c WHERE c.task_id = new.id), ''));
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER task_search_task_delete AFTER DELETE ON tasks BEGIN
    DELETE FROM task_search WHERE rowid = old.id;
END;
-- +goose StatementEnd

-- A comment's triggers rebuild its task's document from the task as it is:
-- when the task itself is being deleted (its comments go with it) there is
-- no row left to read, and nothing is written.

-- +goose StatementBegin
CREATE TRIGGER task_search_comment_insert AFTER INSERT ON comments BEGIN
    INSERT OR REPLACE INTO task_search (rowid, title, description, comments)
    SELECT t.id, taskwire_search_text(t.title), taskwire_search_text(coalesce(t.description, '')),
           taskwire_search_text(coalesce((SELECT group_concat(c.body, char(10)) FROM comments c WHERE c.task_id = t.id), ''))
    FROM tasks t WHERE t.id = new.task_id;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER task_search_comment_update AFTER UPDATE OF body, task_id ON comments
WHEN new.body IS NOT old.body OR new.task_id IS NOT old.task_id BEGIN
    INSERT OR REPLACE INTO task_search (rowid, title, description, comments)
    SELECT t.id, taskwire_search_text(t.title), taskwire_search_text(coalesce(t.description, '')),
           taskwire_search_text(coalesce((SELECT group_concat(c.body, char(10)) FROM comments c WHERE c.task_id = t.id), ''))
    FROM tasks t WHERE t.id IN (new.task_id, old.task_id);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER task_search_comment_delete AFTER DELETE ON comments BEGIN
    INSERT OR REPLACE INTO task_search (rowid, title, description, comments)
    SELECT t.id, taskwire_search_text(t.title), taskwire_search_text(coalesce(t.description, '')),
           taskwire_search_text(coalesce((SELECT group_concat(c.body, char(10)) FROM comments c WHERE c.task_id = t.id), ''))
    FROM tasks t WHERE t.id = old.task_id;
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER task_search_comment_delete;
DROP TRIGGER task_search_comment_update;
DROP TRIGGER task_search_comment_insert;
DROP TRIGGER task_search_task_delete;
DROP TRIGGER task_search_task_update;
DROP TRIGGER task_search_task_insert;
DROP TABLE task_search;
