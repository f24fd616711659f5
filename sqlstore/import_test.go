package sqlstore_test

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/taskwire/taskwire"
	"github.com/taskwire/taskwire/sqlstore"
)

// newSource returns a migrated Taskwire SQLite store at a new path, filled
// by fillSource, and the function that closes it (once; the test's end
// closes it otherwise).
func newSource(t *testing.T) (db *sqlstore.DB, path string, close func() error) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "taskwire.db")
	db, err := sqlstore.Open(context.Background(), sqlstore.Target{Dialect: "sqlite", Path: path}, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	close = sync.OnceValue(db.Close)
	t.Cleanup(func() { close() })
	if err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	fillSource(t, db)
	return db, path, close
}

// fillSource writes users, projects, members, tasks in every status (one
// of them deleted, the last one created), comments (two of them deleted),
// events, notifications (one read), a notification setting and an
// idempotency record, through the store's own API.
func fillSource(t *testing.T, db *sqlstore.DB) {
	t.Helper()
	ctx := context.Background()
	at := func(s int) time.Time { return time.Date(2025, 3, 14, 15, 9, s, 535897000, time.UTC) }
	ada, bob, cy := int64(1), int64(2), int64(3)
	mustUpdate(t, db, func(tx taskwire.Tx) error {
		var errs []error
		for i, name := range []string{"ada", "bob", "cy"} {
			_, err := tx.CreateUser(ctx, taskwire.User{Email: name + "@example.com", Username: name, HashedPassword: "$2b$04$hash.of." + name, CreatedAt: at(i)})
			errs = append(errs, err)
		}
		desc := "Q1 launch"
		for i, p := range []taskwire.Project{{Name: "Launch", Description: &desc, OwnerID: ada}, {Name: "Ops", OwnerID: bob}} {
			p.CreatedAt = at(10 + i)
			_, err := tx.CreateProject(ctx, p)
			errs = append(errs, err)
		}
		return errors.Join(append(errs, tx.AddMember(ctx, 1, bob), tx.AddMember(ctx, 1, cy), tx.AddMember(ctx, 2, ada))...)
	})
	statuses := []taskwire.Status{taskwire.StatusTodo, taskwire.StatusInProgress, taskwire.StatusDone, taskwire.StatusTodo, taskwire.StatusDone, taskwire.StatusTodo}
	assignees := []*int64{nil, &bob, &cy, nil, &bob, nil}
	for i, st := range statuses {
		mustUpdate(t, db, func(tx taskwire.Tx) error {
			desc := fmt.Sprintf("déscription %d \"quoted\"", i)
			task, err := tx.CreateTask(ctx, taskwire.Task{Title: fmt.Sprint("task ", i), Description: &desc, Status: taskwire.StatusTodo,
				ProjectID: int64(1 + i%2), AssigneeID: assignees[i], Version: 1, CreatedAt: at(20 + i), UpdatedAt: at(20 + i)})
			if err != nil {
				return err
			}
			e, err := tx.AppendEvent(ctx, taskwire.Event{ProjectID: task.ProjectID, ActorID: ada, Type: taskwire.EventTaskCreated,
				TS: at(30 + i), Data: fmt.Appendf(nil, `{"id": %d,  "title":"task %d", "note":"é \u00e9 \"x\""}`, task.ID, i)})
			if err != nil {
				return err
			}
			task.Status, task.Version, task.UpdatedAt, task.AssignedSeq = st, 2, at(40+i), e.Seq
			if i == 0 {
				due := at(70)
				task.DueAt, task.Labels = &due, []string{"Bug", "日本語"}
				if err := tx.SetTaskLabels(ctx, task); err != nil {
					return err
				}
			}
			return tx.UpdateTask(ctx, task)
		})
	}
	mustUpdate(t, db, func(tx taskwire.Tx) error {
		return tx.RecordReminder(ctx, taskwire.Reminder{TaskID: 1, UserID: bob, DueAt: at(70), Seq: 1})
	})
	// Comments: two kept on task 1, one that goes with the deleted task and
	// one deleted on its own (SQLite's counter for comments moves past both).
	for i, c := range []taskwire.Comment{
		{TaskID: 1, ProjectID: 1, AuthorID: ada, Body: "@bob @cy: ünïcode \"q\"\nsecond line", Mentions: []int64{bob, cy}},
		{TaskID: 1, ProjectID: 1, AuthorID: bob, Body: "no mentions"},
		{TaskID: int64(len(statuses)), ProjectID: 2, AuthorID: bob, Body: "goes with its task", Mentions: []int64{ada}},
		{TaskID: 2, ProjectID: 2, AuthorID: ada, Body: "deleted"},
	} {
		mustUpdate(t, db, func(tx taskwire.Tx) error {
			c.CreatedAt, c.UpdatedAt = at(60+i), at(61+i)
			_, err := tx.CreateComment(ctx, c)
			return err
		})
	}
	mustUpdate(t, db, func(tx taskwire.Tx) error { return tx.DeleteComment(ctx, 4) })
	mustUpdate(t, db, func(tx taskwire.Tx) error { return tx.DeleteTask(ctx, int64(len(statuses))) })
	firstTask := int64(1)
	for i, uid := range []int64{bob, bob, cy} {
		mustUpdate(t, db, func(tx taskwire.Tx) error {
			_, err := tx.CreateNotification(ctx, taskwire.Notification{UserID: uid, Type: taskwire.NotifyTaskAssigned, ProjectID: 1,
				TaskID: &firstTask, ActorID: ada, CreatedAt: at(50 + i), Data: []byte(`{"project_name":"Launch", "title":"task 0"}`)})
			return err
		})
	}
	mustUpdate(t, db, func(tx taskwire.Tx) error {
		_, err1 := tx.MarkRead(ctx, bob, 1)
		err2 := tx.PutNotificationSettings(ctx, bob, taskwire.NotificationSettings{Email: map[taskwire.NotificationType]bool{taskwire.NotifyTaskAssigned: false}})
		err3 := tx.PutIdempotency(ctx, taskwire.IdempotencyRecord{IdempotencyKey: taskwire.IdempotencyKey{UserID: ada, Scope: "tasks", Key: "k-1", Hash: "h"},
			Body: []byte(`{"id":1}`), CreatedAt: at(59)})
		return errors.Join(err1, err2, err3)
	})
	// API tokens: one with an expiry and a use, one without either, and one
	// revoked (deleted) in between.
	exp := at(90)
	for i, tok := range []taskwire.APIToken{
		{UserID: ada, Name: "ci", Hash: "hash-1", CreatedAt: at(80), ExpiresAt: &exp},
		{UserID: ada, Name: "revoked", Hash: "hash-2", CreatedAt: at(81)},
		{UserID: bob, Name: "bot", Hash: "hash-3", CreatedAt: at(82)},
	} {
		mustUpdate(t, db, func(tx taskwire.Tx) error {
			_, err := tx.CreateAPIToken(ctx, tok)
			if err == nil && i == 0 {
				err = tx.TouchAPIToken(ctx, 1, at(85))
			}
			return err
		})
	}
	mustUpdate(t, db, func(tx taskwire.Tx) error { return tx.DeleteAPIToken(ctx, ada, 2) })
	// Invitations: one pending, one accepted, one deleted (the id counter
	// moves past it).
	for i, email := range []string{"Dee@Example.com", "cy@example.com", "gone@example.com"} {
		mustUpdate(t, db, func(tx taskwire.Tx) error {
			_, err := tx.CreateInvitation(ctx, taskwire.Invitation{ProjectID: 1, Email: email, InvitedBy: ada,
				TokenHash: taskwire.InvitationTokenHash(email), CreatedAt: at(80 + i), ExpiresAt: at(90 + i)})
			return err
		})
	}
	mustUpdate(t, db, func(tx taskwire.Tx) error {
		return errors.Join(tx.AcceptInvitation(ctx, 2, cy, at(85)), tx.DeleteInvitation(ctx, 3))
	})
	// A webhook mid-rotation and failing, with one delivery attempt.
	expires, failing, code, msg := at(80), at(81), 500, "The receiver answered 500"
	mustUpdate(t, db, func(tx taskwire.Tx) error {
		w, err := tx.CreateWebhook(ctx, taskwire.Webhook{ProjectID: 1, URL: "https://hooks.example/ü", Events: []taskwire.EventType{taskwire.EventTaskCreated},
			Description: "CI", Active: true, Secret: "whsec_new", PreviousSecret: "whsec_old", PreviousSecretExpiresAt: &expires,
			FailingSince: &failing, CreatedAt: at(79)})
		if err != nil {
			return err
		}
		_, err = tx.RecordWebhookDelivery(ctx, taskwire.WebhookDelivery{WebhookID: w.ID, EventSeq: 1, EventType: taskwire.EventTaskCreated,
			Attempt: 1, StatusCode: &code, Error: &msg, DurationMS: 7, CreatedAt: at(82), NextAttemptAt: &expires})
		return err
	})
}

