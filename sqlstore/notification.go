package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/taskwire/taskwire"
)

const notificationColumns = "id, user_id, seq, type, project_id, task_id, actor_id, read, created_at, data"

func scanNotification(r interface{ Scan(...any) error }) (taskwire.Notification, error) {
	var n taskwire.Notification
	var task sql.NullInt64
	var data string
	err := r.Scan(&n.ID, &n.UserID, &n.Seq, &n.Type, &n.ProjectID, &task, &n.ActorID, &n.Read, nullTime{&n.CreatedAt}, &data)
	n.TaskID, n.Data = int64Ptr(task), []byte(data)
	return n, err
}

// Notifications implements taskwire.Reader.
func (s reads) Notifications(ctx context.Context, userID int64, f taskwire.NotificationFilter, page taskwire.Page) ([]taskwire.Notification, error) {
	q := "SELECT " + notificationColumns + " FROM notifications WHERE user_id = ?"
	args := []any{userID}
	if page.After > 0 {
		q += " AND id < ?"
		args = append(args, page.After)
	}
	if f.UnreadOnly {
		q += " AND read = FALSE"
	}
	rows, err := s.query(ctx, q+" ORDER BY id DESC"+limit(page.Limit), args...)
	return list(rows, err, func(r *sql.Rows) (taskwire.Notification, error) { return scanNotification(r) })
}

// UnreadCount implements taskwire.Reader.
func (s reads) UnreadCount(ctx context.Context, userID int64) (int64, error) {
	var n int64
	err := s.row(ctx, "SELECT COUNT(*) FROM notifications WHERE user_id = ? AND read = FALSE", userID).Scan(&n)
	return n, dbErr(err)
}

// NotificationsAfter implements taskwire.Reader.
func (s reads) NotificationsAfter(ctx context.Context, userID, since int64, n int) ([]taskwire.Notification, error) {
	rows, err := s.query(ctx, "SELECT "+notificationColumns+" FROM notifications WHERE user_id = ? AND seq > ? ORDER BY seq"+limit(n), userID, since)
	return list(rows, err, func(r *sql.Rows) (taskwire.Notification, error) { return scanNotification(r) })
}

// NotificationSeqs implements taskwire.Reader.
func (s reads) NotificationSeqs(ctx context.Context, ids []int64) (map[int64]int64, error) {
	return s.seqsByID(ctx, "SELECT id, notification_seq FROM users", ids)
}

// NotificationSettings implements taskwire.Reader.
func (s reads) NotificationSettings(ctx context.Context, userID int64) (taskwire.NotificationSettings, error) {
	rows, err := s.query(ctx, "SELECT kind, email FROM notification_settings WHERE user_id = ?", userID)
	type kv struct {
		kind  taskwire.NotificationType
		email bool
	}
	kvs, err := list(rows, err, func(r *sql.Rows) (kv, error) {
		var x kv
		err := r.Scan(&x.kind, &x.email)
		return x, err
	})
	if err != nil {
		return taskwire.NotificationSettings{}, err
	}
	out := taskwire.NotificationSettings{Email: map[taskwire.NotificationType]bool{}}
	for _, k := range taskwire.EmailKinds {
		out.Email[k] = true
	}
	for _, x := range kvs {
		out.Email[x.kind] = x.email
	}
	return out, nil
}

// CreateNotification implements taskwire.Tx. The user row's
// notification_seq is bumped in the same transaction, which serializes
// notifications per user as last_seq does events per project. In a
// PostgreSQL batch without savepoints the notification waits for the end
// of the batch (see fastFirstTry and numberNotifications), so that user rows
// stay locked only from there to the commit.
func (s writes) CreateNotification(ctx context.Context, n taskwire.Notification) (*taskwire.Notification, error) {
	if s.unit != nil && s.unit.collect {
		np := &n
		s.unit.notes = append(s.unit.notes, np)
		return np, nil
	}
	err := s.row(ctx, "UPDATE users SET notification_seq = notification_seq + 1 WHERE id = ? RETURNING notification_seq", n.UserID).Scan(&n.Seq)
	if err != nil {
		return nil, notFound(err, taskwire.MsgUserNotFound)
	}
	err = s.row(ctx, `INSERT INTO notifications (user_id, seq, type, project_id, task_id, actor_id, read, created_at, data)
		VALUES (?, ?, ?, ?, ?, ?, FALSE, ?, ?) RETURNING id`,
		n.UserID, n.Seq, string(n.Type), n.ProjectID, n.TaskID, n.ActorID, s.d.time(n.CreatedAt), string(n.Data)).Scan(&n.ID)
	if err != nil {
		return nil, dbErr(err)
	}
	return &n, nil
}

