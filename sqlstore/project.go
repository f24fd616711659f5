package sqlstore

import (
	"context"
	"database/sql"
	"slices"
	"strings"

	"github.com/taskwire/taskwire"
)

const projectColumns = "p.id, p.name, p.description, p.owner_id, p.last_seq, p.created_at"

// scanProject scans projectColumns followed by the columns of more.
func scanProject(r interface{ Scan(...any) error }, more ...any) (taskwire.Project, error) {
	var ps projectScan
	err := r.Scan(append(ps.dest(), more...)...)
	return ps.project(), err
}

// projectScan receives projectColumns in a row that holds more.
type projectScan struct {
	p    taskwire.Project
	desc sql.NullString
}

func (ps *projectScan) dest() []any {
	return []any{&ps.p.ID, &ps.p.Name, &ps.desc, &ps.p.OwnerID, &ps.p.LastSeq, nullTime{&ps.p.CreatedAt}}
}

func (ps *projectScan) project() taskwire.Project {
	ps.p.Description = strPtr(ps.desc)
	return ps.p
}

// Project implements taskwire.Reader.
func (s reads) Project(ctx context.Context, id int64) (taskwire.Project, error) {
	p, err := scanProject(s.row(ctx, "SELECT "+projectColumns+" FROM projects p WHERE p.id = ?", id))
	return p, notFound(err, taskwire.MsgProjectNotFound)
}

// ProjectMembership implements taskwire.Reader.
func (s reads) ProjectMembership(ctx context.Context, projectID, userID int64) (taskwire.Project, bool, error) {
	var member bool
	p, err := scanProject(s.row(ctx, "SELECT "+projectColumns+`,
		EXISTS (SELECT 1 FROM project_members m WHERE m.project_id = p.id AND m.user_id = ?)
		FROM projects p WHERE p.id = ?`, userID, projectID), &member)
	return p, member, notFound(err, taskwire.MsgProjectNotFound)
}

// LastSeqs implements taskwire.Reader.
func (s reads) LastSeqs(ctx context.Context, ids []int64) (map[int64]int64, error) {
	return s.seqsByID(ctx, "SELECT id, last_seq FROM projects", ids)
}

// seqsByID runs "<selectFrom> WHERE id IN (...)", selecting (id, seq), in
// chunks that stay under SQLite's limit on bound parameters, and returns
// seq by id for the rows that exist.
func (s reads) seqsByID(ctx context.Context, selectFrom string, ids []int64) (map[int64]int64, error) {
	out := make(map[int64]int64, len(ids))
	for chunk := range slices.Chunk(ids, 500) {
		args := make([]any, len(chunk))
		for i, id := range chunk {
			args[i] = id
		}
		rows, err := s.query(ctx, selectFrom+" WHERE id IN (?"+strings.Repeat(", ?", len(chunk)-1)+")", args...)
		pairs, err := list(rows, err, func(r *sql.Rows) ([2]int64, error) {
			var p [2]int64
			err := r.Scan(&p[0], &p[1])
			return p, err
		})
		if err != nil {
			return nil, err
		}
		for _, p := range pairs {
			out[p[0]] = p[1]
		}
	}
	return out, nil
}

// ProjectsOf implements taskwire.Reader: the projects the user owns or is a
// member of, by id.
func (s reads) ProjectsOf(ctx context.Context, userID int64, page taskwire.Page) ([]taskwire.Project, error) {
	rows, err := s.query(ctx, "SELECT "+projectColumns+` FROM projects p
		WHERE (p.owner_id = ? OR p.id IN (SELECT project_id FROM project_members WHERE user_id = ?))
		  AND p.id > ?
		ORDER BY p.id`+limit(page.Limit), userID, userID, page.After)
	return list(rows, err, func(r *sql.Rows) (taskwire.Project, error) { return scanProject(r) })
}

