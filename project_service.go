package taskwire

import (
	"context"
)

// CreateProject creates a project owned by actor, who becomes its first
// member. Returns Invalid.
func (s *Service) CreateProject(ctx context.Context, actor User, in NewProject, idem IdempotencyKey) (Project, error) {
	if err := validateProjectName(in.Name); err != nil {
		return Project{}, err
	}
	if err := validateDescription(in.Description); err != nil {
		return Project{}, err
	}
	var p Project
	err := s.update(ctx, func(tx Tx) (err error) {
		now := s.now()
		p, err = idempotent(ctx, tx, idem, now, nil, func() (Project, error) {
			p, err := tx.CreateProject(ctx, Project{Name: in.Name, Description: in.Description, OwnerID: actor.ID, CreatedAt: now})
			if err != nil {
				return Project{}, err
			}
			return p, tx.AddMember(ctx, p.ID, actor.ID)
		})
		return err
	})
	return p, err
}

// Projects lists the projects actor owns or belongs to, by id.
func (s *Service) Projects(ctx context.Context, actor User, page Page) ([]Project, error) {
	return s.store.ProjectsOf(ctx, actor.ID, page)
}

// Project returns a project and its members as of one read; the project's
// LastSeq is the seq of the newest event they reflect. Returns NotFound;
// Forbidden if actor is not a member.
func (s *Service) Project(ctx context.Context, actor User, id int64) (Project, []Member, error) {
	var p Project
	var ms []Member
	err := s.viewProject(ctx, actor, id, func(r Reader, in Project) (err error) {
		p = in
		ms, err = r.Members(ctx, id)
		return err
	})
	if err != nil {
		return Project{}, nil, err
	}
	return p, ms, nil
}

// UpdateProject renames or re-describes a project. Only the owner may.
// Returns NotFound; Forbidden; Invalid.
func (s *Service) UpdateProject(ctx context.Context, actor User, id int64, patch ProjectPatch) (Project, error) {
	if patch.Name != nil {
		if err := validateProjectName(*patch.Name); err != nil {
			return Project{}, err
		}
	}
	if patch.Description.Set {
		if err := validateDescription(patch.Description.Value); err != nil {
			return Project{}, err
		}
	}
	var p Project
	err := s.updateProject(ctx, id, func(tx Tx) (err error) {
		if p, err = owned(ctx, tx, id, actor.ID, "Not authorized to update this project"); err != nil {
			return err
		}
		changed := false
		if patch.Name != nil && *patch.Name != p.Name {
			p.Name, changed = *patch.Name, true
		}
		if patch.Description.Set && !equalPtr(patch.Description.Value, p.Description) {
			p.Description, changed = patch.Description.Value, true
		}
		if !changed {
			return nil
		}
		if err := tx.UpdateProject(ctx, p); err != nil {
			return err
		}
		_, err = s.emit(ctx, tx, p.ID, actor.ID, EventProjectUpdated, p)
		return err
	})
	return p, err
}

// DeleteProject deletes a project with its tasks and memberships. Only the
// owner may. Returns NotFound; Forbidden.
func (s *Service) DeleteProject(ctx context.Context, actor User, id int64) error {
	return s.updateProject(ctx, id, func(tx Tx) error {
		if _, err := owned(ctx, tx, id, actor.ID, "Not authorized to delete this project"); err != nil {
			return err
		}
		// The event is appended first: appending needs the project row.
		if _, err := s.emit(ctx, tx, id, actor.ID, EventProjectDeleted, projectDeletedData{ID: id}); err != nil {
			return err
		}
		return tx.DeleteProject(ctx, id)
	})
}

// owned loads a project that actor must own. A member who is not the owner
// gets Forbidden with denied; a stranger gets Forbidden "Not a member".
func owned(ctx context.Context, r Reader, projectID, userID int64, denied string) (Project, error) {
	p, err := member(ctx, r, projectID, userID)
	if err != nil {
		return Project{}, err
	}
	if p.OwnerID != userID {
		return Project{}, Errorf(Forbidden, "%s", denied)
	}
	return p, nil
}

