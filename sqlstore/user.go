package sqlstore

import (
	"context"
	"strings"

	"github.com/taskwire/taskwire"
)

const userColumns = "id, email, username, hashed_password, created_at"

func scanUser(r interface{ Scan(...any) error }) (taskwire.User, error) {
	var u taskwire.User
	err := r.Scan(&u.ID, &u.Email, &u.Username, &u.HashedPassword, nullTime{&u.CreatedAt})
	return u, err
}

func (s reads) userWhere(ctx context.Context, where string, arg any) (taskwire.User, error) {
	u, err := scanUser(s.row(ctx, "SELECT "+userColumns+" FROM users WHERE "+where, arg))
	return u, notFound(err, taskwire.MsgUserNotFound)
}

// UserByID implements taskwire.Reader.
func (s reads) UserByID(ctx context.Context, id int64) (taskwire.User, error) {
	return s.userWhere(ctx, "id = ?", id)
}

// UserByUsername implements taskwire.Reader.
func (s reads) UserByUsername(ctx context.Context, username string) (taskwire.User, error) {
	return s.userWhere(ctx, "username = ?", username)
}

// UserByEmail implements taskwire.Reader.
func (s reads) UserByEmail(ctx context.Context, email string) (taskwire.User, error) {
	return s.userWhere(ctx, "email = ?", email)
}

// CreateUser implements taskwire.Tx.
func (s writes) CreateUser(ctx context.Context, u taskwire.User) (taskwire.User, error) {
	err := s.row(ctx, `INSERT INTO users (email, username, hashed_password, created_at)
		VALUES (?, ?, ?, ?) RETURNING id`,
		u.Email, u.Username, u.HashedPassword, s.d.time(u.CreatedAt)).Scan(&u.ID)
	if s.d.isUnique(err) {
		// Both dialects name the index or column in the message.
		field := "username"
		if strings.Contains(err.Error(), "email") {
			field = "email"
		}
		return taskwire.User{}, &taskwire.Error{Kind: taskwire.Conflict, Field: field, Message: field + " is taken"}
	}
	return u, dbErr(err)
}