// Members implements taskwire.Reader, in the order members joined.
func (s reads) Members(ctx context.Context, projectID int64) ([]taskwire.Member, error) {
	rows, err := s.query(ctx, `SELECT m.project_id, u.id, u.email, u.username
		FROM project_members m JOIN users u ON u.id = m.user_id
		WHERE m.project_id = ? ORDER BY m.id`, projectID)
	return list(rows, err, func(r *sql.Rows) (taskwire.Member, error) {
		var m taskwire.Member
		err := r.Scan(&m.ProjectID, &m.User.ID, &m.User.Email, &m.User.Username)
		m.UserID = m.User.ID
		return m, err
	})
}

// IsMember implements taskwire.Reader.
func (s reads) IsMember(ctx context.Context, projectID, userID int64) (bool, error) {
	return s.isMember(ctx, projectID, userID, "")
}

// LockMember implements taskwire.Tx. FOR KEY SHARE lets other readers and
// assigners in but makes a DELETE of the membership wait for this unit of
// work (SQLite: the single writer excludes it already).
func (s writes) LockMember(ctx context.Context, projectID, userID int64) (bool, error) {
	return s.isMember(ctx, projectID, userID, s.d.forKeyShare)
}

func (s reads) isMember(ctx context.Context, projectID, userID int64, suffix string) (bool, error) {
	var one int
	err := s.row(ctx, "SELECT 1 FROM project_members WHERE project_id = ? AND user_id = ?"+suffix, projectID, userID).Scan(&one)
	if err == sql.ErrNoRows {
		return false, nil
	}
	return err == nil, dbErr(err)
}

// CreateProject implements taskwire.Tx.
func (s writes) CreateProject(ctx context.Context, p taskwire.Project) (taskwire.Project, error) {
	err := s.row(ctx, `INSERT INTO projects (name, description, owner_id, last_seq, created_at, updated_at)
		VALUES (?, ?, ?, 0, ?, ?) RETURNING id`,
		p.Name, p.Description, p.OwnerID, s.d.time(p.CreatedAt), s.d.time(p.CreatedAt)).Scan(&p.ID)
	return p, dbErr(err)
}

// UpdateProject implements taskwire.Tx.
func (s writes) UpdateProject(ctx context.Context, p taskwire.Project) error {
	_, err := s.exec(ctx, "UPDATE projects SET name = ?, description = ?, updated_at = ? WHERE id = ?",
		p.Name, p.Description, s.d.time(timeNow()), p.ID)
	return dbErr(err)
}

// DeleteProject implements taskwire.Tx. Tasks and memberships go with the
// project (ON DELETE CASCADE); its events stay until pruned.
func (s writes) DeleteProject(ctx context.Context, id int64) error {
	_, err := s.exec(ctx, "DELETE FROM projects WHERE id = ?", id)
	return dbErr(err)
}

// AddMember implements taskwire.Tx.
func (s writes) AddMember(ctx context.Context, projectID, userID int64) error {
	_, err := s.exec(ctx, "INSERT INTO project_members (project_id, user_id, created_at) VALUES (?, ?, ?)",
		projectID, userID, s.d.time(timeNow()))
	if s.d.isUnique(err) {
		return taskwire.Errorf(taskwire.BadRequest, "User is already a member of this project")
	}
	return dbErr(err)
}

// RemoveMember implements taskwire.Tx.
func (s writes) RemoveMember(ctx context.Context, projectID, userID int64) error {
	res, err := s.exec(ctx, "DELETE FROM project_members WHERE project_id = ? AND user_id = ?", projectID, userID)
	if err != nil {
		return dbErr(err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return dbErr(err)
	} else if n == 0 {
		return taskwire.Errorf(taskwire.NotFound, "User is not a member of this project")
	}
	return nil
}

func strPtr(s sql.NullString) *string {
	if !s.Valid {
		return nil
	}
	return &s.String
}

func int64Ptr(n sql.NullInt64) *int64 {
	if !n.Valid {
		return nil
	}
	return &n.Int64
}