// dump reads everything fillSource wrote back through the store's readers,
// plus the columns no reader returns, so two stores can be compared.
func dump(t *testing.T, db *sqlstore.DB) map[string]any {
	t.Helper()
	ctx := context.Background()
	out := map[string]any{}
	users, projects := []int64{1, 2, 3}, []int64{1, 2} // as fillSource creates them
	put := func(key string, id ...int64) func(any, error) {
		return func(v any, err error) {
			t.Helper()
			if err != nil {
				t.Fatalf("%s %v: %v", key, id, err)
			}
			out[fmt.Sprint(key, id)] = v
		}
	}
	for _, id := range users {
		put("user", id)(db.UserByID(ctx, id))
		put("projects of", id)(db.ProjectsOf(ctx, id, taskwire.Page{}))
		put("notifications of", id)(db.Notifications(ctx, id, taskwire.NotificationFilter{}, taskwire.Page{}))
		put("unread of", id)(db.UnreadCount(ctx, id))
		put("settings of", id)(db.NotificationSettings(ctx, id))
	}
	put("notification seqs")(db.NotificationSeqs(ctx, users))
	for _, id := range projects {
		put("project", id)(db.Project(ctx, id))
		put("members of", id)(db.Members(ctx, id))
		put("tasks of", id)(db.Tasks(ctx, id, taskwire.TaskFilter{}, taskwire.Page{}))
		put("events of", id)(db.Events(ctx, id, 0, 0))
		put("labels of", id)(db.Labels(ctx, id))
		put("invitations of", id)(db.Invitations(ctx, id))
	}
	put("reminders")(db.RawColumn(ctx, "SELECT CAST(task_id AS TEXT) || ' ' || CAST(user_id AS TEXT) || ' ' || CAST(seq AS TEXT) FROM task_reminders ORDER BY task_id"))
	for id := range int64(6) {
		put("comments of task", id+1)(db.Comments(ctx, id+1, taskwire.Page{}))
	}
	put("idempotency")(db.Idempotency(ctx, 1, "tasks", "k-1"))
	for _, id := range users {
		put("api tokens of", id)(db.APITokens(ctx, id))
	}
	put("webhooks")(db.Webhooks(ctx, 1, taskwire.Page{}))
	put("webhook deliveries")(db.WebhookDeliveries(ctx, 1, taskwire.Page{}))
	put("membership rows")(db.RawColumn(ctx, "SELECT CAST(id AS TEXT) || ' ' || CAST(project_id AS TEXT) || ' ' || CAST(user_id AS TEXT) FROM project_members ORDER BY id"))
	for _, q := range []string{"SELECT updated_at FROM projects ORDER BY id", "SELECT created_at FROM project_members ORDER BY id"} {
		raw, err := db.RawColumn(ctx, q)
		var times []time.Time
		for _, s := range raw {
			tm, perr := time.Parse(time.RFC3339Nano, s)
			err = errors.Join(err, perr)
			times = append(times, tm.UTC())
		}
		put(q)(times, err)
	}
	return out
}

