package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/taskwire/taskwire"
)

const invitationColumns = "id, project_id, email, invited_by, token_hash, created_at, expires_at, accepted_at, accepted_by"

func scanInvitation(r interface{ Scan(...any) error }) (taskwire.Invitation, error) {
	var inv taskwire.Invitation
	var invitedBy, acceptedBy sql.NullInt64
	var acceptedAt time.Time
	err := r.Scan(&inv.ID, &inv.ProjectID, &inv.Email, &invitedBy, &inv.TokenHash,
		nullTime{&inv.CreatedAt}, nullTime{&inv.ExpiresAt}, nullTime{&acceptedAt}, &acceptedBy)
	inv.InvitedBy, inv.AcceptedBy = invitedBy.Int64, int64Ptr(acceptedBy)
	if !acceptedAt.IsZero() {
		inv.AcceptedAt = &acceptedAt
	}
	return inv, err
}

// Invitation implements taskwire.Reader.
func (s reads) Invitation(ctx context.Context, id int64) (taskwire.Invitation, error) {
	inv, err := scanInvitation(s.row(ctx, "SELECT "+invitationColumns+" FROM invitations WHERE id = ?", id))
	return inv, notFound(err, taskwire.MsgInvitationNotFound)
}

// InvitationByToken implements taskwire.Reader.
func (s reads) InvitationByToken(ctx context.Context, tokenHash string) (taskwire.Invitation, error) {
	return s.invitationByToken(ctx, tokenHash, "")
}

func (s reads) invitationByToken(ctx context.Context, tokenHash, suffix string) (taskwire.Invitation, error) {
	inv, err := scanInvitation(s.row(ctx, "SELECT "+invitationColumns+" FROM invitations WHERE token_hash = ?"+suffix, tokenHash))
	return inv, notFound(err, taskwire.MsgInvitationNotFound)
}

// Invitations implements taskwire.Reader.
func (s reads) Invitations(ctx context.Context, projectID int64) ([]taskwire.Invitation, error) {
	rows, err := s.query(ctx, "SELECT "+invitationColumns+" FROM invitations WHERE project_id = ? ORDER BY id", projectID)
	return list(rows, err, func(r *sql.Rows) (taskwire.Invitation, error) { return scanInvitation(r) })
}

// LockInvitation implements taskwire.Tx (SQLite: the single writer
// already excludes other writers).
func (s writes) LockInvitation(ctx context.Context, tokenHash string) (taskwire.Invitation, error) {
	return s.invitationByToken(ctx, tokenHash, s.d.forUpdate)
}

// CreateInvitation implements taskwire.Tx.
func (s writes) CreateInvitation(ctx context.Context, inv taskwire.Invitation) (taskwire.Invitation, error) {
	var invitedBy any
	if inv.InvitedBy != 0 {
		invitedBy = inv.InvitedBy
	}
	err := s.row(ctx, `INSERT INTO invitations (project_id, email, invited_by, token_hash, created_at, expires_at, accepted_at, accepted_by)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		inv.ProjectID, inv.Email, invitedBy, inv.TokenHash, s.d.time(inv.CreatedAt), s.d.time(inv.ExpiresAt),
		s.d.timeOrNull(inv.AcceptedAt), inv.AcceptedBy).Scan(&inv.ID)
	return inv, dbErr(err)
}

// DeleteInvitation implements taskwire.Tx.
func (s writes) DeleteInvitation(ctx context.Context, id int64) error {
	res, err := s.exec(ctx, "DELETE FROM invitations WHERE id = ?", id)
	return affected(res, err, taskwire.NotFound, taskwire.MsgInvitationNotFound)
}

// AcceptInvitation implements taskwire.Tx. The condition on accepted_at
// makes a second acceptance change nothing, whatever the locks.
func (s writes) AcceptInvitation(ctx context.Context, id, userID int64, at time.Time) error {
	res, err := s.exec(ctx, "UPDATE invitations SET accepted_at = ?, accepted_by = ? WHERE id = ? AND accepted_at IS NULL",
		s.d.time(at), userID, id)
	err = affected(res, err, taskwire.Gone, taskwire.MsgInvitationGone)
	if taskwire.ErrorKind(err) == taskwire.Gone {
		if _, lookErr := s.Invitation(ctx, id); lookErr != nil {
			return lookErr // NotFound
		}
	}
	return err
}
