package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/taskwire/taskwire"
)

// AppendEvent implements taskwire.Tx. The project row's last_seq is bumped
// in the same unit of work, which serializes appends per project (SQLite:
// the single writer; PostgreSQL: the row lock taken by UPDATE, held until
// the commit). On PostgreSQL the bump and the insert are one statement, so
// the lock costs one round trip before the commit.
func (s writes) AppendEvent(ctx context.Context, e taskwire.Event) (taskwire.Event, error) {
	e.TS = e.TS.UTC().Truncate(time.Microsecond)
	if s.d.remote {
		// A write the unit holds back (its task's) is one more part of the
		// statement: it touches neither the project nor the event log, so
		// the shared snapshot of a data-modifying WITH changes nothing.
		with, args := "WITH ", []any{}
		if s.unit != nil {
			if h := s.unit.take(); h != nil {
				with, args = "WITH held AS ("+h.query+"), ", h.args
			}
		}
		args = append(args, e.ProjectID, string(e.Type), e.ActorID, s.d.time(e.TS), string(e.Data))
		err := s.row(ctx, with+`next AS (UPDATE projects SET last_seq = last_seq + 1 WHERE id = ? RETURNING id, last_seq)
			INSERT INTO events (project_id, seq, type, actor_id, ts, data)
			SELECT id, last_seq, ?::text, ?::bigint, ?::timestamptz, ?::json FROM next RETURNING seq`, args...).Scan(&e.Seq)
		return e, notFound(err, taskwire.MsgProjectNotFound)
	}
	err := s.row(ctx, "UPDATE projects SET last_seq = last_seq + 1 WHERE id = ? RETURNING last_seq", e.ProjectID).Scan(&e.Seq)
	if err != nil {
		return taskwire.Event{}, notFound(err, taskwire.MsgProjectNotFound)
	}
	_, err = s.exec(ctx, "INSERT INTO events (project_id, seq, type, actor_id, ts, data) VALUES (?, ?, ?, ?, ?, ?)",
		e.ProjectID, e.Seq, string(e.Type), e.ActorID, s.d.time(e.TS), string(e.Data))
	return e, dbErr(err)
}

// Events implements taskwire.Reader.
func (s reads) Events(ctx context.Context, projectID, since int64, n int) ([]taskwire.Event, error) {
	rows, err := s.query(ctx, `SELECT project_id, seq, type, actor_id, ts, data FROM events
		WHERE project_id = ? AND seq > ? ORDER BY seq`+limit(n), projectID, since)
	return list(rows, err, func(r *sql.Rows) (taskwire.Event, error) {
		var e taskwire.Event
		var data string
		err := r.Scan(&e.ProjectID, &e.Seq, &e.Type, &e.ActorID, nullTime{&e.TS}, &data)
		e.Data = []byte(data)
		return e, err
	})
}

// event reads one event of the log. Returns NotFound if it is not there.
func (s reads) event(ctx context.Context, projectID, seq int64) (taskwire.Event, error) {
	e := taskwire.Event{ProjectID: projectID, Seq: seq}
	var data string
	err := s.row(ctx, "SELECT type, actor_id, ts, data FROM events WHERE project_id = ? AND seq = ?", projectID, seq).
		Scan(&e.Type, &e.ActorID, nullTime{&e.TS}, &data)
	e.Data = []byte(data)
	return e, notFound(err, "Event not found")
}

// FirstEventSince implements taskwire.Reader.
func (s reads) FirstEventSince(ctx context.Context, projectID int64, t time.Time) (int64, error) {
	var seq int64
	err := s.row(ctx, "SELECT seq FROM events WHERE project_id = ? AND ts >= ? ORDER BY seq LIMIT 1",
		projectID, s.d.time(t)).Scan(&seq)
	if err == sql.ErrNoRows {
		return 0, nil
	}
	return seq, dbErr(err)
}