// foreignKeys lists a PostgreSQL store's foreign keys with their
// definitions (Import drops and restores them).
func foreignKeys(t *testing.T, db *sqlstore.DB) []string {
	t.Helper()
	keys, err := db.RawColumn(context.Background(), `SELECT conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid)
		FROM pg_constraint WHERE contype = 'f' AND connamespace = current_schema()::regnamespace ORDER BY 1`)
	if err != nil || len(keys) < 7 {
		t.Fatalf("foreign keys %v: %v", keys, err)
	}
	return keys
}

// rowCounts returns the rows an import copied by table.
func rowCounts(stats sqlstore.ImportStats) map[string]int64 {
	rows := map[string]int64{}
	for _, tr := range stats.Tables {
		rows[tr.Table] = tr.Rows
	}
	return rows
}

// fileSum returns the SHA-256 of the files' contents, one after the other.
func fileSum(t *testing.T, paths ...string) [32]byte {
	t.Helper()
	h := sha256.New()
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		h.Write(b)
	}
	return [32]byte(h.Sum(nil))
}

// TestImport: a Taskwire database imported into PostgreSQL reads back the
// same through the store, every id kept; the next task continues after
// the last id SQLite gave out (a deleted task's included); the source file
// is not changed, whether the store that wrote it is closed or still open
// with rows in its WAL.
func TestImport(t *testing.T) {
	for _, live := range []bool{false, true} {
		t.Run(map[bool]string{false: "Closed", true: "LiveWAL"}[live], func(t *testing.T) {
			ctx := context.Background()
			src, path, closeSrc := newSource(t)
			want := dump(t, src)
			files := []string{path}
			if live {
				files = append(files, path+"-wal")
				if st, err := os.Stat(path + "-wal"); err != nil || st.Size() == 0 {
					t.Fatalf("the live source has no rows in its WAL (%v, %v)", st, err)
				}
			} else if err := closeSrc(); err != nil {
				t.Fatal(err)
			}
			before := fileSum(t, files...)
			dst := newPostgres(t)
			var reports []sqlstore.Progress
			stats, err := sqlstore.Import(ctx, path, dst, func(p sqlstore.Progress) { reports = append(reports, p) })
			if err != nil {
				t.Fatal(err)
			}
			if fileSum(t, files...) != before {
				t.Errorf("%v changed during the import", files)
			}
			got := dump(t, dst)
			for k, w := range want {
				if !reflect.DeepEqual(got[k], w) {
					t.Errorf("%s:\n got  %+v\n want %+v", k, got[k], w)
				}
			}
			if rows := rowCounts(stats); !reflect.DeepEqual(rows, map[string]int64{"users": 3, "projects": 2, "project_members": 3,
				"tasks": 5, "task_labels": 2, "task_reminders": 1, "comments": 2, "events": 6, "idempotency_keys": 1, "notifications": 3, "notification_settings": 1, "api_tokens": 2, "invitations": 2,
				"webhooks": 1, "webhook_deliveries": 1, "webhook_outbox": 0}) {
				t.Errorf("rows copied %v", rows)
			}
			for _, tr := range stats.Tables {
				if !slices.Contains(reports, sqlstore.Progress{Table: tr.Table, Done: tr.Rows, Total: tr.Rows}) {
					t.Errorf("no final progress report for %s in %+v", tr.Table, reports)
				}
			}
			if got, want := foreignKeys(t, dst), foreignKeys(t, newPostgres(t)); !slices.Equal(got, want) {
				t.Errorf("foreign keys after the import:\n%v\nwant\n%v", got, want)
			}
			checkNextIDs(t, dst, [3]int64{4, 3, 7})
			checkNextCommentID(t, dst, 5)
		})
	}
}

