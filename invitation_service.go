package taskwire

import (
	"context"
	"strings"
)

// CreateInvitation invites an address to a project: it stores the
// invitation, which replaces any pending one to the same address
// (compared case-insensitively) in the project, and enqueues the email
// with its link in the same unit of work. Only the owner may. Returns
// Invalid for a bad address; NotFound; Forbidden; Conflict if the address
// is a member's.
func (s *Service) CreateInvitation(ctx context.Context, actor User, projectID int64, email string) (Invitation, error) {
	if err := ValidateEmail(email); err != nil {
		return Invitation{}, err
	}
	token, hash := newInvitationToken()
	var inv Invitation
	err := s.updateProject(ctx, projectID, func(tx Tx) (err error) {
		if _, err := owned(ctx, tx, projectID, actor.ID, "Not authorized to invite to this project"); err != nil {
			return err
		}
		members, err := tx.Members(ctx, projectID)
		if err != nil {
			return err
		}
		for _, m := range members {
			if strings.EqualFold(m.User.Email, email) {
				return Errorf(Conflict, MsgInviteeIsMember)
			}
		}
		now := s.now()
		if err := replacePending(ctx, tx, projectID, email); err != nil {
			return err
		}
		inv, err = tx.CreateInvitation(ctx, Invitation{ProjectID: projectID, Email: email, InvitedBy: actor.ID,
			TokenHash: hash, CreatedAt: now, ExpiresAt: now.Add(s.opts.InvitationTTL)})
		if err != nil {
			return err
		}
		// At once: an invitation is not a change that a later one may
		// make moot, so it waits for no debounce.
		return tx.EnqueueEmail(ctx, EmailJob{Kind: EmailInvitation, ProjectID: projectID, ActorID: actor.ID,
			InvitationID: inv.ID, Token: token, At: now})
	})
	return inv, err
}

// replacePending deletes the project's pending invitations to email, so
// that only the newest link works.
func replacePending(ctx context.Context, tx Tx, projectID int64, email string) error {
	all, err := tx.Invitations(ctx, projectID)
	if err != nil {
		return err
	}
	for _, old := range all {
		if old.AcceptedAt == nil && strings.EqualFold(old.Email, email) {
			if err := tx.DeleteInvitation(ctx, old.ID); err != nil {
				return err
			}
		}
	}
	return nil
}

// Invitations lists a project's invitations, pending, expired and
// accepted, oldest first. Only the owner may. Returns NotFound; Forbidden.
func (s *Service) Invitations(ctx context.Context, actor User, projectID int64) ([]Invitation, error) {
	var out []Invitation
	err := s.store.View(ctx, func(r Reader) (err error) {
		if _, err := owned(ctx, r, projectID, actor.ID, "Not authorized to see this project's invitations"); err != nil {
			return err
		}
		out, err = r.Invitations(ctx, projectID)
		return err
	})
	return out, err
}

// RevokeInvitation deletes an invitation: its link stops working (an
// accepted one only leaves the list; the membership stays). Only the
// project's owner may. Returns NotFound "Invitation not found"; Forbidden.
func (s *Service) RevokeInvitation(ctx context.Context, actor User, id int64) error {
	pre, err := s.store.Invitation(ctx, id)
	if err != nil {
		return err
	}
	return s.updateProject(ctx, pre.ProjectID, func(tx Tx) error {
		inv, err := tx.Invitation(ctx, id)
		if err != nil {
			return err
		}
		if _, err := owned(ctx, tx, inv.ProjectID, actor.ID, "Not authorized to revoke this project's invitations"); err != nil {
			return err
		}
		return tx.DeleteInvitation(ctx, id)
	})
}

// AcceptInvitation makes actor a member of the project an invitation is
// for, through the add-member path (member_added), marks it accepted and
// notifies the project's owner (invitation_accepted), in one unit of
// work, and returns the project. The invitation must be pending and for
// actor's address (case-insensitively). An actor who is a member already
// (added since the invitation was sent) uses it up without a second
// member_added. Returns Gone "Invitation is no longer valid" for a token
// that is unknown, revoked, expired or used (two concurrent accepts: one
// wins, the other gets Gone); Forbidden "This invitation is for another
// email address".
func (s *Service) AcceptInvitation(ctx context.Context, actor User, token string) (Project, error) {
	gone := Errorf(Gone, MsgInvitationGone)
	hash := InvitationTokenHash(token)
	pre, err := s.store.InvitationByToken(ctx, hash)
	if ErrorKind(err) == NotFound {
		return Project{}, gone
	}
	if err != nil {
		return Project{}, err
	}
	var p Project
	err = s.updateProject(ctx, pre.ProjectID, func(tx Tx) error {
		inv, err := tx.LockInvitation(ctx, hash)
		if ErrorKind(err) == NotFound {
			return gone // revoked since, or its project deleted
		}
		if err != nil {
			return err
		}
		now := s.now()
		if !inv.Pending(now) {
			return gone
		}
		if !strings.EqualFold(inv.Email, actor.Email) {
			return Errorf(Forbidden, MsgInvitationOther)
		}
		var isMember bool
		if p, isMember, err = tx.ProjectMembership(ctx, inv.ProjectID, actor.ID); err != nil {
			return err
		}
		if !isMember {
			if _, err := s.addMember(ctx, tx, actor, p, actor); err != nil {
				return err
			}
		}
		if err := tx.AcceptInvitation(ctx, inv.ID, actor.ID, now); err != nil {
			return err
		}
		return s.notify(ctx, tx, actor, p, nil, p.OwnerID, NotifyInvitationAccepted,
			NotificationData{Email: inv.Email, InvitationID: inv.ID})
	})
	if err != nil {
		return Project{}, err
	}
	return p, nil
}

// prepareInvitation decides, when an invitation's job runs, whether its
// email is still due — the invitation is still pending and the token is
// its own — and gathers what it says.
func (s *Service) prepareInvitation(ctx context.Context, job EmailJob) (Email, bool, error) {
	var inv Invitation
	var p Project
	err := s.store.View(ctx, func(r Reader) (err error) {
		if inv, err = r.Invitation(ctx, job.InvitationID); err != nil {
			return err
		}
		p, err = r.Project(ctx, inv.ProjectID)
		return err
	})
	if ErrorKind(err) == NotFound {
		return Email{}, false, nil // revoked or replaced since, or the project deleted
	}
	if err != nil {
		return Email{}, false, err
	}
	if !inv.Pending(s.now()) || InvitationTokenHash(job.Token) != inv.TokenHash {
		return Email{}, false, nil
	}
	actor, err := s.store.UserByID(ctx, job.ActorID)
	if err != nil && ErrorKind(err) != NotFound {
		return Email{}, false, err
	}
	return Email{Kind: EmailInvitation, To: inv.Email, ActorUsername: actor.Username, ProjectID: p.ID,
		ProjectName: p.Name, Token: job.Token, ExpiresAt: inv.ExpiresAt}, true, nil
}
