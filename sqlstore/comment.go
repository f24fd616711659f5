package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/taskwire/taskwire"
)

const commentColumns = "c.id, c.task_id, c.project_id, c.author_id, c.body, c.mentions, c.created_at, c.updated_at"

// scanComment scans commentColumns followed by the columns of more.
func scanComment(r interface{ Scan(...any) error }, more ...any) (taskwire.Comment, error) {
	var c taskwire.Comment
	var mentions string
	err := r.Scan(append([]any{&c.ID, &c.TaskID, &c.ProjectID, &c.AuthorID, &c.Body, &mentions,
		nullTime{&c.CreatedAt}, nullTime{&c.UpdatedAt}}, more...)...)
	if err != nil {
		return taskwire.Comment{}, err
	}
	c.Mentions = []int64{}
	if err := json.Unmarshal([]byte(mentions), &c.Mentions); err != nil {
		return taskwire.Comment{}, fmt.Errorf("sqlstore: mentions of comment %d: %w", c.ID, err)
	}
	return c, nil
}

// Comment implements taskwire.Reader.
func (s reads) Comment(ctx context.Context, id int64) (taskwire.Comment, error) {
	c, err := scanComment(s.row(ctx, "SELECT "+commentColumns+" FROM comments c WHERE c.id = ?", id))
	return c, notFound(err, taskwire.MsgCommentNotFound)
}

// Comments implements taskwire.Reader.
func (s reads) Comments(ctx context.Context, taskID int64, page taskwire.Page) ([]taskwire.Comment, error) {
	rows, err := s.query(ctx, "SELECT "+commentColumns+" FROM comments c WHERE c.task_id = ? AND c.id > ? ORDER BY c.id"+limit(page.Limit),
		taskID, page.After)
	return list(rows, err, func(r *sql.Rows) (taskwire.Comment, error) { return scanComment(r) })
}

// LockComment implements taskwire.Tx. Only the comment row is locked
// (SQLite's single writer already excludes other writers); the project and
// the membership are read as of the statement.
func (s writes) LockComment(ctx context.Context, id, userID int64) (taskwire.Comment, taskwire.Project, bool, error) {
	lock := ""
	if s.d.forUpdate != "" {
		lock = s.d.forUpdate + " OF c"
	}
	var ps projectScan
	var member bool
	c, err := scanComment(s.row(ctx, "SELECT "+commentColumns+", "+projectColumns+`,
		EXISTS (SELECT 1 FROM project_members m WHERE m.project_id = p.id AND m.user_id = ?)
		FROM comments c JOIN projects p ON p.id = c.project_id WHERE c.id = ?`+lock, userID, id),
		append(ps.dest(), &member)...)
	return c, ps.project(), member, notFound(err, taskwire.MsgCommentNotFound)
}

// CreateComment implements taskwire.Tx.
func (s writes) CreateComment(ctx context.Context, c taskwire.Comment) (taskwire.Comment, error) {
	if c.Mentions == nil {
		c.Mentions = []int64{}
	}
	err := s.row(ctx, `INSERT INTO comments (task_id, project_id, author_id, body, mentions, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		c.TaskID, c.ProjectID, c.AuthorID, c.Body, jsonArray(c.Mentions), s.d.time(c.CreatedAt), s.d.time(c.UpdatedAt)).Scan(&c.ID)
	return c, dbErr(err)
}

// UpdateComment implements taskwire.Tx.
func (s writes) UpdateComment(ctx context.Context, c taskwire.Comment) error {
	_, err := s.exec(ctx, "UPDATE comments SET body = ?, mentions = ?, updated_at = ? WHERE id = ?",
		c.Body, jsonArray(c.Mentions), s.d.time(c.UpdatedAt), c.ID)
	return dbErr(err)
}

// DeleteComment implements taskwire.Tx.
func (s writes) DeleteComment(ctx context.Context, id int64) error {
	_, err := s.exec(ctx, "DELETE FROM comments WHERE id = ?", id)
	return dbErr(err)
}