// checkNextIDs creates a user, a project and a task on dst and expects
// them to continue after the imported ids, with the ids in want.
func checkNextIDs(t *testing.T, dst *sqlstore.DB, want [3]int64) {
	t.Helper()
	ctx, now := context.Background(), time.Now()
	var got [3]int64
	mustUpdate(t, dst, func(tx taskwire.Tx) error {
		u, err := tx.CreateUser(ctx, taskwire.User{Email: "new@example.com", Username: "new", HashedPassword: "x", CreatedAt: now})
		if err != nil {
			return err
		}
		p, err := tx.CreateProject(ctx, taskwire.Project{Name: "new", OwnerID: u.ID, CreatedAt: now})
		if err != nil {
			return err
		}
		task, err := tx.CreateTask(ctx, taskwire.Task{Title: "next", Status: taskwire.StatusTodo, ProjectID: p.ID, Version: 1, CreatedAt: now, UpdatedAt: now})
		got = [3]int64{u.ID, p.ID, task.ID}
		return err
	})
	if got != want {
		t.Errorf("next user, project and task ids = %v, want %v", got, want)
	}
}

// checkNextCommentID creates a comment on task 1 of dst and expects the id
// want: after every id the source gave out, deleted comments' included.
func checkNextCommentID(t *testing.T, dst *sqlstore.DB, want int64) {
	t.Helper()
	now := time.Now()
	var c taskwire.Comment
	mustUpdate(t, dst, func(tx taskwire.Tx) (err error) {
		c, err = tx.CreateComment(context.Background(), taskwire.Comment{TaskID: 1, ProjectID: 1, AuthorID: 1, Body: "next", CreatedAt: now, UpdatedAt: now})
		return err
	})
	if c.ID != want {
		t.Errorf("next comment id = %d, want %d", c.ID, want)
	}
}

