-- +goose Up
-- Full-text search: one tsvector per task in task_search — its title
-- (weight A), its description (B) and its comments' bodies (C) — kept by
-- the triggers below in the transaction of every write, and filled here
-- from the rows there are. taskwire import needs nothing more: COPY fires
-- the triggers, which build the documents of each table's rows in one
-- statement.
--
-- No extension is needed (CREATE EXTENSION may not be granted on a user's
-- database): taskwire_search_text folds text with built-in functions only —
-- compatibility forms to plain letters (NFKD), the combining accents
-- U+0300–U+036F off, back to composed form (NFC), lower case (through ICU
-- when the server has it, so that it does not depend on the database's
-- LC_CTYPE: a database in the C locale would lower ASCII only), final sigma
-- as sigma (the normalizations skipped for ASCII text, which they would not
-- change), ASCII punctuation as space (so bob@example.com is three words
-- and 3.14 two, as on SQLite, rather than one token of the default
-- parser), and a space on each side of every character of the scripts
-- written without spaces (hiragana, katakana, CJK ideographs, Hangul
-- syllables: the ranges of sqlstore/search_text.go), each of which is then
-- a word, and a query's run of them a phrase. The 'simple' configuration
-- keeps every word as it is (no stemming, no stop words). The database
-- must be UTF8, as Taskwire's always are.
-- +goose StatementBegin
DO $migration$
DECLARE
    lowered text := 'lower(%s)';
BEGIN
    IF EXISTS (SELECT 1 FROM pg_collation WHERE collname = 'und-x-icu') THEN
        lowered := 'lower(%s COLLATE "und-x-icu")';
    END IF;
    EXECUTE format($create$
        CREATE FUNCTION taskwire_search_text(t text) RETURNS text
        LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
        AS %L
    $create$, format($body$
        SELECT regexp_replace(
            replace(regexp_replace(%s, '[!-/:-@[-`{-~]', ' ', 'g'), 'ς', 'σ'),
            '([\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\U00020000-\U0003134f])',
            ' \1 ', 'g')
    $body$, format(lowered, $fold$CASE WHEN t ~ '[^\u0001-\u007f]'
        THEN normalize(regexp_replace(normalize(t, NFKD), '[\u0300-\u036f]', '', 'g'), NFC) ELSE t END$fold$)));
END
$migration$;
-- +goose StatementEnd

-- task_search holds the documents; a task's goes with it.
CREATE TABLE task_search (
    task_id BIGINT PRIMARY KEY REFERENCES tasks (id) ON DELETE CASCADE,
    doc     TSVECTOR NOT NULL
);
CREATE INDEX ix_task_search_doc ON task_search USING gin (doc);

-- taskwire_search_refresh writes the documents of the tasks ids as they
-- are now. It locks their rows first, in a statement of its own: the upsert
-- that follows then runs on a snapshot taken after any other transaction
-- that rewrote one of them has committed, and so reads every comment that
-- transaction wrote (under READ COMMITTED each statement of a volatile
-- function sees what committed before it). A task's comments are taken
-- newest first, at most 250,000 characters of them: a tsvector is bounded
-- (1 MB), and that is well under it whatever the words.
-- +goose StatementBegin
CREATE FUNCTION taskwire_search_refresh(ids bigint[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM task_search WHERE task_id = ANY (ids) ORDER BY task_id FOR UPDATE;
    INSERT INTO task_search (task_id, doc)
    SELECT t.id,
           setweight(to_tsvector('simple', taskwire_search_text(t.title)), 'A')
        || setweight(to_tsvector('simple', taskwire_search_text(coalesce(t.description, ''))), 'B')
        || setweight(to_tsvector('simple', taskwire_search_text(coalesce(c.bodies, ''))), 'C')
    FROM tasks t
    LEFT JOIN LATERAL (
        SELECT left(string_agg(body, E'\n' ORDER BY id DESC), 250000) AS bodies FROM comments WHERE task_id = t.id
    ) c ON true
    WHERE t.id = ANY (ids)
    ON CONFLICT (task_id) DO UPDATE SET doc = excluded.doc;
END
$$;
-- +goose StatementEnd

SELECT taskwire_search_refresh(ARRAY(SELECT id FROM tasks));

-- New tasks and new comments: one refresh per statement, so a COPY (taskwire
-- import) builds every document once.
-- +goose StatementBegin
CREATE FUNCTION taskwire_search_rows_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'tasks' THEN
        PERFORM taskwire_search_refresh(ARRAY(SELECT id FROM new_rows));
    ELSE
        PERFORM taskwire_search_refresh(ARRAY(SELECT DISTINCT task_id FROM new_rows));
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER task_search_task_insert AFTER INSERT ON tasks
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION taskwire_search_rows_inserted();
CREATE TRIGGER task_search_comment_insert AFTER INSERT ON comments
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION taskwire_search_rows_inserted();

-- A task's title or description, a comment's body: the one task's document.
-- +goose StatementBegin
CREATE FUNCTION taskwire_search_row_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'tasks' THEN
        PERFORM taskwire_search_refresh(ARRAY[new.id]);
    ELSE
        PERFORM taskwire_search_refresh(ARRAY[new.task_id, old.task_id]);
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER task_search_task_update AFTER UPDATE OF title, description ON tasks FOR EACH ROW
    WHEN (new.title IS DISTINCT FROM old.title OR new.description IS DISTINCT FROM old.description)
    EXECUTE FUNCTION taskwire_search_row_updated();
CREATE TRIGGER task_search_comment_update AFTER UPDATE OF body, task_id ON comments FOR EACH ROW
    WHEN (new.body IS DISTINCT FROM old.body OR new.task_id IS DISTINCT FROM old.task_id)
    EXECUTE FUNCTION taskwire_search_row_updated();

-- Deleted comments: the documents of their tasks that remain (a deleted
-- task's comments go with it, and so does its document).
-- +goose StatementBegin
CREATE FUNCTION taskwire_search_comments_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM taskwire_search_refresh(ARRAY(
        SELECT DISTINCT o.task_id FROM old_rows o WHERE EXISTS (SELECT 1 FROM tasks t WHERE t.id = o.task_id)));
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER task_search_comment_delete AFTER DELETE ON comments
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION taskwire_search_comments_deleted();

-- +goose Down
DROP TRIGGER task_search_comment_delete ON comments;
DROP TRIGGER task_search_comment_update ON comments;
DROP TRIGGER task_search_task_update ON tasks;
DROP TRIGGER task_search_comment_insert ON comments;
DROP TRIGGER task_search_task_insert ON tasks;
DROP FUNCTION taskwire_search_comments_deleted();
DROP FUNCTION taskwire_search_row_updated();
DROP FUNCTION taskwire_search_rows_inserted();
DROP TABLE task_search;
DROP FUNCTION taskwire_search_refresh(bigint[]);
DROP FUNCTION taskwire_search_text(text);
