package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/taskwire/taskwire"
)

const apiTokenColumns = "t.id, t.user_id, t.name, t.hash, t.created_at, t.expires_at, t.last_used_at"

// scanAPIToken scans apiTokenColumns followed by the columns of more.
func scanAPIToken(r interface{ Scan(...any) error }, more ...any) (taskwire.APIToken, error) {
	var t taskwire.APIToken
	var expires, used time.Time
	err := r.Scan(append([]any{&t.ID, &t.UserID, &t.Name, &t.Hash, nullTime{&t.CreatedAt}, nullTime{&expires}, nullTime{&used}}, more...)...)
	if !expires.IsZero() {
		t.ExpiresAt = &expires
	}
	if !used.IsZero() {
		t.LastUsedAt = &used
	}
	return t, err
}

// APITokens implements taskwire.Reader.
func (s reads) APITokens(ctx context.Context, userID int64) ([]taskwire.APIToken, error) {
	rows, err := s.query(ctx, "SELECT "+apiTokenColumns+" FROM api_tokens t WHERE t.user_id = ? ORDER BY t.id DESC", userID)
	return list(rows, err, func(r *sql.Rows) (taskwire.APIToken, error) { return scanAPIToken(r) })
}

// APITokenByHash implements taskwire.Reader.
func (s reads) APITokenByHash(ctx context.Context, hash string) (taskwire.APIToken, taskwire.User, error) {
	var u taskwire.User
	t, err := scanAPIToken(s.row(ctx, "SELECT "+apiTokenColumns+", u.id, u.email, u.username, u.hashed_password, u.created_at"+
		" FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.hash = ?", hash),
		&u.ID, &u.Email, &u.Username, &u.HashedPassword, nullTime{&u.CreatedAt})
	if err != nil {
		return taskwire.APIToken{}, taskwire.User{}, notFound(err, taskwire.MsgTokenNotFound)
	}
	return t, u, nil
}

// APITokenOwners implements taskwire.Reader.
func (s reads) APITokenOwners(ctx context.Context, ids []int64) (map[int64]int64, error) {
	return s.seqsByID(ctx, "SELECT id, user_id FROM api_tokens", ids)
}

// CreateAPIToken implements taskwire.Tx.
func (s writes) CreateAPIToken(ctx context.Context, t taskwire.APIToken) (taskwire.APIToken, error) {
	err := s.row(ctx, `INSERT INTO api_tokens (user_id, name, hash, created_at, expires_at, last_used_at)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
		t.UserID, t.Name, t.Hash, s.d.time(t.CreatedAt), s.d.timeOrNull(t.ExpiresAt), s.d.timeOrNull(t.LastUsedAt)).Scan(&t.ID)
	if s.d.isUnique(err) {
		return taskwire.APIToken{}, &taskwire.Error{Kind: taskwire.Conflict, Message: "token hash is taken", Err: err}
	}
	return t, dbErr(err)
}

// DeleteAPIToken implements taskwire.Tx.
func (s writes) DeleteAPIToken(ctx context.Context, userID, id int64) error {
	res, err := s.exec(ctx, "DELETE FROM api_tokens WHERE id = ? AND user_id = ?", id, userID)
	return affected(res, err, taskwire.NotFound, taskwire.MsgTokenNotFound)
}

// TouchAPIToken implements taskwire.Tx.
func (s writes) TouchAPIToken(ctx context.Context, id int64, at time.Time) error {
	_, err := s.exec(ctx, "UPDATE api_tokens SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)",
		s.d.time(at), id, s.d.time(at))
	return dbErr(err)
}