// TestImportWhileWriting: a source that a live store keeps writing to
// during the import is copied as one consistent snapshot: every task that
// made it has its event, and each project's last_seq matches its log.
func TestImportWhileWriting(t *testing.T) {
	ctx := context.Background()
	src, path, _ := newSource(t)
	writing, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; writing.Err() == nil; i++ {
			if err := src.Update(ctx, func(tx taskwire.Tx) error {
				task, err := tx.CreateTask(ctx, taskwire.Task{Title: fmt.Sprint("live ", i), Status: taskwire.StatusTodo,
					ProjectID: 2, Version: 1, CreatedAt: time.Now(), UpdatedAt: time.Now()})
				if err == nil {
					_, err = tx.AppendEvent(ctx, taskwire.Event{ProjectID: task.ProjectID, ActorID: 2,
						Type: taskwire.EventTaskCreated, TS: time.Now(), Data: []byte(`{}`)})
				}
				return err
			}); err != nil {
				t.Errorf("live write: %v", err)
				return
			}
		}
	})
	time.Sleep(50 * time.Millisecond)
	dst := newPostgres(t)
	_, err := sqlstore.Import(ctx, path, dst, nil)
	stop()
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	p, err1 := dst.Project(ctx, 2)
	tasks, err2 := dst.Tasks(ctx, p.ID, taskwire.TaskFilter{}, taskwire.Page{})
	events, err3 := dst.Events(ctx, p.ID, 0, 0)
	if err := errors.Join(err1, err2, err3); err != nil {
		t.Fatal(err)
	}
	// fillSource left 2 tasks and 3 events in this project (its third task was deleted).
	live := len(tasks) - 2
	if len(events) != live+3 || p.LastSeq != int64(len(events)) {
		t.Errorf("snapshot not consistent: %d live tasks, %d events, last_seq %d", live, len(events), p.LastSeq)
	}
	t.Logf("the snapshot caught %d tasks written during the import", live)
}

// TestImportSeed: a database the seed service wrote is imported with its
// ids and bcrypt hashes; the next task continues after them; the copy in
// testdata is used through a temporary copy and the source is left as it
// was, with nothing written beside it.
func TestImportSeed(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "peroxia.db")
	seed, err := os.ReadFile("testdata/seed-peroxia.db")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, seed, 0o600); err != nil {
		t.Fatal(err)
	}
	dst := newPostgres(t)
	stats, err := sqlstore.Import(ctx, path, dst, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rows := rowCounts(stats); !reflect.DeepEqual(rows, map[string]int64{"users": 4, "projects": 2, "project_members": 5, "tasks": 5,
		"task_labels": 0, "task_reminders": 0, "comments": 0, "events": 0, "idempotency_keys": 0, "notifications": 0, "notification_settings": 0, "api_tokens": 0, "invitations": 0,
		"webhooks": 0, "webhook_deliveries": 0, "webhook_outbox": 0}) {
		t.Errorf("rows copied %v", rows)
	}
	if fileSum(t, path) != sha256.Sum256(seed) {
		t.Error("the seed file changed")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("files beside the source after the import: %v", entries)
	}
	for i, want := range []struct{ name, hash string }{
		{"ada", "$2b$12$RHhAm2WJwmuxMOi/hhSC5ux7LPHKTIin6oEfCRMErqMbvtotpqb.a"},
		{"bob", "$2b$12$mKmNP3vGMTzhln3gUOtIMu5tAz2NoJt66f/oyO0G/VRlh/AtKnTXy"},
		{"cy", "$2b$12$iX3lHPKatB/VP8JELyTxWeqwHyVC0n0i8K6775HwPPPHYDUJhjOMq"},
		{"dee", "$2b$12$xj9qdCsDIfcFN/llY4vICOhhPx7GShWbWEYPGqPjK0oq9tyId7fdK"},
	} {
		u, err := dst.UserByID(ctx, int64(i+1))
		if err != nil || u.Username != want.name || u.Email != want.name+"@example.com" || u.HashedPassword != want.hash {
			t.Errorf("user %d = %+v, %v; want %s with hash %s", i+1, u, err, want.name, want.hash)
		}
	}
	if ids, err := dst.RawColumn(ctx, "SELECT CAST(id AS TEXT) FROM tasks ORDER BY id"); err != nil || !slices.Equal(ids, []string{"1", "2", "3", "4", "5"}) {
		t.Errorf("task ids %v (%v), want 1..5", ids, err)
	}
	if tk, err := dst.Task(ctx, 3); err != nil || tk.Title != "Design the logo" || tk.Status != taskwire.StatusTodo || tk.AssigneeID == nil || *tk.AssigneeID != 3 {
		t.Errorf("task 3 = %+v, %v", tk, err)
	}
	checkNextIDs(t, dst, [3]int64{5, 3, 6})
}