// AddMember adds the selected user to a project. Only the owner may.
// Returns NotFound "Project not found"; Forbidden; NotFound "User not
// found"; BadRequest if already a member; Invalid for a bad selector.
func (s *Service) AddMember(ctx context.Context, actor User, projectID int64, sel UserSelector, idem IdempotencyKey) (Member, error) {
	var m Member
	err := s.updateProject(ctx, projectID, func(tx Tx) (err error) {
		var p Project
		var u User
		check := func() (err error) {
			if p, err = tx.Project(ctx, projectID); err != nil {
				return err
			}
			if p.OwnerID != actor.ID {
				return Errorf(Forbidden, "Not authorized to add members to this project")
			}
			if u, err = resolveUser(ctx, tx, sel); err != nil {
				return err
			}
			if ok, err := tx.IsMember(ctx, projectID, u.ID); err != nil {
				return err
			} else if ok {
				return Errorf(BadRequest, "User is already a member of this project")
			}
			return nil
		}
		m, err = idempotent(ctx, tx, idem, s.now(), check, func() (Member, error) {
			return s.addMember(ctx, tx, actor, p, u)
		})
		return err
	})
	return m, err
}

// addMember makes u a member of p in tx, by actor's doing: the row, the
// member_added event, and, unless u is the actor (who joined by accepting
// an invitation), u's notification and email.
func (s *Service) addMember(ctx context.Context, tx Tx, actor User, p Project, u User) (Member, error) {
	if err := tx.AddMember(ctx, p.ID, u.ID); err != nil {
		return Member{}, err
	}
	data := memberAddedData{ProjectID: p.ID, UserID: u.ID, User: UserRef{ID: u.ID, Username: u.Username}}
	e, err := s.emit(ctx, tx, p.ID, actor.ID, EventMemberAdded, data)
	if err != nil {
		return Member{}, err
	}
	if err := s.notify(ctx, tx, actor, p, nil, u.ID, NotifyMemberAdded, NotificationData{}); err != nil {
		return Member{}, err
	}
	if err := s.email(ctx, tx, EmailJob{Kind: NotifyMemberAdded, UserID: u.ID, ProjectID: p.ID, Seq: e.Seq, ActorID: actor.ID}); err != nil {
		return Member{}, err
	}
	return Member{ProjectID: p.ID, UserID: u.ID, User: u}, nil
}

// RemoveMember removes a user from a project: the owner may remove anyone
// but themself, a member may leave. The removed user's tasks in the project
// are unassigned. Returns NotFound; Forbidden; BadRequest for the owner.
func (s *Service) RemoveMember(ctx context.Context, actor User, projectID, userID int64) error {
	return s.updateProject(ctx, projectID, func(tx Tx) error {
		p, err := member(ctx, tx, projectID, actor.ID)
		if err != nil {
			return err
		}
		if actor.ID != userID && actor.ID != p.OwnerID {
			return Errorf(Forbidden, "Not authorized to remove members from this project")
		}
		if userID == p.OwnerID {
			return Errorf(BadRequest, "The project owner cannot be removed")
		}
		if ok, err := tx.IsMember(ctx, projectID, userID); err != nil {
			return err
		} else if !ok {
			return Errorf(NotFound, "User is not a member of this project")
		}
		if err := tx.RemoveMember(ctx, projectID, userID); err != nil {
			return err
		}
		unassigned, err := tx.UnassignTasks(ctx, projectID, userID, s.now())
		if err != nil {
			return err
		}
		for _, t := range unassigned {
			if _, err := s.emit(ctx, tx, projectID, actor.ID, EventTaskUpdated, t); err != nil {
				return err
			}
		}
		if _, err := s.emit(ctx, tx, projectID, actor.ID, EventMemberRemoved, memberRemovedData{ProjectID: projectID, UserID: userID}); err != nil {
			return err
		}
		return s.notify(ctx, tx, actor, p, nil, userID, NotifyMemberRemoved, NotificationData{})
	})
}