// numberNotifications stores the notifications a PostgreSQL batch
// created, in their order, each user's numbered after that user's newest:
// one statement per user, users in id order, so two batches never wait on
// each other's user rows in a cycle. It sets each one's ID and Seq.
// Returns NotFound "User not found" for a user who no longer exists.
func numberNotifications(ctx context.Context, q querier, d *dialect, notes []*taskwire.Notification) error {
	byUser := map[int64][]*taskwire.Notification{}
	for _, n := range notes {
		byUser[n.UserID] = append(byUser[n.UserID], n)
	}
	users := slices.Sorted(maps.Keys(byUser))
	for _, uid := range users {
		ns := byUser[uid]
		var b strings.Builder
		args := []any{len(ns), uid, len(ns), uid}
		b.WriteString(`WITH u AS (UPDATE users SET notification_seq = notification_seq + ? WHERE id = ? RETURNING notification_seq - ? AS base)
			INSERT INTO notifications (user_id, seq, type, project_id, task_id, actor_id, read, created_at, data)
			SELECT ?::bigint, u.base + v.ord, v.type, v.project_id, v.task_id, v.actor_id, FALSE, v.created_at, v.data
			FROM u, (VALUES `)
		for i, n := range ns {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(?::bigint, ?::text, ?::bigint, ?::bigint, ?::bigint, ?::timestamptz, ?::json)")
			args = append(args, i+1, string(n.Type), n.ProjectID, n.TaskID, n.ActorID, d.time(n.CreatedAt), string(n.Data))
		}
		b.WriteString(") AS v (ord, type, project_id, task_id, actor_id, created_at, data) RETURNING id, seq")
		rows, err := q.QueryContext(ctx, d.rebind(b.String()), args...)
		type idSeq struct{ id, seq int64 }
		got, err := list(rows, err, func(r *sql.Rows) (idSeq, error) {
			var x idSeq
			return x, r.Scan(&x.id, &x.seq)
		})
		if err != nil {
			return err
		}
		if len(got) == 0 {
			return taskwire.Errorf(taskwire.NotFound, "%s", taskwire.MsgUserNotFound)
		}
		if len(got) != len(ns) {
			return fmt.Errorf("sqlstore: %d notifications stored for user %d, want %d", len(got), uid, len(ns))
		}
		// The seqs are base+1 .. base+len(ns), in the order of ns.
		slices.SortFunc(got, func(a, b idSeq) int { return cmp.Compare(a.seq, b.seq) })
		for i, n := range ns {
			n.ID, n.Seq = got[i].id, got[i].seq
		}
	}
	return nil
}

// MarkRead implements taskwire.Tx.
func (s writes) MarkRead(ctx context.Context, userID, id int64) (taskwire.Notification, error) {
	n, err := scanNotification(s.row(ctx, "UPDATE notifications SET read = TRUE WHERE id = ? AND user_id = ? RETURNING "+notificationColumns, id, userID))
	return n, notFound(err, taskwire.MsgNotificationNotFound)
}

// MarkAllRead implements taskwire.Tx.
func (s writes) MarkAllRead(ctx context.Context, userID int64) (int64, error) {
	res, err := s.exec(ctx, "UPDATE notifications SET read = TRUE WHERE user_id = ? AND read = FALSE", userID)
	if err != nil {
		return 0, dbErr(err)
	}
	n, err := res.RowsAffected()
	return n, dbErr(err)
}

// PutNotificationSettings implements taskwire.Tx.
func (s writes) PutNotificationSettings(ctx context.Context, userID int64, set taskwire.NotificationSettings) error {
	for kind, on := range set.Email {
		_, err := s.exec(ctx, `INSERT INTO notification_settings (user_id, kind, email) VALUES (?, ?, ?)
			ON CONFLICT (user_id, kind) DO UPDATE SET email = excluded.email`, userID, string(kind), on)
		if err != nil {
			return dbErr(err)
		}
	}
	return nil
}