// TestImportRefused: a destination that holds rows, and a source that does
// not exist or is not a Taskwire or seed database, are refused with one
// line, and the destination is left as it was.
func TestImportRefused(t *testing.T) {
	ctx := context.Background()
	_, path, _ := newSource(t)
	dir := t.TempDir()
	text := filepath.Join(dir, "notes.txt")
	emptyFile := filepath.Join(dir, "empty.db")
	other := filepath.Join(dir, "other.db")
	for f, body := range map[string]string{text: "not a database\n", emptyFile: ""} {
		if err := os.WriteFile(f, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	rawExec(t, other, []string{"CREATE TABLE things (id INTEGER PRIMARY KEY)"})

	// A row that breaks a foreign key, as a seed database may hold (SQLite
	// checks them only when asked to).
	_, orphan, closeOrphan := newSource(t)
	if err := closeOrphan(); err != nil {
		t.Fatal(err)
	}
	rawExec(t, orphan, []string{"UPDATE tasks SET assignee_id = 999 WHERE id = 1"})

	full, empty := newPostgres(t), newPostgres(t)
	mustUpdate(t, full, func(tx taskwire.Tx) error {
		_, err := tx.CreateUser(ctx, taskwire.User{Email: "x@example.com", Username: "x", HashedPassword: "x", CreatedAt: time.Now()})
		return err
	})
	for _, tc := range []struct {
		name, src string
		dst       *sqlstore.DB
		want      string
	}{
		{"NotEmpty", path, full, "DATABASE_URL is not empty (users has 1 rows): import copies into an empty database; nothing was changed"},
		{"Missing", filepath.Join(dir, "missing.db"), empty, "does not exist"},
		{"Text", text, empty, "is not a SQLite database"},
		{"EmptyFile", emptyFile, empty, "is not a SQLite database"},
		{"Directory", dir, empty, "is a directory"},
		{"OtherSQLite", other, empty, "neither Taskwire's nor the seed service's"},
		{"BrokenForeignKey", orphan, empty, `violates foreign key constraint "tasks_assignee_id_fkey"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := sqlstore.Import(ctx, tc.src, tc.dst, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("err = %v, want one line with %q", err, tc.want)
			}
			want := map[bool]string{false: "0 0 0 0", true: "1 0 0 0"}[tc.dst == full]
			if n, err := tc.dst.RawColumn(ctx, `SELECT (SELECT count(*) FROM users) || ' ' || (SELECT count(*) FROM projects)
				|| ' ' || (SELECT count(*) FROM tasks) || ' ' || (SELECT count(*) FROM events)`); err != nil || !slices.Equal(n, []string{want}) {
				t.Errorf("users, projects, tasks, events hold %v rows (%v) after a refused import, want %s", n, err, want)
			}
		})
	}
	if got, want := foreignKeys(t, empty), foreignKeys(t, newPostgres(t)); !slices.Equal(got, want) {
		t.Errorf("foreign keys after a failed import:\n%v\nwant\n%v", got, want)
	}
	if _, err := sqlstore.Import(ctx, path, openSQLite(t, filepath.Join(dir, "dst.db")), nil); err == nil {
		t.Error("a SQLite destination was accepted")
	}
}

// rawExec runs statements, each with args, in one transaction on a SQLite
// file without the store (and without its foreign-key checks).
func rawExec(t *testing.T, path string, queries []string, args ...any) {
	t.Helper()
	raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	tx, err := raw.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	for _, q := range queries {
		if _, err := tx.Exec(q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

// TestImportLarge: 100,000 tasks and 20,000 events, written with bulk SQL
// in one transaction, are imported within seconds; counts, a sample of
// rows and the next id are checked.
func TestImportLarge(t *testing.T) {
	const tasks, events, projects, users = 100_000, 20_000, 20, 100
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "large.db")
	src := openSQLite(t, path)
	if err := src.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	// ?1 tasks, ?2 users, ?3 projects, ?4 events; n counts 1..?1.
	const ts = `printf('2025-01-%02dT%02d:%02d:%02d.%06dZ', 1 + i % 28, i / 3600 % 24, i / 60 % 60, i % 60, i * 7 % 1000000)`
	queries := []string{
		`INSERT INTO users (id, email, username, hashed_password, created_at)
			SELECT i, 'u' || i || '@example.com', 'u' || i, '$2b$04$hash' || i, ` + ts + ` FROM n WHERE i <= ?2`,
		`INSERT INTO projects (id, name, description, owner_id, last_seq, created_at, updated_at)
			SELECT i, 'p' || i, NULL, 1 + i % ?2, ?4 / ?3, ` + ts + `, ` + ts + ` FROM n WHERE i <= ?3`,
		`INSERT INTO tasks (id, title, description, status, project_id, assignee_id, version, created_at, updated_at, assigned_seq)
			SELECT i, 'task ' || i, CASE WHEN i % 2 = 0 THEN 'about ' || i END,
				CASE i % 3 WHEN 0 THEN 'TODO' WHEN 1 THEN 'IN_PROGRESS' ELSE 'DONE' END,
				1 + i % ?3, CASE WHEN i % 5 = 0 THEN NULL ELSE 1 + i % ?2 END, 1 + i % 4, ` + ts + `, ` + ts + `, 0 FROM n`,
		`INSERT INTO events (project_id, seq, type, actor_id, ts, data)
			SELECT 1 + (i - 1) % ?3, 1 + (i - 1) / ?3, 'task_created', 1, ` + ts + `, '{"id":' || i || ',"title":"task ' || i || '"}'
			FROM n WHERE i <= ?4`,
	}
	for i, q := range queries {
		queries[i] = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1) " + q
	}
	rawExec(t, path, queries, tasks, users, projects, events)

	dst := newPostgres(t)
	began := time.Now()
	var last sqlstore.Progress
	stats, err := sqlstore.Import(ctx, path, dst, func(p sqlstore.Progress) { last = p })
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("imported %+v in %v", stats.Tables, time.Since(began))
	if last != (sqlstore.Progress{Table: "webhook_outbox"}) {
		t.Errorf("last progress report %+v, want webhook_outbox 0/0", last)
	}
	if rows := rowCounts(stats); !reflect.DeepEqual(rows, map[string]int64{"users": users, "projects": projects, "project_members": 0,
		"tasks": tasks, "task_labels": 0, "task_reminders": 0, "comments": 0, "events": events, "idempotency_keys": 0, "notifications": 0, "notification_settings": 0, "api_tokens": 0, "invitations": 0,
		"webhooks": 0, "webhook_deliveries": 0, "webhook_outbox": 0}) {
		t.Errorf("rows copied %v", rows)
	}
	for _, id := range []int64{1, 2, 3, 5, 49_999, tasks} {
		want, err1 := src.Task(ctx, id)
		got, err2 := dst.Task(ctx, id)
		if err := errors.Join(err1, err2); err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("task %d: got %+v, want %+v (%v)", id, got, want, err)
		}
	}
	for _, p := range []int64{1, projects} {
		want, err1 := src.Events(ctx, p, events/projects-3, 0)
		got, err2 := dst.Events(ctx, p, events/projects-3, 0)
		if err := errors.Join(err1, err2); err != nil || len(got) == 0 || !reflect.DeepEqual(got, want) {
			t.Errorf("project %d's last events: got %+v, want %+v (%v)", p, got, want, err)
		}
	}
	maxID, err := dst.RawColumn(ctx, "SELECT CAST(max(id) AS TEXT) FROM tasks")
	if err != nil || !slices.Equal(maxID, []string{fmt.Sprint(tasks)}) {
		t.Errorf("max task id %v (%v), want %d", maxID, err, tasks)
	}
	checkNextIDs(t, dst, [3]int64{users + 1, projects + 1, tasks + 1})
}
